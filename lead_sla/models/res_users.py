from odoo import models


class ResUsers(models.Model):
    _inherit = "res.users"

    def _lead_sla_overdue_leads(self):
        """Overdue leads this user must hear about (exception report)."""
        self.ensure_one()
        # sudo: the report mailed to a manager lists the leads of their team,
        # whoever owns them (rendered by the exception report's cron)
        Lead = self.env["crm.lead"].sudo()
        ids = self.env.context.get("lead_sla_overdue_ids")
        if ids is not None:
            return Lead.browse(ids).exists()
        leads = Lead.search(Lead._lead_sla_overdue_domain(), order="sla_deadline")
        return leads.filtered(lambda lead: self in lead._lead_sla_managers())

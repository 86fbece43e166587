from odoo import models
from odoo.tools.sql import create_index

OPEN = "active AND (probability IS NULL OR probability < 100)"  # = OPEN_LEAD_DOMAIN


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def init(self):
        super().init()
        # The dashboard counts the open leads of every agent against their cap,
        # the unassigned ones and the overdue ones. Open leads are a small part
        # of a CRM's history: these partial indexes read them without visiting
        # the closed leads (PostgreSQL proves that the ORM's open-lead
        # condition implies the index's). Created here because no field
        # declaration can express them.
        create_index(self.env.cr, "crm_lead_dashboard_open_user_idx", self._table,
                     ["user_id", "company_id"], where=OPEN)
        create_index(self.env.cr, "crm_lead_dashboard_overdue_idx", self._table,
                     ["team_id", "company_id"], where="sla_status = 'breached' AND " + OPEN)

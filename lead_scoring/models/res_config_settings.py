from odoo import _, api, fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    # Not related fields: the two thresholds are checked together, so they are
    # written to the company in one write (a related field writes one by one).
    lead_hot_threshold = fields.Integer(string="Hot Lead Threshold")
    lead_warm_threshold = fields.Integer(string="Warm Lead Threshold")
    lead_budget_fit_min = fields.Monetary(
        related="company_id.lead_budget_fit_min", readonly=False,
        currency_field="lead_company_currency_id")
    lead_company_currency_id = fields.Many2one(related="company_id.currency_id")
    lead_read_signals = fields.Boolean(related="company_id.lead_read_signals", readonly=False)

    @api.model
    def get_values(self):
        res = super().get_values()
        company = self.env.company
        res.update(lead_hot_threshold=company.lead_hot_threshold,
                   lead_warm_threshold=company.lead_warm_threshold)
        return res

    def set_values(self):
        super().set_values()
        company = self.company_id
        vals = {
            "lead_hot_threshold": self.lead_hot_threshold,
            "lead_warm_threshold": self.lead_warm_threshold,
        }
        if any(company[key] != value for key, value in vals.items()):
            company.write(vals)

    def action_lead_scoring_rules(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.lead_scoring_rule_action")

    def action_lead_recommended_pipeline(self):
        """Set the shared stages to the recommended pipeline (see crm.stage)."""
        kept = self.env["crm.stage"]._lead_apply_recommended_pipeline()
        message = _("The pipeline is now: New Lead, Contacted, Qualified, "
                    "Proposal / Presentation, Negotiation, Won.")
        if kept:
            message += " " + _("Kept after Won because leads are in them: %s. Move their leads, "
                               "then delete them.", ", ".join(kept.mapped("name")))
        return {
            "type": "ir.actions.client", "tag": "display_notification",
            "params": {"title": _("Recommended pipeline"), "message": message,
                       "type": "warning" if kept else "success", "sticky": bool(kept),
                       "next": {"type": "ir.actions.client", "tag": "reload"}},
        }

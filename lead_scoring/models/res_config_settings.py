from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lead_hot_threshold = fields.Integer(
        related="company_id.lead_hot_threshold", readonly=False)
    lead_warm_threshold = fields.Integer(
        related="company_id.lead_warm_threshold", readonly=False)
    lead_budget_fit_min = fields.Monetary(
        related="company_id.lead_budget_fit_min", readonly=False,
        currency_field="lead_company_currency_id")
    lead_company_currency_id = fields.Many2one(related="company_id.currency_id")

    def action_lead_scoring_rules(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.lead_scoring_rule_action")

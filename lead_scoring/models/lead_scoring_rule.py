from odoo import _, api, fields, models


class LeadScoringRule(models.Model):
    _name = "lead.scoring.rule"
    _description = "Lead Scoring Rule"
    _inherit = ["mail.thread", "lead.domain.rule.mixin"]
    _lead_cache_neutral_fields = frozenset({"description"})
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    points = fields.Integer(
        required=True, tracking=True,
        help="Points added to the score of every lead matching the rule (may be negative).")
    domain = fields.Char(
        string="Applies to", required=True, default="[]", tracking=True,
        help="Leads matching this filter earn the rule's points.")
    description = fields.Text(
        help="Why this signal matters: shown to salespeople next to the score.")
    company_id = fields.Many2one(
        "res.company", index=True,
        help="Leave empty to apply the rule to every company.")

    def _lead_rule_kind(self):
        return _("scoring rule")

    @api.model_create_multi
    def create(self, vals_list):
        rules = super().create(vals_list)
        self.env["crm.lead"]._lead_scoring_request_rescore()
        return rules

    def write(self, vals):
        res = super().write(vals)
        if {"points", "domain", "active", "company_id", "name", "sequence"} & set(vals):
            self.env["crm.lead"]._lead_scoring_request_rescore()
        return res

    def unlink(self):
        res = super().unlink()
        self.env["crm.lead"]._lead_scoring_request_rescore()
        return res

    def action_open_health(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.lead_scoring_health_action")

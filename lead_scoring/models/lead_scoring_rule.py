from ast import literal_eval

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression

from ..core.scoring import fields_of_domain


class LeadScoringRule(models.Model):
    _name = "lead.scoring.rule"
    _description = "Lead Scoring Rule"
    _inherit = ["mail.thread", "lead.cached.config.mixin"]
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

    def _get_domain(self):
        self.ensure_one()
        return literal_eval(self.domain or "[]")

    @api.constrains("domain")
    def _check_domain(self):
        Lead = self.env["crm.lead"].with_context(active_test=False)
        for rule in self:
            try:
                domain = literal_eval(rule.domain or "[]")
                if not isinstance(domain, (list, tuple)):
                    raise ValueError(_("a domain is a list of conditions, got %s", type(domain).__name__))
                domain = expression.normalize_domain(domain)
                # compiling the query checks every field, path and operator
                Lead._search(domain, limit=1)
            except (ValueError, SyntaxError, TypeError, KeyError, AssertionError) as e:
                raise ValidationError(_(
                    "The filter of the scoring rule '%(rule)s' is invalid: %(error)s",
                    rule=rule.name, error=e)) from e

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

    def _read_fields(self):
        """Lead fields the given rules read (first element of each path)."""
        names = set()
        for rule in self:
            try:
                names |= fields_of_domain(rule._get_domain())
            except (ValueError, SyntaxError):
                continue
        return names

    def action_open_health(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "lead_scoring.lead_scoring_health_action")

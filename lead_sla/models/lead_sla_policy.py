from ast import literal_eval

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class LeadSlaPolicy(models.Model):
    _name = "lead.sla.policy"
    _description = "Lead Response SLA Policy"
    _inherit = ["lead.cached.config.mixin"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10, help="The first matching policy applies.")
    company_id = fields.Many2one(
        "res.company", string="Company", index=True,
        help="Leave empty to apply the policy in every company.")
    domain = fields.Char(
        string="Applies To", default="[]", required=True,
        help="Which leads this policy applies to (tier, team, channel...).")
    response_minutes = fields.Integer(
        string="Response Time (minutes)", default=60,
        help="Working minutes the owner has to respond. 0 = no response clock "
        "(nurture: follow-up activities only).")
    warn_minutes = fields.Integer(
        string="Warn Before (minutes)", default=15,
        help="How long before the deadline the owner is warned. 0 = no warning.")
    calendar_id = fields.Many2one(
        "resource.calendar", string="Working Hours",
        help="Count only the working time of this calendar (in its time zone): an enquiry "
        "at 23:00 is due the next working morning. Empty = the clock runs 24/7.")
    escalate_user_ids = fields.Many2many(
        "res.users", "lead_sla_policy_escalate_rel", "policy_id", "user_id",
        string="Escalate To", domain=[("share", "=", False)],
        help="Notified at breach and in the exception report, with the team leader.")
    reassign_on_breach = fields.Boolean(
        help="At breach, reroute the lead through the distribution rules to another "
        "salesperson, with a fresh clock.")
    max_reassign = fields.Integer(
        string="Max Reassignments", default=1,
        help="How many times one lead may be reassigned on breach.")
    nurture_days = fields.Integer(
        string="Nurture Every (days)", default=0,
        help="Without a response clock: schedule a follow-up activity every N days "
        "until the lead is worked. 0 = none.")
    lead_count = fields.Integer(compute="_compute_lead_count", string="Running Clocks")

    _sql_constraints = [
        ("response_minutes_positive", "CHECK(response_minutes >= 0)",
         "The response time cannot be negative."),
        ("warn_minutes_positive", "CHECK(warn_minutes >= 0)",
         "The warning time cannot be negative."),
        ("max_reassign_positive", "CHECK(max_reassign >= 0)",
         "The maximum number of reassignments cannot be negative."),
        ("nurture_days_positive", "CHECK(nurture_days >= 0)",
         "The nurture interval cannot be negative."),
    ]

    def _compute_lead_count(self):
        counts = dict(self.env["crm.lead"]._read_group(
            [("sla_policy_id", "in", self.ids), ("sla_status", "in", ("running", "warning"))],
            ["sla_policy_id"], ["__count"]))
        for policy in self:
            policy.lead_count = counts.get(policy, 0)

    def _get_domain(self):
        self.ensure_one()
        return literal_eval(self.domain or "[]")

    @api.constrains("domain")
    def _check_domain(self):
        Lead = self.env["crm.lead"]
        for policy in self:
            try:
                domain = literal_eval(policy.domain or "[]")
                Lead.search_count(domain, limit=1)
                Lead.browse().filtered_domain(domain)
            except Exception as e:  # any malformed domain is refused, with its reason
                raise ValidationError(_(
                    "The domain of SLA policy %(policy)s is invalid: %(error)s",
                    policy=policy.name, error=e)) from e

    @api.constrains("response_minutes", "warn_minutes", "reassign_on_breach", "max_reassign")
    def _check_minutes(self):
        for policy in self:
            if policy.response_minutes and policy.warn_minutes >= policy.response_minutes:
                raise ValidationError(_(
                    "SLA policy %(policy)s: the warning (%(warn)s min before the deadline) must "
                    "be shorter than the response time (%(resp)s min).",
                    policy=policy.name, warn=policy.warn_minutes, resp=policy.response_minutes))
            if policy.reassign_on_breach and not policy.response_minutes:
                raise ValidationError(_(
                    "SLA policy %(policy)s has no response clock, so it cannot reassign on breach.",
                    policy=policy.name))


    def action_view_leads(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action.update({
            "domain": [("sla_policy_id", "=", self.id)],
            "context": {"search_default_sla_open_clock": 1},
            "name": self.name,
        })
        return action

import logging

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..vocabulary import OPEN_CLOCK

_logger = logging.getLogger(__name__)

# The shipped policies as version 18.0.1.0.0 first installed them, and their
# values since (issue 11): a database whose policy still has the old values
# (the admin did not change it) gets the new ones on update.
SHIPPED_POLICIES = {
    "lead_sla.sla_policy_hot": (
        {"response_minutes": 5, "warn_minutes": 2, "calendar_id": False},
        {}),
    "lead_sla.sla_policy_warm": (
        {"response_minutes": 60, "warn_minutes": 15, "calendar_id": False},
        {}),
    "lead_sla.sla_policy_cold": (
        {"response_minutes": 0, "warn_minutes": 0, "calendar_id": False},
        {"response_minutes": 60, "warn_minutes": 15}),
}
SHIPPED_DEFAULTS_PARAM = "lead_sla.shipped_defaults"
SHIPPED_DEFAULTS_VERSION = "2"


class LeadSlaPolicy(models.Model):
    _name = "lead.sla.policy"
    _description = "Lead Response SLA Policy"
    _inherit = ["lead.domain.rule.mixin"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10, help="The first matching policy applies.")
    company_id = fields.Many2one(
        "res.company", string="Company", index=True,
        help="Leave empty to apply the policy in every company.")
    domain = fields.Char(
        string="Applies To", help="Which leads this policy applies to (tier, team, channel...).")
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
        help="Schedule a follow-up activity every N days while the lead has no next step "
        "and no first response. 0 = none.")
    lead_count = fields.Integer(compute="_compute_lead_count", string="Running Clocks")
    breach_recipients = fields.Char(
        compute="_compute_breach_recipients", string="Told at Breach",
        help="Who is notified when a clock of this policy runs out.")

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
            [("sla_policy_id", "in", self.ids), ("sla_status", "in", OPEN_CLOCK)],
            ["sla_policy_id"], ["__count"]))
        for policy in self:
            policy.lead_count = counts.get(policy, 0)

    def _lead_rule_kind(self):
        return _("SLA policy")

    @api.depends("escalate_user_ids")
    @api.depends_context("company")
    def _compute_breach_recipients(self):
        managers = self.env["crm.lead"]._lead_sla_company_managers(self.env.company.id)
        fallback = _(
            "the team's sales managers; without any, the company's sales managers (%s)",
            ", ".join(managers.mapped("name")) or _("none: add a user to Sales / Administrator"))
        for policy in self:
            users = policy.escalate_user_ids
            if users:
                policy.breach_recipients = _(
                    "%(users)s and the lead's team leader.",
                    users=", ".join(users.mapped("name")))
            else:
                policy.breach_recipients = _(
                    "The lead's team leader; a team without a leader: %(fallback)s.",
                    fallback=fallback)

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

    @api.model
    def _lead_sla_apply_shipped_defaults(self):
        """Run from data on install and update (once per version of the
        defaults): the shipped policies the admin did not change get the
        current shipped values and follow the company's working hours, then
        assigned leads without a clock get one from now (issue 11)."""
        # sudo: a system parameter, read and set by the module update
        ICP = self.env["ir.config_parameter"].sudo()
        if ICP.get_param(SHIPPED_DEFAULTS_PARAM) == SHIPPED_DEFAULTS_VERSION:
            return False
        calendar = self.env.company.resource_calendar_id
        for xmlid, (old, new) in SHIPPED_POLICIES.items():
            policy = self.env.ref(xmlid, raise_if_not_found=False)
            if not policy or any(policy[f] != v if f != "calendar_id" else policy[f].id != v
                                 for f, v in old.items()):
                continue  # deleted or changed by the admin: left as it is
            policy.write(dict(new, calendar_id=calendar.id))
            _logger.info("lead_sla: shipped policy %s updated to the current defaults", xmlid)
        ICP.set_param(SHIPPED_DEFAULTS_PARAM, SHIPPED_DEFAULTS_VERSION)
        self.env["crm.lead"]._lead_sla_start_missing_clocks()
        return True

    def action_view_leads(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action.update({
            "domain": [("sla_policy_id", "=", self.id)],
            "context": {"search_default_sla_open_clock": 1},
            "name": self.name,
        })
        return action

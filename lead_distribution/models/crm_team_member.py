from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    lead_skill_ids = fields.Many2many(
        "lead.skill", "crm_team_member_lead_skill_rel", "member_id", "skill_id", string="Skills")
    lead_territory_ids = fields.Many2many(
        "lead.territory", "crm_team_member_lead_territory_rel", "member_id", "territory_id",
        string="Territories")
    lead_weight = fields.Float(
        string="Routing Weight", default=1.0,
        help="Share of leads in weighted rotation, e.g. 1.25 for a top closer.")
    lead_max_open = fields.Integer(
        string="Max Open Leads", default=0,
        help="Skip this agent while they own this many open leads (0 = no cap).")
    lead_available = fields.Boolean(
        string="Available for Leads", default=True,
        help="Switch off to stop receiving routed leads (away).")

    @api.constrains("lead_weight", "lead_max_open")
    def _check_lead_routing_numbers(self):
        for member in self:
            if member.lead_weight <= 0:
                raise ValidationError(_(
                    "The routing weight of %s must be greater than 0 (got %s).",
                    member.user_id.name, member.lead_weight))
            if member.lead_max_open < 0:
                raise ValidationError(_(
                    "The maximum of open leads of %s cannot be negative (0 means no cap).",
                    member.user_id.name))

    def write(self, vals):
        res = super().write(vals)
        # an agent coming back or getting room: route the waiting leads now
        if vals.get("lead_available") or "lead_max_open" in vals:
            cron = self.env.ref("lead_distribution.ir_cron_route_backlog", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger()
        return res

    def action_lead_toggle_available(self):
        for member in self:
            member.lead_available = not member.lead_available
        return True

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..core.performance import TIER_1

PERFORMANCE_TIERS = [("1", "Tier 1"), ("2", "Tier 2")]


class CrmTeamMember(models.Model):
    _inherit = "crm.team.member"

    lead_skill_ids = fields.Many2many(
        "lead.skill", "crm_team_member_lead_skill_rel", "member_id", "skill_id", string="Skills")
    lead_territory_ids = fields.Many2many(
        "lead.territory", "crm_team_member_lead_territory_rel", "member_id", "territory_id",
        string="Territories")
    lead_weight = fields.Float(
        string="Routing Weight", default=1.0,
        help="Share of leads in weighted rotation, e.g. 1.25 for a top closer. Set by the "
        "system when the team's performance weighting is on.")
    lead_max_open = fields.Integer(
        string="Max Open Leads", default=0,
        help="Skip this agent while they own this many open leads (0 = no cap).")
    lead_available = fields.Boolean(
        string="Available for Leads", default=True,
        help="Switch off to stop receiving routed leads (away).")

    # performance figures, written by crm.team.action_lead_update_performance
    lead_closed_count = fields.Integer(
        string="Closed Leads", readonly=True,
        help="Leads of this team owned by this agent, won or lost within the team's "
        "performance window (by closing date).")
    lead_won_count = fields.Integer(string="Won Leads", readonly=True)
    lead_conversion_rate = fields.Float(
        string="Conversion Rate (%)", readonly=True, digits=(16, 1),
        help="Won / closed leads within the window, in percent.")
    lead_performance_tier = fields.Selection(
        PERFORMANCE_TIERS, string="Tier", readonly=True,
        help="Tier 1: at least the team's minimum of closed leads and a conversion rate at "
        "or above the team's own rate over the same window. Everyone else: tier 2.")
    lead_manual_weight = fields.Float(
        string="Manual Weight", default=1.0, readonly=True,
        help="The weight typed by hand, restored when performance weighting is switched off.")
    lead_weight_managed = fields.Boolean(
        related="crm_team_id.lead_performance_weighting", string="Weight Set by Performance")
    lead_weight_reason = fields.Char(
        string="Weight Reason", compute="_compute_lead_weight_reason",
        help="Why the system gave this weight (performance weighting).")

    @api.depends("lead_performance_tier", "lead_closed_count", "lead_conversion_rate",
                 "crm_team_id.lead_performance_weighting", "crm_team_id.lead_performance_rate",
                 "crm_team_id.lead_performance_min_closed", "crm_team_id.lead_performance_bonus")
    def _compute_lead_weight_reason(self):
        for member in self:
            team = member.crm_team_id
            if not team.lead_performance_weighting:
                member.lead_weight_reason = False
                continue
            values = {
                "rate": "%.1f" % member.lead_conversion_rate, "closed": member.lead_closed_count,
                "team": "%.1f" % team.lead_performance_rate, "min": team.lead_performance_min_closed,
                "bonus": team.lead_performance_bonus,
            }
            if not member.lead_performance_tier:
                member.lead_weight_reason = _("Performance not computed yet: 1.0 until the next update.")
            elif member.lead_performance_tier == TIER_1:
                member.lead_weight_reason = _(
                    "Tier 1: %(rate)s%% on %(closed)s closed leads (team %(team)s%%, minimum "
                    "%(min)s closed): 1 + %(bonus)s%%.", **values)
            else:
                member.lead_weight_reason = _(
                    "Tier 2: %(rate)s%% on %(closed)s closed leads; tier 1 needs %(min)s closed "
                    "leads and %(team)s%% or more.", **values)

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

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.context.get("lead_distribution_performance"):
            teams = self.env["crm.team"].browse(
                {vals.get("crm_team_id") or self.env.context.get("default_crm_team_id") for vals in vals_list} - {None, False})
            weighted = set(teams.filtered("lead_performance_weighting").ids)
            for vals in vals_list:
                team_id = vals.get("crm_team_id") or self.env.context.get("default_crm_team_id")
                if team_id in weighted:
                    # the system sets the weight (tier 2 until the next update);
                    # the typed one is kept for when weighting is switched off
                    vals["lead_manual_weight"] = vals.get("lead_weight") or 1.0
                    vals["lead_weight"] = 1.0
        return super().create(vals_list)

    def write(self, vals):
        if "lead_weight" in vals and not self.env.context.get("lead_distribution_performance"):
            managed = self.filtered(lambda m: m.crm_team_id.lead_performance_weighting
                                    and m.lead_weight != vals["lead_weight"])
            if managed:
                raise UserError(_(
                    "The routing weight of %(agent)s is set by the performance weighting of team "
                    "%(team)s. Switch performance weighting off on the team to set weights by hand.",
                    agent=managed[0].user_id.name, team=managed[0].crm_team_id.name))
        res = super().write(vals)
        # an agent coming back or getting room: route the waiting leads now
        if vals.get("lead_available") or "lead_max_open" in vals:
            cron = self.env.ref("lead_distribution.ir_cron_route_backlog", raise_if_not_found=False)
            if cron:
                cron.sudo()._trigger()
        return res

    # ------------------------------------------------------------------
    # Availability (issue 11.6: agents switch themselves away and back)
    # ------------------------------------------------------------------
    def action_lead_toggle_available(self):
        """Switch away / back: ``self`` or, when empty (pipeline button), all
        the current user's memberships.

        A salesperson may only switch themselves; managers anyone. All the
        switched memberships end in the same state (away if any was
        available). Going away offers the agent's unanswered hot leads to the
        pool again at once.
        """
        members = self or self.search([("user_id", "=", self.env.uid)])
        if not members:
            raise UserError(_(
                "You are not a member of any sales team, so no lead is routed to you. "
                "Ask a sales manager to add you to a team."))
        user = self.env.user
        colleagues = members.filtered(lambda m: m.user_id != user)
        if colleagues and not user.has_group("sales_team.group_sale_manager"):
            raise AccessError(_(
                "Only a sales manager can switch the availability of a colleague: %(names)s "
                "must do it themselves, or ask a sales manager.",
                names=", ".join(colleagues.user_id.mapped("name"))))
        going_away = any(members.mapped("lead_available"))
        # salespeople cannot write team memberships (sales_team's access
        # rights); they were checked above to switch only their own
        members.sudo().write({"lead_available": not going_away})
        offered = 0
        if going_away:
            offered = self.env["crm.lead"]._lead_distribution_reoffer_hot(members.sudo())
        return members._lead_availability_notification(going_away, offered)

    def _lead_availability_notification(self, away, offered):
        if self.user_id == self.env.user:
            message = _("You are now away: no new lead is routed to you.") if away \
                else _("You are back: leads are routed to you again.")
        else:
            names = ", ".join(self.user_id.mapped("name"))
            message = _("%s is now away: no new lead is routed to them.", names) if away \
                else _("%s is back: leads are routed to them again.", names)
        if offered:
            message += " " + _("%s unanswered hot lead(s) offered to the team again.", offered)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": _("Away") if away else _("Available"),
                "message": message,
                "type": "warning" if away else "success",
                "sticky": False,
                "next": {"type": "ir.actions.client", "tag": "soft_reload"},
            },
        }

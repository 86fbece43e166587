from collections import defaultdict
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError
from odoo.osv import expression

from ..core.performance import Figures, team_tiers

PERFORMANCE_SETTINGS = ("lead_performance_weighting", "lead_performance_days",
                        "lead_performance_bonus", "lead_performance_min_closed")


class CrmTeam(models.Model):
    _inherit = "crm.team"

    lead_performance_weighting = fields.Boolean(
        string="Performance Weighting",
        help="Give tier-1 agents (top closers) a higher routing weight, computed daily from "
        "the team's closed leads. The weights are then set by the system.")
    lead_performance_days = fields.Integer(
        string="Performance Window (days)", default=90,
        help="Leads closed (won or lost) within this many days count.")
    lead_performance_bonus = fields.Float(
        string="Tier 1 Bonus (%)", default=25.0,
        help="Tier-1 agents get a routing weight of 1 + bonus / 100, e.g. 25 % -> 1.25.")
    lead_performance_min_closed = fields.Integer(
        string="Minimum Closed Leads", default=10,
        help="Closed leads an agent needs in the window to reach tier 1.")
    lead_performance_rate = fields.Float(
        string="Team Conversion Rate (%)", readonly=True, digits=(16, 1),
        help="Won / closed leads of the team within the window at the last update: the "
        "threshold of tier 1.")
    lead_performance_date = fields.Datetime(string="Performance Updated On", readonly=True)

    @api.constrains(*PERFORMANCE_SETTINGS)
    def _check_lead_performance_settings(self):
        for team in self:
            if team.lead_performance_days < 1:
                raise ValidationError(_(
                    "The performance window of team %(team)s must be at least 1 day (got %(days)s).",
                    team=team.name, days=team.lead_performance_days))
            if team.lead_performance_min_closed < 1:
                raise ValidationError(_(
                    "Team %(team)s: the minimum of closed leads for tier 1 must be at least 1 "
                    "(got %(value)s).", team=team.name, value=team.lead_performance_min_closed))
            if not 0 <= team.lead_performance_bonus <= 1000:
                raise ValidationError(_(
                    "Team %(team)s: the tier-1 bonus is a percentage between 0 and 1000 "
                    "(got %(value)s), e.g. 25 for a weight of 1.25.",
                    team=team.name, value=team.lead_performance_bonus))

    def write(self, vals):
        switched = {}
        if "lead_performance_weighting" in vals:
            switched = {team.id: team.lead_performance_weighting for team in self}
        res = super().write(vals)
        if switched:
            turned_off = self.filtered(lambda t: switched[t.id] and not t.lead_performance_weighting)
            turned_on = self.filtered(lambda t: not switched[t.id] and t.lead_performance_weighting)
            turned_off._lead_performance_restore_weights()
            for member in turned_on.crm_team_member_ids:
                member.with_context(lead_distribution_performance=True).lead_manual_weight = member.lead_weight
        if any(name in vals for name in PERFORMANCE_SETTINGS):
            weighted = self.filtered("lead_performance_weighting")
            if weighted:
                weighted._lead_update_performance()
        return res

    def _lead_performance_restore_weights(self):
        for member in self.crm_team_member_ids:
            member.with_context(lead_distribution_performance=True).lead_weight = \
                member.lead_manual_weight or 1.0

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_lead_update_performance(self):
        """Button: recompute the tiers (and weights, when weighting is on) now."""
        if not self.env.user.has_group("sales_team.group_sale_manager"):
            raise AccessError(_("Only sales managers can update the performance tiers of a team."))
        self._lead_update_performance()
        return True

    @api.model
    def _cron_lead_update_performance(self):
        """Daily: teams with performance weighting on."""
        teams = self.search([("lead_performance_weighting", "=", True)])
        teams._lead_update_performance()
        self.env["ir.cron"]._notify_progress(done=len(teams), remaining=0)
        return len(teams)

    # ------------------------------------------------------------------
    # Business
    # ------------------------------------------------------------------
    def _lead_update_performance(self, now=None):
        """Figures, tiers and weights of the members of ``self``, then a note.

        One grouped query for all the teams (closed leads per team, owner and
        outcome), the decisions in ``core.performance``, one ORM write per
        distinct set of values, one chatter note per team (a batch).
        """
        if not self:
            return
        now = now or fields.Datetime.now()
        figures = self._lead_performance_figures(now)
        bodies = {}
        words = self._lead_performance_words()
        writes = defaultdict(list)
        for team in self:
            agents, total = figures.get(team.id, ({}, Figures()))
            members = team.crm_team_member_ids
            decided = team_tiers({m.id: agents.get(m.user_id.id, Figures()) for m in members},
                                 total, team.lead_performance_min_closed, team.lead_performance_bonus)
            lines = []
            for member in members:
                mine = agents.get(member.user_id.id, Figures())
                tier, weight = decided[member.id]
                if not team.lead_performance_weighting:
                    weight = member.lead_weight
                vals = {"lead_closed_count": mine.closed, "lead_won_count": mine.won,
                        "lead_conversion_rate": round(mine.rate, 1), "lead_performance_tier": tier,
                        "lead_weight": weight}
                lines.append((member, dict(vals, old_tier=member.lead_performance_tier,
                                           old_weight=member.lead_weight)))
                writes[tuple(sorted(vals.items()))].append(member.id)
            bodies[team.id] = team._lead_performance_note(total, lines, now, words)
        Member = self.env["crm.team.member"].with_context(lead_distribution_performance=True)
        for vals, member_ids in writes.items():
            Member.browse(member_ids).write(dict(vals))
        for team in self:
            total = figures.get(team.id, ({}, Figures()))[1]
            team.with_context(lead_distribution_performance=True).write({
                "lead_performance_rate": round(total.rate, 1), "lead_performance_date": now})
        self._message_log_batch(bodies=bodies)

    def _lead_performance_figures(self, now):
        """{team id: ({user id: Figures}, team Figures)} of leads closed within
        each team's window: ONE grouped query for all the teams.

        Closed = won (active, in a won stage) or lost (archived with
        probability 0, Odoo's lost state), by ``date_closed``; leads without
        owner are left out.
        """
        by_days = defaultdict(list)
        for team in self:
            by_days[team.lead_performance_days].append(team.id)
        window = expression.OR([
            [("team_id", "in", team_ids), ("date_closed", ">=", now - timedelta(days=days))]
            for days, team_ids in by_days.items()])
        domain = expression.AND([window, [
            ("date_closed", "<=", now), ("user_id", "!=", False),
            "|", "&", ("active", "=", True), ("stage_id.is_won", "=", True),
            "&", ("active", "=", False), ("probability", "=", 0),
        ]])
        # figures count every lead of the team, whoever may read them
        Lead = self.env["crm.lead"].sudo().with_context(active_test=False)
        result = {}
        agents = defaultdict(lambda: defaultdict(lambda: [0, 0]))
        for team, user, active, count in Lead._read_group(
                domain, ["team_id", "user_id", "active"], ["__count"]):
            counts = agents[team.id][user.id]
            counts[0] += count
            if active:  # in the domain, active = won
                counts[1] += count
        for team_id, users in agents.items():
            per_user = {user_id: Figures(closed, won) for user_id, (closed, won) in users.items()}
            result[team_id] = (per_user, Figures(sum(f.closed for f in per_user.values()),
                                                 sum(f.won for f in per_user.values())))
        return result

    @api.model
    def _lead_performance_words(self):
        """The note's sentences, translated once per run (not per member)."""
        return {
            "title": _("Performance tiers updated"),
            "criteria": _(
                "Leads closed (won or lost) from %(start)s to %(end)s (%(days)s days). Tier 1: "
                "at least %(min)s closed leads and a conversion rate at or above the team's "
                "%(rate)s%% (%(won)s won of %(closed)s closed). Everyone else: tier 2."),
            "weights": _("Routing weight: tier 1 = %(weight)s (1 + %(bonus)s%% bonus), tier 2 = 1.0."),
            "manual": _("Performance weighting is off: the routing weights are the ones set by hand."),
            "line": _("%(agent)s: %(closed)s closed, %(won)s won, %(rate)s%% - %(tier)s, weight %(weight)s"),
            "tier_was": _("tier was %s"),
            "weight_was": _("weight was %s"),
            "not_computed": _("not computed"),
            "tiers": dict(self.env["crm.team.member"]._fields["lead_performance_tier"]
                          ._description_selection(self.env)),
        }

    def _lead_performance_note(self, total, lines, now, words):
        """The published criteria and figures, changes since the last run marked
        (in bold). Kept to a few tags: the chatter sanitizes every note."""
        self.ensure_one()
        start = now - timedelta(days=self.lead_performance_days)
        parts = [Markup("<p><b>%s</b></p>") % words["title"],
                 Markup("<p>%s</p>") % (words["criteria"] % {
                     "start": fields.Date.to_string(start.date()), "end": fields.Date.to_string(now.date()),
                     "days": self.lead_performance_days, "min": self.lead_performance_min_closed,
                     "rate": "%.1f" % total.rate, "won": total.won, "closed": total.closed})]
        if self.lead_performance_weighting:
            parts.append(Markup("<p>%s</p>") % (words["weights"] % {
                "weight": "%.2f" % (1 + self.lead_performance_bonus / 100.0),
                "bonus": "%g" % self.lead_performance_bonus}))
        else:
            parts.append(Markup("<p>%s</p>") % words["manual"])
        tiers = words["tiers"]
        items = []
        for member, vals in lines:
            line = escape(words["line"] % {
                "agent": member.user_id.name, "closed": vals["lead_closed_count"],
                "won": vals["lead_won_count"], "rate": "%.1f" % vals["lead_conversion_rate"],
                "tier": tiers[vals["lead_performance_tier"]], "weight": "%.2f" % vals["lead_weight"]})
            changes = []
            if vals["old_tier"] != vals["lead_performance_tier"]:
                changes.append(words["tier_was"] % tiers.get(vals["old_tier"], words["not_computed"]))
            if round(vals["old_weight"], 4) != round(vals["lead_weight"], 4):
                changes.append(words["weight_was"] % ("%.2f" % vals["old_weight"]))
            if changes:
                line = Markup("%s <b>(%s)</b>") % (line, "; ".join(changes))
            items.append(Markup("<li>%s</li>") % line)
        parts.append(Markup("<ul>%s</ul>") % Markup("").join(items))
        return Markup("").join(parts)

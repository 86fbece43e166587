from dateutil.relativedelta import relativedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression

from ..core.scoring import (
    MIN_CLOSED, RuleStats, enough_closed, gap_narrowed, suggest_points,
)


class LeadScoringHealth(models.TransientModel):
    _name = "lead.scoring.health"
    _description = "Lead Scoring Health"

    date_from = fields.Date(
        required=True, default=lambda self: fields.Date.context_today(self) - relativedelta(days=90))
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    won_count = fields.Integer(readonly=True)
    lost_count = fields.Integer(readonly=True)
    avg_score_won = fields.Float(readonly=True, digits=(16, 2))
    avg_score_lost = fields.Float(readonly=True, digits=(16, 2))
    score_gap = fields.Float(readonly=True, digits=(16, 2), help="Average score of won minus lost leads.")
    previous_score_gap = fields.Float(
        readonly=True, digits=(16, 2),
        help="The same gap over the previous period of equal length.")
    gap_warning = fields.Char(readonly=True)
    enough_data = fields.Boolean(
        readonly=True, help="Enough won and lost leads closed in the period to measure the rules.")
    data_warning = fields.Char(readonly=True)
    line_ids = fields.One2many("lead.scoring.health.line", "health_id", readonly=True)

    @api.depends("date_from", "date_to")
    def _compute_display_name(self):
        for health in self:
            health.display_name = _("Scoring Health %(start)s → %(end)s",
                                     start=health.date_from, end=health.date_to)

    def _closed_domains(self, date_from, date_to):
        """(won, lost) domains of the period's closed leads: won, or lost with a reason."""
        start = fields.Datetime.to_datetime(date_from)
        end = fields.Datetime.to_datetime(date_to) + relativedelta(days=1)
        base = [("company_id", "in", [self.company_id.id, False]),
                ("date_closed", ">=", start), ("date_closed", "<", end)]
        won = expression.AND([base, [("active", "=", True), ("probability", "=", 100)]])
        lost = expression.AND([base, [
            ("active", "=", False), ("probability", "=", 0), ("lost_reason_id", "!=", False)]])
        return won, lost

    def _count_and_average(self, domain):
        """(count, average score) of the leads of ``domain``, in one grouped
        query: a mature database closes hundreds of thousands in a quarter."""
        Lead = self.env["crm.lead"].with_context(active_test=False)
        [(count, average)] = Lead._read_group(domain, [], ["__count", "lead_score:avg"])
        return count, average or 0.0

    def action_compute(self):
        self.ensure_one()
        won_domain, lost_domain = self._closed_domains(self.date_from, self.date_to)
        won_count, avg_won = self._count_and_average(won_domain)
        lost_count, avg_lost = self._count_and_average(lost_domain)
        gap = avg_won - avg_lost
        length = (self.date_to - self.date_from).days + 1
        prev_won, prev_lost = (self._count_and_average(domain) for domain in self._closed_domains(
            self.date_from - relativedelta(days=length), self.date_from - relativedelta(days=1)))
        prev_gap = None
        if prev_won[0] and prev_lost[0]:
            prev_gap = prev_won[1] - prev_lost[1]
        warning = False
        if prev_gap is not None and gap_narrowed(gap, prev_gap):
            warning = _(
                "The score gap between won and lost leads narrowed from %(prev).1f to %(cur).1f "
                "points against the previous %(days)s days: the rules predict less than before. "
                "Review the suggestions below.", prev=prev_gap, cur=gap, days=length)
        rules = self.env["lead.scoring.rule"].search(
            [("company_id", "in", [self.company_id.id, False])])
        Lead = self.env["crm.lead"].with_context(active_test=False)
        enough = enough_closed(won_count, lost_count)
        data_warning = False if enough else _(
            "Not enough data yet: %(won)s won and %(lost)s lost leads closed in this period. "
            "Win rates and suggested points need at least %(min)s of each; widen the period "
            "or wait for more closed leads.", won=won_count, lost=lost_count, min=MIN_CLOSED)
        lines = [fields.Command.clear()]
        for rule in rules:  # two counts per rule, whatever the number of closed leads
            domain = rule._get_domain()
            stats = RuleStats(
                rule_id=rule.id, points=rule.points,
                matched_won=Lead.search_count(expression.AND([won_domain, domain])),
                matched_lost=Lead.search_count(expression.AND([lost_domain, domain])),
                total_won=won_count, total_lost=lost_count)
            lines.append(fields.Command.create({
                "rule_id": rule.id,
                "current_points": rule.points,
                "matched_count": stats.matched,
                "matched_won": stats.matched_won,
                "win_rate_with": stats.win_rate_with * 100,
                "win_rate_without": stats.win_rate_without * 100,
                "lift": stats.lift if stats.lift not in (None, float("inf")) else 0.0,
                "lift_known": stats.lift not in (None, float("inf")),
                "suggested_points": suggest_points(stats) if enough else rule.points,
            }))
        self.write({
            "won_count": won_count, "lost_count": lost_count,
            "avg_score_won": avg_won, "avg_score_lost": avg_lost, "score_gap": gap,
            "previous_score_gap": prev_gap or 0.0, "gap_warning": warning,
            "enough_data": enough, "data_warning": data_warning,
            "line_ids": lines,
        })
        return self._reopen()

    def action_apply_suggestions(self):
        self.ensure_one()
        if not self.enough_data:
            raise UserError(_(
                "Not enough data yet to recalibrate: %(won)s won and %(lost)s lost leads in the "
                "period, at least %(min)s of each are needed. Widen the period first.",
                won=self.won_count, lost=self.lost_count, min=MIN_CLOSED))
        changed = self.line_ids.filtered(lambda l: l.suggested_points != l.rule_id.points)
        for line in changed:
            old = line.rule_id.points
            line.rule_id.points = line.suggested_points
            line.rule_id.message_post(body=_(
                "Points recalibrated from %(old)s to %(new)s using %(won)s won and %(lost)s lost "
                "leads closed between %(start)s and %(end)s: win rate %(with_rate).0f%% with the "
                "signal, %(without_rate).0f%% without.",
                old=old, new=line.suggested_points, won=self.won_count, lost=self.lost_count,
                start=self.date_from, end=self.date_to,
                with_rate=line.win_rate_with, without_rate=line.win_rate_without))
        return self.action_compute()

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "current",
            "name": _("Scoring Health"),
        }

    @api.model
    def action_open(self):
        health = self.create({})
        return health.action_compute()


class LeadScoringHealthLine(models.TransientModel):
    _name = "lead.scoring.health.line"
    _description = "Lead Scoring Health per Rule"
    _order = "id"

    health_id = fields.Many2one("lead.scoring.health", required=True, ondelete="cascade")
    rule_id = fields.Many2one("lead.scoring.rule", required=True, ondelete="cascade")
    current_points = fields.Integer(string="Points")
    matched_count = fields.Integer(string="Matched", help="Closed leads with the signal.")
    matched_won = fields.Integer(string="Won", help="Won leads among those with the signal.")
    win_rate_with = fields.Float(string="Win % with", digits=(16, 1))
    win_rate_without = fields.Float(string="Win % without", digits=(16, 1))
    lift = fields.Float(digits=(16, 2), help="Win rate with the signal / win rate without it.")
    lift_known = fields.Boolean(help="Both sides have closed leads, so the lift can be measured.")
    suggested_points = fields.Integer(string="Suggested")

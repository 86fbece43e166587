from datetime import datetime, time, timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from ..core import figures
from odoo.addons.lead_distribution.core.fairness import jain_index
from odoo.addons.lead_scoring.vocabulary import TIER_SELECTION

LEAD = "crm.lead"
# leads of every state: lost leads are archived, and they count in the period
ANY_ACTIVE = [("active", "in", [True, False])]
WON = [("active", "=", True), ("probability", ">=", 100)]
LOST = [("active", "=", False), ("probability", "=", 0)]


def fig(value, domain, model=None):
    """A figure the client shows and opens: its value and the domain of the
    records behind it (on ``model``, crm.lead when not given)."""
    figure = {"value": value, "domain": domain}
    if model:
        figure["model"] = model
    return figure


class LeadDashboard(models.AbstractModel):
    """The figures of the Lead Management dashboard, for one period, one team
    (or all) and the companies selected in the switcher.

    Everything is read with the user's rights: record rules apply, so a
    salesperson who sees only their own leads gets figures of their own
    leads. Each figure comes with the domain of the records it counts, which
    the client opens when the figure is clicked. Leads "in the period" are the
    leads created in it; the queue counts (unassigned, overdue, awaiting
    reply) and the open leads per agent are the current state.
    """
    _name = "lead.dashboard"
    _description = "Lead Management Dashboard"

    @api.model
    def get_dashboard_data(self, date_from, date_to, team_id=False):
        """All figures of the dashboard for ISO dates ``date_from`` to
        ``date_to`` (both included, in the user's time zone) and ``team_id``."""
        first, last = self._lead_dashboard_period(date_from, date_to)
        team = self._lead_dashboard_team(team_id)
        scope = self._lead_dashboard_scope(team)
        start, end = self._lead_dashboard_bounds(first, last)
        period = ANY_ACTIVE + [("create_date", ">=", start), ("create_date", "<", end)] + scope
        data = {
            "date_from": fields.Date.to_string(first),
            "date_to": fields.Date.to_string(last),
            "team_id": team.id,
            "teams": [{"id": t.id, "name": t.display_name}
                      for t in self._lead_dashboard_selectable_teams()],
            "is_manager": self._lead_dashboard_is_manager(),
            "currency": self._lead_dashboard_currency(),
        }
        data.update(self._lead_dashboard_pipeline(period))
        data.update(self._lead_dashboard_response(period))
        data.update(self._lead_dashboard_agents(team))
        data["queue"] = self._lead_dashboard_queue(scope)
        data["fairness"] = self._lead_dashboard_fairness(team, first, last)
        data["nurture"] = self._lead_dashboard_nurture(period)
        return data

    # ------------------------------------------------------------------
    # Period, team and scope
    # ------------------------------------------------------------------
    @api.model
    def _lead_dashboard_period(self, date_from, date_to):
        try:
            return figures.parse_period(date_from, date_to)
        except figures.PeriodError as error:
            messages = {
                "format": _("The period must be given as two dates (YYYY-MM-DD), got %(from)s "
                            "and %(to)s.", **{"from": date_from, "to": date_to}),
                "order": _("The period ends (%(to)s) before it starts (%(from)s): pick an end "
                           "date on or after the start date.", **{"from": date_from, "to": date_to}),
                "length": _("The period from %(from)s to %(to)s is longer than %(days)s days: "
                            "pick a shorter one.",
                            **{"from": date_from, "to": date_to, "days": figures.MAX_PERIOD_DAYS}),
            }
            raise UserError(messages[error.code]) from None

    @api.model
    def _lead_dashboard_bounds(self, first, last):
        """UTC datetimes (as strings) of the period's first and day-after-last
        midnights in the user's time zone."""
        tz = pytz.timezone(self.env.context.get("tz") or self.env.user.tz or "UTC")

        def utc(day):
            local = tz.localize(datetime.combine(day, time.min))
            return fields.Datetime.to_string(local.astimezone(pytz.utc).replace(tzinfo=None))
        return utc(first), utc(last + timedelta(days=1))

    @api.model
    def _lead_dashboard_is_manager(self):
        return self.env.user.has_group("sales_team.group_sale_manager")

    @api.model
    def _lead_dashboard_own_teams(self):
        """Teams a salesperson belongs to or leads."""
        user = self.env.user
        return user.crm_team_ids | self.env["crm.team"].search([("user_id", "=", user.id)])

    @api.model
    def _lead_dashboard_selectable_teams(self):
        if self._lead_dashboard_is_manager():
            return self.env["crm.team"].search(
                ["|", ("company_id", "=", False), ("company_id", "in", self.env.companies.ids)])
        return self._lead_dashboard_own_teams()

    @api.model
    def _lead_dashboard_team(self, team_id):
        if not team_id:
            return self.env["crm.team"]
        team = self.env["crm.team"].browse(int(team_id)).exists()
        if not team or team not in self._lead_dashboard_selectable_teams():
            raise AccessError(_(
                "You can only see the dashboard of your own sales teams in the selected "
                "companies: pick one of them, or all teams."))
        return team

    @api.model
    def _lead_dashboard_scope(self, team):
        """Domain of the leads the figures may count (besides record rules)."""
        companies = self.env.companies.ids
        domain = ["|", ("company_id", "=", False), ("company_id", "in", companies)]
        if team:
            domain += [("team_id", "=", team.id)]
        if not self._lead_dashboard_is_manager():
            domain += ["|", ("user_id", "=", self.env.uid),
                       ("team_id", "in", self._lead_dashboard_own_teams().ids)]
        return domain

    @api.model
    def _lead_dashboard_currency(self):
        currency = self.env.company.currency_id
        return {"symbol": currency.symbol, "position": currency.position,
                "digits": currency.decimal_places}

    # ------------------------------------------------------------------
    # Pipeline: channels, sources, stages, revenue, lost reasons
    # ------------------------------------------------------------------
    @api.model
    def _lead_dashboard_pipeline(self, period):
        """Leads, won leads and revenue by channel, source and stage, and the
        lost reasons: three grouped queries."""
        Lead = self.env[LEAD]
        groups = Lead._read_group(period, ["channel_id", "source_id", "stage_id"], ["__count"])
        won_groups = Lead._read_group(
            period + WON, ["channel_id", "source_id"], ["__count", "expected_revenue:sum"])
        lost_groups = Lead._read_group(period + LOST, ["lost_reason_id"], ["__count"])
        total = sum(count for *_keys, count in groups)
        won = sum(row[2] for row in won_groups)
        lost = sum(count for _reason, count in lost_groups)
        no_reason = _("No reason")  # out of the comprehension: _() finds the language in this frame
        return {
            "totals": {
                "leads": fig(total, period),
                "won": fig(won, period + WON),
                "lost": fig(lost, period + LOST),
                "conversion": figures.rate(won, total),
            },
            "channels": self._lead_dashboard_by(period, groups, won_groups, "channel_id", 0),
            "sources": self._lead_dashboard_by(period, groups, won_groups, "source_id", 1),
            "stages": self._lead_dashboard_stages(period, groups, won),
            "lost_reasons": [{
                "id": reason.id,
                "name": reason.name or no_reason,
                "count": fig(count, period + LOST + [("lost_reason_id", "=", reason.id or False)]),
                "share": figures.rate(count, lost),
            } for reason, count in sorted(lost_groups, key=lambda g: -g[1])],
        }

    @api.model
    def _lead_dashboard_by(self, period, groups, won_groups, fname, index):
        """Rows per channel or source: leads, won, conversion and won revenue
        per lead (``index`` is the key's position in the grouped rows)."""
        leads, won, revenue, records = {}, {}, {}, {}
        for row in groups:
            key = row[index]
            records[key.id] = key
            leads[key.id] = leads.get(key.id, 0) + row[3]
        for row in won_groups:
            key = row[index]
            won[key.id] = won.get(key.id, 0) + row[2]
            revenue[key.id] = revenue.get(key.id, 0.0) + (row[3] or 0.0)
        rows = []
        for key_id, count in sorted(leads.items(), key=lambda item: -item[1]):
            record = records[key_id]
            domain = period + [(fname, "=", key_id or False)]
            row = {
                "id": key_id,
                "name": record.display_name if key_id else (
                    _("No channel") if fname == "channel_id" else _("No source")),
                "leads": fig(count, domain),
                "won": fig(won.get(key_id, 0), domain + WON),
                "conversion": figures.rate(won.get(key_id, 0), count),
                "revenue": fig(revenue.get(key_id, 0.0), domain + WON),
                "revenue_per_lead": figures.per_lead(revenue.get(key_id, 0.0), count),
            }
            if fname == "channel_id":
                row["type"] = record.channel_type or False
            rows.append(row)
        return rows

    @api.model
    def _lead_dashboard_stages(self, period, groups, won):
        counts = {}
        for _channel, _source, stage, count in groups:
            if stage:
                counts[stage] = counts.get(stage, 0) + count
        ordered = sorted(counts, key=lambda s: (s.sequence, s.id))
        rows = figures.funnel([(stage.id, counts[stage]) for stage in ordered])
        return [{
            "id": stage.id,
            "name": stage.name,
            "is_won": stage.is_won,
            "current": fig(row["count"], period + [("stage_id", "=", stage.id)]),
            "reached": fig(row["reached"], period + [("stage_id", "in", row["reached_keys"])]),
            "reached_rate": row["reached_rate"],
            # won leads stand in the last (won) stage: they reached every stage
            "win_rate": figures.rate(won, row["reached"]),
        } for stage, row in zip(ordered, rows)]

    # ------------------------------------------------------------------
    # First response and SLA compliance per salesperson
    # ------------------------------------------------------------------
    @api.model
    def _lead_dashboard_response(self, period):
        """Median and p90 first-response time (working minutes, leads with a
        clock that were answered) and SLA compliance per salesperson."""
        Lead = self.env[LEAD]
        assigned = period + [("user_id", "!=", False)]
        statuses = Lead._read_group(assigned, ["user_id", "sla_status"], ["__count"])
        answered = assigned + [("sla_start", "!=", False), ("sla_first_response_date", "!=", False)]
        # percentiles are not among _read_group's aggregates: one query over the
        # ids the ORM selects (record rules included)
        rows = Lead._search(answered).subselect(
            SQL.identifier(Lead._table, "user_id"),
            SQL.identifier(Lead._table, "sla_response_minutes"))
        self.env.cr.execute(SQL("""
            SELECT user_id, COUNT(*),
                   percentile_cont(ARRAY[0.5, 0.9]) WITHIN GROUP (ORDER BY sla_response_minutes)
              FROM %s AS answered
             GROUP BY ROLLUP (user_id)""", rows))
        times = {user_id: (count, *(percentiles or (None, None)))
                 for user_id, count, percentiles in self.env.cr.fetchall()}
        per_user, users = {}, {}
        for user, status, count in statuses:
            users[user.id] = user
            per_user.setdefault(user.id, {})[status or "none"] = count
        rows = []
        for user_id, user in sorted(users.items(), key=lambda item: item[1].name or ""):
            rows.append(self._lead_dashboard_response_row(
                assigned + [("user_id", "=", user_id)], answered + [("user_id", "=", user_id)],
                per_user[user_id], times.get(user_id), user.name))
            rows[-1]["user_id"] = user_id
        overall = {}
        for counts in per_user.values():
            for status, count in counts.items():
                overall[status] = overall.get(status, 0) + count
        total = self._lead_dashboard_response_row(
            assigned, answered, overall, times.get(None), _("All salespeople"))
        return {"salespeople": rows, "response": total}

    @api.model
    def _lead_dashboard_response_row(self, assigned, answered, counts, times, name):
        count, median, p90 = times or (0, None, None)
        comp = figures.compliance(counts)
        decided = list(figures.ON_TIME_STATUSES + figures.LATE_STATUSES
                       + figures.BREACHED_STATUSES)
        return {
            "name": name,
            "answered": fig(count, answered),
            "median": round(median, 1) if median is not None else None,
            "p90": round(p90, 1) if p90 is not None else None,
            "on_time": fig(comp["on_time"], assigned + [
                ("sla_status", "in", list(figures.ON_TIME_STATUSES))]),
            "late": fig(comp["late"], assigned + [
                ("sla_status", "in", list(figures.LATE_STATUSES))]),
            "breached": fig(comp["breached"], assigned + [
                ("sla_status", "in", list(figures.BREACHED_STATUSES))]),
            "decided": fig(comp["decided"], assigned + [("sla_status", "in", decided)]),
            "compliance": comp["rate"],
        }

    # ------------------------------------------------------------------
    # Agents: open leads against capacity, away, tiers
    # ------------------------------------------------------------------
    @api.model
    def _lead_dashboard_members(self, team):
        domain = ["|", ("crm_team_id.company_id", "=", False),
                  ("crm_team_id.company_id", "in", self.env.companies.ids)]
        if team:
            domain += [("crm_team_id", "=", team.id)]
        if not self._lead_dashboard_is_manager():
            domain += ["|", ("user_id", "=", self.env.uid),
                       ("crm_team_id", "in", self._lead_dashboard_own_teams().ids)]
        return domain, self.env["crm.team.member"].search(domain)

    @api.model
    def _lead_dashboard_agents(self, team):
        """Open leads per agent (all their teams: the cap routing applies is
        per person) against their cap, who is away, and the tiers."""
        Member = self.env["crm.team.member"]
        member_domain, members = self._lead_dashboard_members(team)
        # open leads of any team: capacity counts every open lead the agent owns
        open_scope = self.env[LEAD]._lead_open_domain() + self._lead_dashboard_scope(False)
        open_groups = self.env[LEAD]._read_group(
            open_scope + [("user_id", "in", members.user_id.ids)], ["user_id"], ["__count"])
        open_counts = {user.id: count for user, count in open_groups}
        # lead_performance_tier comes from a sibling feature of lead_distribution
        # that may not be installed yet: show tiers only when the field exists
        has_tier = "lead_performance_tier" in Member._fields
        tier_labels = dict(Member._fields["lead_performance_tier"]._description_selection(
            self.env)) if has_tier else {}
        agents = []
        for member in members.sorted(lambda m: (m.crm_team_id.name or "", m.user_id.name or "")):
            count = open_counts.get(member.user_id.id, 0)
            agent = {
                "member_id": member.id,
                "user_id": member.user_id.id,
                "name": member.user_id.name,
                "team": member.crm_team_id.name,
                "open": fig(count, open_scope + [("user_id", "=", member.user_id.id)]),
                "max_open": member.lead_max_open,
                "load": figures.load(count, member.lead_max_open),
                "available": member.lead_available,
                "weight": member.lead_weight,
            }
            if has_tier:
                agent["tier"] = member.lead_performance_tier or False
                agent["tier_label"] = tier_labels.get(member.lead_performance_tier, "")
            agents.append(agent)
        away = members.filtered(lambda m: not m.lead_available)
        result = {
            "agents": agents,
            "away": fig(len(away), member_domain + [("lead_available", "=", False)],
                        "crm.team.member"),
            "tiers": None,
        }
        if has_tier:
            result["tiers"] = [{
                "tier": key,
                "name": label,
                "count": fig(len(members.filtered(lambda m, k=key: m.lead_performance_tier == k)),
                             member_domain + [("lead_performance_tier", "=", key)],
                             "crm.team.member"),
            } for key, label in tier_labels.items()]
        return result

    # ------------------------------------------------------------------
    # Queue, fairness, nurture
    # ------------------------------------------------------------------
    @api.model
    def _lead_dashboard_queue(self, scope):
        """Open leads waiting now: without owner, overdue (clock breached and
        still unanswered) and awaiting a reply on their channel."""
        Lead = self.env[LEAD]
        open_scope = Lead._lead_open_domain() + scope
        queue = {}
        checks = [("unassigned", [("user_id", "=", False)]),
                  ("overdue", [("sla_status", "=", "breached")])]
        # channel_awaiting_reply comes from a sibling feature of lead_channels
        # that may not be installed yet
        if "channel_awaiting_reply" in Lead._fields:
            checks.append(("awaiting", [("channel_awaiting_reply", "=", True)]))
        for key, extra in checks:
            queue[key] = fig(Lead.search_count(open_scope + extra), open_scope + extra)
        queue.setdefault("awaiting", None)
        return queue

    @api.model
    def _lead_dashboard_fairness(self, team, first, last):
        """Jain's index per team over the months the period touches, from
        lead_distribution's fairness report (received vs expected shares)."""
        Fairness = self.env["lead.distribution.fairness"]
        domain = [("month", ">=", fields.Date.to_string(first.replace(day=1))),
                  ("month", "<=", fields.Date.to_string(last)),
                  "|", ("company_id", "=", False), ("company_id", "in", self.env.companies.ids)]
        if team:
            domain += [("team_id", "=", team.id)]
        groups = Fairness._read_group(
            domain, ["team_id", "user_id"], ["received:sum", "expected:sum"])
        teams = {}
        for team_rec, _user, received, expected in groups:
            teams.setdefault(team_rec, []).append((received or 0, expected or 0.0))
        return [{
            "team_id": team_rec.id,
            "name": team_rec.display_name,
            "jain": round(jain_index([r / e if e > 0 else 0.0 for r, e in shares]), 3),
            "agents": len(shares),
            "received": fig(sum(r for r, _e in shares), domain + [("team_id", "=", team_rec.id)],
                            "lead.distribution.fairness"),
        } for team_rec, shares in sorted(teams.items(), key=lambda item: item[0].name or "")]

    @api.model
    def _lead_dashboard_nurture(self, period):
        """Leads of the period enrolled in nurture, those that replied and
        those won; None while the nurture feature is not installed."""
        Lead = self.env[LEAD]
        # nurture_* fields come from a sibling feature of lead_sla that may not
        # be installed yet: the tile shows only when they exist
        if "nurture_sequence_id" not in Lead._fields:
            return None
        enrolled = period + [("nurture_sequence_id", "!=", False)]
        result = {"enrolled": fig(Lead.search_count(enrolled), enrolled), "replied": None,
                  "won": fig(Lead.search_count(enrolled + WON), enrolled + WON)}
        field = Lead._fields.get("nurture_stop_reason")
        if field and field.type == "selection":
            replied_keys = [key for key, _label in field._description_selection(self.env)
                            if "repl" in key]
            if replied_keys:
                replied = enrolled + [("nurture_stop_reason", "in", replied_keys)]
                result["replied"] = fig(Lead.search_count(replied), replied)
        return result

from collections import defaultdict
from datetime import timedelta

import pytz

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression
from odoo.tools import SQL

from ..core.routing import (
    ALL_PASSED, FALLBACK_USER, PICKED, Agent, LeadFacts, Pool, needs_open_counts, route)
from ..vocabulary import RULE_FALLBACK_SELECTION, STRATEGY_SELECTION

SMALL_BATCH = 20  # up to this many leads, rule domains are matched in memory


def _default_fallback(rule):
    """The company's default fallback, when it is one a rule can have."""
    fallback = rule.env.company.lead_distribution_fallback
    return fallback if fallback in dict(RULE_FALLBACK_SELECTION) else "unassigned"


class LeadRoutingRule(models.Model):
    _name = "lead.routing.rule"
    _description = "Lead Routing Rule"
    _inherit = ["lead.domain.rule.mixin"]
    # the rotation sequence changes at every routing: no reason to drop the cache
    _lead_cache_neutral_fields = frozenset({"routing_seq"})
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True)
    domain = fields.Char(
        string="Domain", help="Which leads this rule routes, e.g. [('lead_tier', '=', 'hot')].")
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", required=True, ondelete="cascade",
        check_company=True)
    member_ids = fields.Many2many(
        "crm.team.member", "lead_routing_rule_member_rel", "rule_id", "member_id",
        string="Agents", domain="[('crm_team_id', '=', team_id)]",
        help="Subset of the team's members in the pool; empty = all members.")
    match_skills = fields.Boolean(
        string="Match Skills", help="Only agents having every skill the lead needs.")
    match_territory = fields.Boolean(
        string="Match Territory", help="Only agents covering the lead's territory.")
    strategy = fields.Selection(STRATEGY_SELECTION, required=True, default="round_robin")
    fallback = fields.Selection(
        RULE_FALLBACK_SELECTION, required=True, default=_default_fallback,
        help="What happens when nobody in the pool is available.")
    fallback_user_id = fields.Many2one(
        "res.users", string="Fallback Salesperson", domain="[('share', '=', False)]")
    # bumped under the row lock at each routing: a concurrent REPEATABLE READ
    # transaction that read the old rotation fails and is retried instead of
    # reusing the same slot
    routing_seq = fields.Integer(readonly=True, copy=False, default=0)
    state_ids = fields.One2many("lead.routing.state", "rule_id", string="Rotation State", readonly=True)
    log_count = fields.Integer(compute="_compute_log_count")

    def _lead_rule_kind(self):
        return _("routing rule")

    @api.constrains("fallback", "fallback_user_id")
    def _check_fallback(self):
        for rule in self:
            if rule.fallback == "user" and not rule.fallback_user_id:
                raise ValidationError(_(
                    "Routing rule '%s' falls back to a salesperson: choose the fallback salesperson.",
                    rule.name))

    @api.constrains("member_ids", "team_id")
    def _check_members(self):
        for rule in self:
            if rule.member_ids.filtered(lambda m: m.crm_team_id != rule.team_id):
                raise ValidationError(_(
                    "The agents of routing rule '%s' must be members of its sales team.", rule.name))

    def _compute_log_count(self):
        counts = dict(self.env["lead.assignment.log"]._read_group(
            [("rule_id", "in", self.ids)], ["rule_id"], ["__count"]))
        for rule in self:
            rule.log_count = counts.get(rule, 0)

    # ------------------------------------------------------------------
    # Pool
    # ------------------------------------------------------------------
    def _pool_members(self):
        """Members in the rule's pool (active, in member order)."""
        self.ensure_one()
        members = self.member_ids or self.team_id.crm_team_member_ids
        return members.filtered(lambda m: m.active and m.user_id.active).sorted(
            lambda m: (m.id,))

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_simulate(self):
        self.ensure_one()
        wizard = self.env["lead.routing.simulate"].create({"rule_id": self.id})
        wizard._simulate()
        return {
            "type": "ir.actions.act_window",
            "name": _("Simulation of %s", self.name),
            "res_model": "lead.routing.simulate",
            "res_id": wizard.id,
            "view_mode": "form",
            "target": "new",
        }

    def action_view_logs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "lead_distribution.lead_assignment_log_action")
        action["domain"] = [("rule_id", "=", self.id)]
        return action

    def _match(self, leads, company):
        """Ids of ``leads`` this rule's domain matches.

        A few leads (the creation of one lead, a small import) are matched in
        memory on values the ORM already holds, which saves one query per rule
        on the hot path; batches use one search per rule.  Computed stored
        fields (lead_tier) are computed on access either way.
        """
        self.ensure_one()
        domain = self._matching_domain(company)
        if len(leads) <= SMALL_BATCH:
            try:
                return set(leads.filtered_domain(domain).ids)
            except Exception:  # noqa: BLE001 - an operator filtered_domain lacks: use SQL
                pass
        Lead = self.env["crm.lead"].sudo()
        return set(Lead.search(expression.AND([[("id", "in", leads.ids)], domain])).ids)

    def _match_all(self, leads, company):
        """{rule id: ids of ``leads`` the rule's domain matches}, for all rules
        of ``self``.

        A few leads are matched in memory (see ``_match``).  A batch is matched
        with ONE query for all the rules: each rule's search over the batch
        (the ORM's ``_search``: same active filter, no record rule as
        superuser) becomes a sub-query, read as a boolean column of one scan
        of the batch instead of one search per rule.
        """
        if len(leads) <= SMALL_BATCH:
            return {rule.id: rule._match(leads, company) for rule in self}
        Lead = self.env["crm.lead"].sudo()
        # Each sub-query only has to cover the batch (the outer scan keeps its
        # exact ids): a backlog's batch is a run of consecutive ids, so an id
        # range spares every sub-query the whole list of ids (parsed once per rule)
        low, high = min(leads.ids), max(leads.ids)
        dense = high - low < 2 * len(leads)
        batch = [("id", ">=", low), ("id", "<=", high)] if dense else [("id", "in", leads.ids)]
        matches = {rule.id: set() for rule in self}
        columns = [SQL("%s IN %s", SQL.identifier(Lead._table, "id"), Lead._search(
            expression.AND([batch, rule._matching_domain(company)])).subselect()) for rule in self]
        if not columns:
            return matches
        rows = self.env.execute_query(SQL(
            "SELECT %s, %s FROM %s WHERE %s = ANY(%s)",
            SQL.identifier(Lead._table, "id"), SQL(", ").join(columns),
            SQL.identifier(Lead._table), SQL.identifier(Lead._table, "id"), list(leads.ids)))
        for row in rows:
            for rule, matched in zip(self, row[1:]):
                if matched:
                    matches[rule.id].add(row[0])
        return matches

    def _matching_domain(self, company):
        return expression.AND([self._get_domain(), [
            ("company_id", "in", [company.id, False])]])

    # ------------------------------------------------------------------
    # Routing engine (set-based: one search per rule, one query per kind
    # of data for the whole batch; decisions taken by ..core)
    # ------------------------------------------------------------------
    @api.model
    def _agent_windows(self, users, now):
        """Working-hour and leave intervals around ``now`` per user.

        Returns {user_id: (attendance or None, leaves)} with naive UTC
        datetimes; attendance None = the user has no working calendar.
        Calendars are read with the resource module, in the user's time zone,
        one call per (calendar, time zone).
        """
        start = pytz.utc.localize(now)
        end = start + timedelta(minutes=1)
        result = {}
        groups = defaultdict(lambda: self.env["resource.resource"].sudo())
        no_calendar = self.env["resource.resource"].sudo()
        for user in users:
            resource = user.sudo().resource_ids[:1]
            if not resource:
                result[user.id] = (None, [])
            elif not resource.calendar_id:
                no_calendar |= resource
            else:
                tzname = user.tz or resource.tz or resource.calendar_id.tz or "UTC"
                groups[(resource.calendar_id, tzname)] |= resource

        def naive(intervals):
            return [(s.astimezone(pytz.utc).replace(tzinfo=None),
                     e.astimezone(pytz.utc).replace(tzinfo=None)) for s, e, _rec in intervals]

        for (calendar, tzname), resources in groups.items():
            tz = pytz.timezone(tzname)
            attendance = calendar._attendance_intervals_batch(start, end, resources, tz=tz)
            leaves = calendar._leave_intervals_batch(start, end, resources, tz=tz)
            for resource in resources:
                result[resource.user_id.id] = (naive(attendance[resource.id]), naive(leaves[resource.id]))
        if no_calendar:
            leaves = self.env["resource.calendar.leaves"].sudo().search([
                ("resource_id", "in", no_calendar.ids), ("time_type", "=", "leave"),
                ("date_from", "<=", now), ("date_to", ">", now)])
            for resource in no_calendar:
                own = leaves.filtered(lambda l, r=resource: l.resource_id == r)
                result[resource.user_id.id] = (None, [(l.date_from, l.date_to) for l in own])
        return result

    @api.model
    def _next_shift_start(self, users, now, days=8):
        """Earliest start of working hours after ``now`` among ``users`` (naive
        UTC), or None when none of them has a calendar: one call per calendar."""
        start = pytz.utc.localize(now)
        end = start + timedelta(days=days)
        groups = defaultdict(lambda: self.env["resource.resource"].sudo())
        for user in users:
            resource = user.sudo().resource_ids[:1]
            if resource.calendar_id:
                tzname = user.tz or resource.tz or resource.calendar_id.tz or "UTC"
                groups[(resource.calendar_id, tzname)] |= resource
        best = None
        for (calendar, tzname), resources in groups.items():
            work = calendar._work_intervals_batch(start, end, resources, tz=pytz.timezone(tzname))
            for resource in resources:
                for s, _e, _rec in work[resource.id]:
                    s = s.astimezone(pytz.utc).replace(tzinfo=None)
                    if s > now and (best is None or s < best):
                        best = s
                    if s > now:
                        break
        return best

    @api.model
    def _open_lead_counts(self, users, leads):
        """Open leads per user, ``leads`` (being routed) left out.

        Only called when a strategy or a cap needs it. Read from the counts
        kept per salesperson (``lead.distribution.open.count``): one index
        lookup for the pool, whatever the size of ``crm_lead``.
        """
        if not users:
            return {}
        counts = self.env["lead.distribution.open.count"].sudo()._open_counts(users.ids)
        for lead in leads.sudo().filtered("user_id")._lead_filter_open():
            if lead.user_id.id in counts:
                counts[lead.user_id.id] -= 1
        return counts

    # ------------------------------------------------------------------
    # What routing reads of the batch (then decided by ..core.routing)
    # ------------------------------------------------------------------
    def _routing_pool(self):
        """This rule as ``core.routing`` sees it."""
        self.ensure_one()
        return Pool(
            key=self.id, name=self.name, team_name=self.team_id.name, strategy=self.strategy,
            agents=self._pool_members().ids,
            fallback=self.fallback, fallback_user_id=self.fallback_user_id.id,
            fallback_user_name=self.fallback_user_id.name or "",
            match_skills=self.match_skills, match_territory=self.match_territory)

    @api.model
    def _routing_team_pool(self, team, company):
        """The pool of a sales team when no rule matched its lead (company
        fallback "team"): its members allowed in the lead's company, by round
        robin; None when it has none (the lead then keeps Odoo's behaviour)."""
        members = team.crm_team_member_ids.filtered(
            lambda m: m.active and m.user_id.active and (not company or company in m.user_id.company_ids))
        if not members:
            return None
        return Pool(key=("team", team.id), name=team.name, team_name=team.name,
                    strategy="round_robin", agents=members.sorted("id").ids)

    @api.model
    def _routing_agents(self, pools, now):
        """{member id: Agent} of the agents of ``pools``: one read per kind of data."""
        members = self.env["crm.team.member"].sudo().browse(
            sorted({key for pool in pools.values() for key in pool.agents}))
        windows = self._agent_windows(members.user_id, now)
        agents = {}
        for member in members:
            attendance, leaves = windows.get(member.user_id.id, (None, []))
            agents[member.id] = Agent(
                key=member.id, user_id=member.user_id.id, name=member.user_id.name,
                weight=member.lead_weight, available=member.lead_available,
                max_open=member.lead_max_open, attendance=attendance, leaves=leaves,
                skills=frozenset(member.lead_skill_ids.ids),
                territories=frozenset(member.lead_territory_ids.ids))
        return agents

    @api.model
    def _routing_lock(self, rules, teams):
        """Serialise concurrent routings of the same rules and team pools.

        The rules' rows are locked and their ``routing_seq`` bumped: a
        REPEATABLE READ transaction holding an older snapshot then fails (and
        is retried) instead of handing out the slot another one just gave.
        A team pool has no row of its own: an advisory lock keyed by the team
        serialises it, and its rotation rows (upserted at the end) make a
        stale snapshot fail the same way.
        """
        if rules:
            # FOR UPDATE + bump on our own table: the ORM has no row lock
            self.env.cr.execute(SQL(
                "SELECT id FROM lead_routing_rule WHERE id = ANY(%s) ORDER BY id FOR UPDATE", rules.ids))
            self.env.cr.execute(SQL(
                "UPDATE lead_routing_rule SET routing_seq = routing_seq + 1 WHERE id = ANY(%s)", rules.ids))
            rules.invalidate_recordset(["routing_seq"])
        for team_id in sorted(teams.ids):
            self.env.cr.execute(SQL(
                "SELECT pg_advisory_xact_lock(hashtext('lead_distribution.team_pool'), %s)", team_id))

    @api.model
    def _routing_credits(self, rules, teams):
        """{(pool key, user id): rotation credit} of these rules and team pools."""
        State = self.env["lead.routing.state"].sudo()
        states = State.search_fetch(
            ["|", ("rule_id", "in", rules.ids), "&", ("rule_id", "=", False), ("team_id", "in", teams.ids)],
            ["rule_id", "team_id", "user_id", "current_weight"], order="id")
        return {(s.rule_id.id or ("team", s.team_id.id), s.user_id.id): s.current_weight for s in states}

    def _route_leads(self, leads, now, exclude_user_ids=(), simulate=False, prefix=None,
                     team_lead_ids=()):
        """Decide the owner of each lead through the rules in ``self`` (in order).

        :param team_lead_ids: leads that go to their sales team's pool when no
            rule matches them (company fallback "team")
        :return: (decisions, touched): a list of dicts {lead, rule (maybe
            empty), user (record or False), team, strategy, shares, reason}
            for leads some pool matched (others are absent), and the
            {(pool key, user id): Peer} rotation credits to persist.
        Without ``simulate`` the pools are locked first (``_routing_lock``).
        """
        leads = leads.sudo()
        company = (leads[:1].company_id or self.env.company)
        matches = {rule_id: ids for rule_id, ids in self._match_all(leads, company).items() if ids}
        rules = self.filtered(lambda r: r.id in matches)
        lead_pools = defaultdict(list)
        for rule in rules:
            for lead_id in matches[rule.id]:
                lead_pools[lead_id].append(rule.id)
        team_leads = leads.browse([i for i in team_lead_ids if i not in lead_pools]).filtered(
            lambda lead: lead.team_id and not lead.user_id)
        team_pools = {team.id: self._routing_team_pool(team, leads[:1].company_id)
                      for team in team_leads.team_id}
        teams = self.env["crm.team"].sudo().browse([t for t, pool in team_pools.items() if pool])
        for lead in team_leads.filtered(lambda lead: team_pools[lead.team_id.id]):
            lead_pools[lead.id].append(("team", lead.team_id.id))
        if not lead_pools:
            return [], {}
        if not simulate:
            self._routing_lock(rules, teams)
        pools = {rule.id: rule._routing_pool() for rule in rules}
        pools.update({("team", team_id): pool for team_id, pool in team_pools.items() if pool})
        agents = self._routing_agents(pools, now)
        routed = leads.browse(sorted(lead_pools))
        open_counts = None
        if needs_open_counts(pools.values(), agents):
            open_counts = self._open_lead_counts(self.env["res.users"].browse(
                {agent.user_id for agent in agents.values()}), leads)
        need_skills = any(rule.match_skills for rule in rules)
        need_territory = any(rule.match_territory for rule in rules)
        facts = [LeadFacts(
            id=lead.id, pools=lead_pools[lead.id],
            skills=frozenset(lead.lead_skill_ids.ids) if need_skills else frozenset(),
            territory=lead.lead_territory_id.id if need_territory else 0) for lead in routed]
        decisions, touched = route(facts, pools, agents, now, self._routing_credits(rules, teams),
                                   open_counts, exclude_user_ids)
        return self._routing_results(decisions, pools, rules, prefix), touched

    def _routing_results(self, decisions, pools, rules, prefix):
        """The decisions of ``core.routing`` as records and worded reasons."""
        words = self._routing_words()
        labels = {"skills": dict(self.env["lead.skill"].sudo().search([]).mapped(lambda s: (s.id, s.name)))
                  if any(d.attempt and d.attempt.label_kind == "skills" for d in decisions) else {},
                  "territory": {}}
        territory_ids = {d.attempt.label for d in decisions if d.attempt and d.attempt.label_kind == "territory"}
        territory_ids |= {a.label for d in decisions for a in d.passed if a.label_kind == "territory"}
        if territory_ids:
            labels["territory"] = dict(self.env["lead.territory"].sudo().browse(territory_ids).mapped(
                lambda t: (t.id, t.name)))
        rule_records = {rule.id: rule for rule in rules}
        Users, Teams, Leads = self.env["res.users"], self.env["crm.team"], self.env["crm.lead"]
        results = []
        for d in decisions:
            pool = pools[d.pool]
            reason = self._routing_reason(d, pools, words, labels)
            if prefix:
                reason = "%s: %s" % (prefix, reason)
            rule = rule_records.get(d.pool, self.browse())
            team = rule.team_id if rule else Teams.browse(pool.key[1])
            results.append({
                "lead": Leads.browse(d.lead_id), "rule": rule, "team": team,
                "user": Users.browse(d.user_id) if d.user_id else False,
                "strategy": d.strategy, "shares": d.shares, "reason": reason})
        return results

    # ------------------------------------------------------------------
    # Reasons in words (core gives codes and numbers)
    # ------------------------------------------------------------------
    @api.model
    def _routing_words(self):
        """Translated templates of the routing reasons, once per batch."""
        return {
            "strategy": {"round_robin": _("Round robin"), "weighted": _("Weighted round robin"),
                         "least_loaded": _("Least loaded")},
            "in_pool": _("%(strategy)s in '%(pool)s' pool"),
            "skipped": _("skipped %s"),
            "agent": _("%(name)s (%(why)s)"),
            "codes": {"away": _("away"), "on leave": _("on leave"), "off shift": _("off shift"),
                      "excluded": _("excluded"), "at capacity": _("at capacity %(count)s/%(cap)s")},
            "empty": _("no agent in the pool has the lead's skills/territory"),
            "passed": _("rule '%(rule)s': nobody available (%(why)s)"),
            "fallback": _("Fallback to %(user)s: nobody available. %(why)s"),
            "unassigned": _("Left unassigned in team %(team)s: nobody available. %(why)s"),
            "all_passed": _("Left unassigned in team %s: nobody available in any rule."),
        }

    @api.model
    def _routing_attempt_text(self, attempt, strategy, words, labels, pool):
        """E.g. "Round robin in 'Mandarin' pool: Ali; skipped Bo (on leave)"."""
        if attempt.label_kind == "skills":
            label = ", ".join(sorted(labels["skills"].get(s, "") for s in attempt.label))
        elif attempt.label_kind == "territory":
            label = labels["territory"].get(attempt.label, pool.team_name)
        else:
            label = attempt.label
        text = words["in_pool"] % {"strategy": words["strategy"].get(strategy, strategy), "pool": label}
        if attempt.chosen_name:
            text += ": %s" % attempt.chosen_name
        if attempt.skipped:
            text += "; " + words["skipped"] % ", ".join(words["agent"] % {
                "name": skip.name,
                "why": words["codes"][skip.code] % {"count": skip.count, "cap": skip.cap}
                if skip.code == "at capacity" else words["codes"].get(skip.code, skip.code),
            } for skip in attempt.skipped)
        if attempt.empty and not attempt.chosen_name:
            text += "; " + words["empty"]
        return text

    @api.model
    def _routing_reason(self, decision, pools, words, labels):
        """The logged reason of one decision, in words."""
        pool = pools[decision.pool]
        if decision.outcome == ALL_PASSED:
            reason = words["all_passed"] % pool.team_name
        else:
            why = self._routing_attempt_text(decision.attempt, decision.strategy, words, labels, pool)
            if decision.outcome == PICKED:
                reason = why
            elif decision.outcome == FALLBACK_USER:
                reason = words["fallback"] % {"user": pool.fallback_user_name, "why": why}
            else:
                reason = words["unassigned"] % {"team": pool.team_name, "why": why}
        if decision.passed:
            reason = "%s (%s)" % (reason, "; ".join(words["passed"] % {
                "rule": pools[a.pool].name,
                "why": self._routing_attempt_text(a, pools[a.pool].strategy, words, labels, pools[a.pool]),
            } for a in decision.passed))
        return reason

    # ------------------------------------------------------------------
    # Rotation state
    # ------------------------------------------------------------------
    @api.model
    def _save_rotation(self, touched, decisions):
        """Persist rotation credits and received counts: one upsert per kind
        of pool (rules, team pools)."""
        if not touched:
            return
        got = defaultdict(int)
        for d in decisions:
            if d["user"] and d["shares"]:
                got[(d["rule"].id or ("team", d["team"].id), d["user"].id)] += 1
        rule_rows = [(key, user_id, peer.current, got[(key, user_id)])
                     for (key, user_id), peer in touched.items() if not isinstance(key, tuple)]
        team_rows = [(key[1], user_id, peer.current, got[(key, user_id)])
                     for (key, user_id), peer in touched.items() if isinstance(key, tuple)]
        self.env["lead.routing.state"]._upsert_credits(rule_rows, team_rows)

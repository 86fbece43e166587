from ast import literal_eval
from collections import defaultdict
from datetime import timedelta

import pytz
from psycopg2.extras import execute_values

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression
from odoo.tools import SQL

from ..core.availability import AgentState, capacity_reason, presence_reason
from ..core.rotation import Peer, describe, expected_shares, pick

STRATEGIES = [
    ("round_robin", "Round Robin"),
    ("weighted", "Weighted Round Robin"),
    ("least_loaded", "Least Loaded"),
]
SMALL_BATCH = 20  # up to this many leads, rule domains are matched in memory
FALLBACKS = [
    ("next_rule", "Try the next rule"),
    ("user", "Give to the fallback salesperson"),
    ("unassigned", "Leave in the team, unassigned"),
]


class LeadRoutingRule(models.Model):
    _name = "lead.routing.rule"
    _description = "Lead Routing Rule"
    _inherit = ["lead.cached.config.mixin"]
    # the rotation sequence changes at every routing: no reason to drop the cache
    _lead_cache_neutral_fields = frozenset({"routing_seq"})
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    sequence = fields.Integer(default=10)
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company, index=True)
    domain = fields.Char(
        default="[]", required=True,
        help="Which leads this rule routes, e.g. [('lead_tier', '=', 'hot')].")
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
    strategy = fields.Selection(STRATEGIES, required=True, default="round_robin")
    fallback = fields.Selection(
        FALLBACKS, required=True,
        default=lambda self: self.env.company.lead_distribution_fallback or "unassigned",
        help="What happens when nobody in the pool is available.")
    fallback_user_id = fields.Many2one(
        "res.users", string="Fallback Salesperson", domain="[('share', '=', False)]")
    # bumped under the row lock at each routing: a concurrent REPEATABLE READ
    # transaction that read the old rotation fails and is retried instead of
    # reusing the same slot
    routing_seq = fields.Integer(readonly=True, copy=False, default=0)
    state_ids = fields.One2many("lead.routing.state", "rule_id", string="Rotation State", readonly=True)
    log_count = fields.Integer(compute="_compute_log_count")

    @api.constrains("domain")
    def _check_domain(self):
        for rule in self:
            try:
                domain = literal_eval(rule.domain or "[]")
                if not isinstance(domain, (list, tuple)):
                    raise ValueError("not a list")
                self.env["crm.lead"].sudo().search_count(domain, limit=1)
            except Exception as e:  # noqa: BLE001 - any parse/field error is a bad domain
                raise ValidationError(_("Invalid domain on routing rule '%(rule)s': %(error)s",
                                        rule=rule.name, error=e)) from e

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

    def _get_domain(self):
        self.ensure_one()
        return literal_eval(self.domain or "[]")


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
        with ONE query for all the rules: each rule's domain becomes the
        condition the ORM would put in the WHERE clause of its search (same
        ``_search``, same active filter, no record rule as superuser), read as
        a boolean column; one scan of the batch instead of one per rule.  A
        rule whose search needs a join falls back to its own search.
        """
        if len(leads) <= SMALL_BATCH:
            return {rule.id: rule._match(leads, company) for rule in self}
        Lead = self.env["crm.lead"].sudo()
        matches = {}
        columns, column_rules = [], []
        for rule in self:
            query = Lead._search(rule._matching_domain(company))
            if query.is_empty():
                matches[rule.id] = set()
            elif query._joins or len(query._tables) != 1 or query.limit or query.offset \
                    or query.table != Lead._table:
                matches[rule.id] = rule._match(leads, company)
            else:
                where = query.where_clause if query._where_clauses else SQL("TRUE")
                columns.append(SQL("(%s) IS TRUE", where))
                column_rules.append(rule.id)
        if columns:
            for rule_id in column_rules:
                matches[rule_id] = set()
            rows = self.env.execute_query(SQL(
                "SELECT %s, %s FROM %s WHERE %s = ANY(%s)",
                SQL.identifier(Lead._table, "id"), SQL(", ").join(columns),
                SQL.identifier(Lead._table), SQL.identifier(Lead._table, "id"), list(leads.ids)))
            for row in rows:
                for rule_id, matched in zip(column_rules, row[1:]):
                    if matched:
                        matches[rule_id].add(row[0])
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
        """Open leads (active, probability < 100) per user, ``leads`` (being
        routed) left out: one grouped query.

        The probability is only flushed when a lead other than those being
        routed has a pending one (e.g. just won): flushing the probability of
        a lead being created would run the predictive scoring now, and again
        right after when routing sets its team.
        """
        if not users:
            return {}
        Lead = self.env["crm.lead"]
        fnames = ["user_id", "active"]
        field = Lead._fields["probability"]
        routed = set(leads.ids)
        pending = set(self.env.transaction.tocompute.get(field, ())) | set(
            self.env.cache.get_dirty_records(Lead, field)._ids)
        if pending - routed:
            fnames.append("probability")
        Lead.flush_model(fnames)
        self.env.cr.execute("""
            SELECT user_id, count(*) FROM crm_lead
             WHERE user_id = ANY(%s) AND id != ALL(%s) AND active
               AND (probability IS NULL OR probability < 100)
             GROUP BY user_id""", [users.ids, list(routed)])
        return dict(self.env.cr.fetchall())

    def _route_leads(self, leads, now, exclude_user_ids=(), simulate=False, prefix=None):
        """Decide the owner of each lead through the rules in ``self`` (in order).

        Returns (decisions, touched) where decisions is a list of dicts
        {lead, rule, user (record or False), team, strategy, shares, reason}
        for leads some rule matched (others are absent), and touched the
        {(rule_id, user_id): Peer} rotation credits to persist.
        Without ``simulate`` the matched rules' rows are locked FOR UPDATE first.
        """
        leads = leads.sudo()
        company = (leads[:1].company_id or self.env.company)
        matches = {rule_id: ids for rule_id, ids in self._match_all(leads, company).items() if ids}
        if not matches:
            return [], {}
        rules = self.filtered(lambda r: r.id in matches)
        if not simulate:
            # serialise concurrent routings on the rules' rows; the bump makes a
            # REPEATABLE READ transaction holding an older snapshot fail (and be
            # retried) instead of handing out the slot another one just gave
            self.env.cr.execute(
                "SELECT id FROM lead_routing_rule WHERE id = ANY(%s) ORDER BY id FOR UPDATE",
                [rules.ids])
            self.env.cr.execute(
                "UPDATE lead_routing_rule SET routing_seq = routing_seq + 1 WHERE id = ANY(%s)",
                [rules.ids])
            rules.invalidate_recordset(["routing_seq"])

        pools = {rule.id: rule._pool_members() for rule in rules}
        members = self.env["crm.team.member"].sudo().concat(*pools.values())
        users = members.user_id | rules.fallback_user_id
        windows = self._agent_windows(users, now)
        open_counts = self._open_lead_counts(users, leads)
        self.env.cr.execute(
            "SELECT rule_id, user_id, current_weight FROM lead_routing_state WHERE rule_id = ANY(%s)",
            [rules.ids])
        credits = {(r, u): c for r, u, c in self.env.cr.fetchall()}
        # plain data once per batch: the loop below runs no query and no ORM access
        agents = {}  # member id -> (user id, name, available, max_open, skills, territories)
        for member in members:
            agents[member.id] = (member.user_id.id, member.user_id.name, member.lead_available,
                                 member.lead_max_open, frozenset(member.lead_skill_ids.ids),
                                 frozenset(member.lead_territory_ids.ids))
        pool_ids = {rule_id: [m.id for m in pool] for rule_id, pool in pools.items()}
        peers = {}
        for rule in rules:
            for member_id in pool_ids[rule.id]:
                user_id, name, _av, _max, _sk, _te = agents[member_id]
                peers[(rule.id, user_id)] = Peer(
                    key=user_id, weight=members.browse(member_id).lead_weight or 1.0,
                    current=credits.get((rule.id, user_id), 0.0), name=name)
        rule_data = {rule.id: (rule, rule.strategy, rule.match_skills, rule.match_territory,
                               rule.fallback, rule.fallback_user_id, rule.team_id.name, rule.name)
                     for rule in rules}
        rule_team = {rule.id: rule.team_id for rule in rules}
        need_skills = any(rule.match_skills for rule in rules)
        need_territory = any(rule.match_territory for rule in rules)
        if need_skills or need_territory:
            lead_data = {lead.id: (
                frozenset(lead.lead_skill_ids.ids) if need_skills else frozenset(),
                lead.lead_territory_id.id if need_territory else False) for lead in leads}
        else:
            lead_data = dict.fromkeys(leads.ids, (frozenset(), False))
        skill_names = dict(self.env["lead.skill"].sudo().search([]).mapped(lambda s: (s.id, s.name))) \
            if need_skills else {}
        territory_names = {}
        if need_territory:
            territory_names = {t.id: t.name for t in leads.lead_territory_id}

        presence = {}

        def absent(agent):
            """Excluded, away, off shift or on leave: constant for the batch."""
            user_id, _name, available, _max, _sk, _te = agent
            key = (user_id, available)
            if key not in presence:  # computed once per agent
                if user_id in exclude_user_ids:
                    presence[key] = "excluded"
                else:
                    attendance, leaves = windows.get(user_id, (None, []))
                    presence[key] = presence_reason(
                        AgentState(available=available, attendance=attendance, leaves=leaves), now)
            return presence[key]

        def blocked(agent):
            return absent(agent) or (agent[3] and capacity_reason(open_counts.get(agent[0], 0), agent[3]))

        # a rule's whole pool with no open-lead cap among its present agents
        # gives the same eligible/skipped agents for every lead of the batch
        static_pools = {}

        # the expected shares only depend on who is eligible (weights are fixed
        # for the batch): one dict per distinct pool state, shared read-only
        share_cache = {}
        pool_agents = {rule_id: [agents[m] for m in ids] for rule_id, ids in pool_ids.items()}

        Users = self.env["res.users"]
        decisions = []
        touched = {}
        # matching rules of each lead, in rule order (most leads match one rule)
        lead_rules = defaultdict(list)
        for rule in rules:
            for lead_id in matches[rule.id]:
                lead_rules[lead_id].append(rule.id)
        for lead_id in sorted(lead_data):
            lead_skills, lead_territory = lead_data[lead_id]
            notes = []
            decision = None
            last_rule = None
            for rule_id in lead_rules.get(lead_id, ()):
                rule, strategy, match_skills, match_territory, fallback, fallback_user, team_name, rule_name = \
                    rule_data[rule_id]
                last_rule = rule
                pool = pool_agents[rule_id]
                label = team_name
                if match_skills and lead_skills:
                    pool = [a for a in pool if lead_skills <= a[4]]
                    label = ", ".join(sorted(skill_names.get(s, "") for s in lead_skills))
                if match_territory and lead_territory:
                    pool = [a for a in pool if lead_territory in a[5]]
                    if not (match_skills and lead_skills):
                        label = territory_names.get(lead_territory, team_name)
                static = static_pools.get(rule_id) if pool is pool_agents[rule_id] else None
                if static:
                    eligible, skipped, share_key = static
                    if strategy == "least_loaded":
                        for peer in eligible:  # least_loaded sees this batch too
                            peer.load = open_counts.get(peer.key, 0)
                else:
                    eligible, skipped = [], []
                    for agent in pool:
                        why = blocked(agent)
                        if why:
                            skipped.append((agent[1], why))
                        else:
                            peer = peers[(rule_id, agent[0])]
                            peer.load = open_counts.get(agent[0], 0)  # least_loaded sees this batch too
                            eligible.append(peer)
                    share_key = (rule_id, tuple(peer.key for peer in eligible))
                    if pool is pool_agents[rule_id] and not any(
                            agent[3] for agent in pool if not absent(agent)):
                        static_pools[rule_id] = (eligible, skipped, share_key)
                shares = share_cache.get(share_key)
                if shares is None:
                    shares = share_cache[share_key] = expected_shares(eligible, strategy)
                chosen = pick(eligible, strategy)
                if chosen:
                    for peer in eligible:
                        touched[(rule_id, peer.key)] = peer
                    open_counts[chosen.key] = open_counts.get(chosen.key, 0) + 1
                    decision = dict(
                        user=Users.browse(chosen.key), strategy=strategy,
                        shares=shares, reason=describe(strategy, label, skipped, chosen.name))
                else:
                    why = describe(strategy, label, skipped) + (
                        "" if pool else "; no agent in the pool has the lead's skills/territory")
                    if fallback == "next_rule":
                        notes.append(_("rule '%(rule)s': nobody available (%(why)s)", rule=rule_name, why=why))
                        continue
                    if fallback == "user" and fallback_user and fallback_user.id not in exclude_user_ids:
                        open_counts[fallback_user.id] = open_counts.get(fallback_user.id, 0) + 1
                        decision = dict(user=fallback_user, strategy=strategy, shares={}, reason=_(
                            "Fallback to %(user)s: nobody available. %(why)s", user=fallback_user.name, why=why))
                    else:
                        decision = dict(user=False, strategy=strategy, shares={}, reason=_(
                            "Left unassigned in team %(team)s: nobody available. %(why)s",
                            team=team_name, why=why))
                decision["rule"] = rule
                break
            if decision is None and last_rule:
                # every matching rule passed the lead on: wait in the last team
                decision = dict(user=False, rule=last_rule, strategy=last_rule.strategy, shares={},
                                reason=_("Left unassigned in team %s: nobody available in any rule.",
                                         last_rule.team_id.name))
            if decision is None:
                continue
            if notes:
                decision["reason"] = "%s (%s)" % (decision["reason"], "; ".join(notes))
            if prefix:
                decision["reason"] = "%s: %s" % (prefix, decision["reason"])
            decision["lead"] = leads.browse(lead_id)
            decision["team"] = rule_team[decision["rule"].id]
            decisions.append(decision)
        return decisions, touched

    def _save_rotation(self, touched, decisions):
        """Persist rotation credits and received counts: one upsert."""
        if not touched:
            return
        received = defaultdict(int)
        for d in decisions:
            if d["user"] and d["shares"]:
                received[(d["rule"].id, d["user"].id)] += 1
        rows = [(rule_id, user_id, peer.current, received.get((rule_id, user_id), 0))
                for (rule_id, user_id), peer in touched.items()]
        execute_values(self.env.cr._obj, """
            INSERT INTO lead_routing_state (rule_id, user_id, current_weight, assigned_count,
                                            create_uid, write_uid, create_date, write_date)
            SELECT v.rule_id, v.user_id, v.cur, v.cnt, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES %%s) AS v(rule_id, user_id, cur, cnt)
            ON CONFLICT (rule_id, user_id) DO UPDATE
               SET current_weight = EXCLUDED.current_weight,
                   assigned_count = lead_routing_state.assigned_count + EXCLUDED.assigned_count,
                   write_date = EXCLUDED.write_date
        """ % (self.env.uid, self.env.uid), rows, template="(%s::int, %s::int, %s::float, %s::int)", page_size=1000)
        self.env["lead.routing.state"].invalidate_model()

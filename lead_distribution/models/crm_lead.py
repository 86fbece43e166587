from collections import defaultdict

from markupsafe import Markup
from psycopg2.extras import execute_values

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError

from ..core.territory import match_territory


class CrmLead(models.Model):
    _inherit = "crm.lead"

    lead_skill_ids = fields.Many2many(
        "lead.skill", "crm_lead_lead_skill_rel", "lead_id", "skill_id", string="Required Skills",
        help="Skills the salesperson needs for this lead, e.g. Mandarin.")
    lead_territory_id = fields.Many2one(
        "lead.territory", string="Territory", compute="_compute_lead_territory_id",
        store=True, readonly=False, index="btree_not_null",
        help="Computed from country, state, postcode and city; editable.")
    lead_routing_pending = fields.Boolean(
        string="Waiting for Routing", copy=False, readonly=True, index="btree_not_null",
        help="A routing rule matched but nobody was available: the backlog job "
        "routes it as soon as someone is.")
    lead_assignment_log_ids = fields.One2many(
        "lead.assignment.log", "lead_id", string="Assignment History", readonly=True)

    @api.depends("country_id", "state_id", "zip", "city", "company_id")
    def _compute_lead_territory_id(self):
        territories = self.env["lead.territory"]._lead_distribution_territories()
        if not territories:  # no territory defined: nothing to do, no query
            return
        for lead in self:
            lead.lead_territory_id = match_territory(
                territories, lead.country_id.id or 0, lead.state_id.id or 0,
                lead.zip or "", lead.city or "", lead.company_id.id or 0) or False

    # ------------------------------------------------------------------
    # Configuration (ormcached: zero queries on create when nothing to do)
    # ------------------------------------------------------------------
    @api.model
    @tools.ormcache("company_id")
    def _lead_distribution_config(self, company_id):
        """(instant routing enabled, active rule ids in order) of a company."""
        company = self.env["res.company"].sudo().browse(company_id)
        rules = self.env["lead.routing.rule"].sudo().search([("company_id", "=", company_id)])
        return bool(company.lead_distribution_instant), tuple(rules.ids)

    # ------------------------------------------------------------------
    # Create / write
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        explicit = bool(self.env.context.get("default_user_id"))
        to_route = [not explicit and not vals.get("user_id") for vals in vals_list]
        at_commit = self.env.context.get("lead_distribution_route_at_commit")
        if any(to_route) and not self.env.context.get("lead_distribution_no_route"):
            default_company = self.env.company.id
            for vals, flag in zip(vals_list, to_route):
                if not flag:
                    continue
                instant, rule_ids = self._lead_distribution_config(vals.get("company_id") or default_company)
                if rule_ids and not instant:
                    # instant routing off: the lead waits, unassigned, for the backlog job
                    vals.update(user_id=False, lead_routing_pending=True)
                elif rule_ids and at_commit:
                    vals["user_id"] = False  # not the creator meanwhile: nobody until routed
        leads = super().create(vals_list)
        if any(to_route) and not self.env.context.get("lead_distribution_no_route"):
            candidates = self.browse([lead.id for lead, flag in zip(leads, to_route) if flag])
            routable = candidates.filtered(
                lambda l: all(self._lead_distribution_config((l.company_id or self.env.company).id)))
            if routable:
                if at_commit:
                    routable._lead_distribution_route_at_commit()
                else:
                    routable.with_context(lead_distribution_creating=True)._lead_distribution_route(kind="auto")
        return leads

    def _lead_distribution_route_at_commit(self):
        """Route these new leads when their transaction commits, still inside it.

        For bulk creators that do more work after ``create()`` (the inbox job
        posts the customers' messages): the rules' row locks are then held for
        the routing and the commit only, so two workers capturing leads at
        once wait for each other much less. Context key of ``create()``:
        ``lead_distribution_route_at_commit``.
        """
        data = self.env.cr.precommit.data
        pending = data.get("lead_distribution.route_at_commit")
        if pending is None:
            pending = data["lead_distribution.route_at_commit"] = []
            self.env.cr.precommit.add(self._lead_distribution_route_pending)
        pending.extend(self.ids)

    def _lead_distribution_route_pending(self):
        lead_ids = self.env.cr.precommit.data.pop("lead_distribution.route_at_commit", [])
        # still unassigned: one may have been deleted or given an owner since
        leads = self.browse(lead_ids).exists().filtered(lambda lead: not lead.user_id)
        if leads:
            leads.with_context(lead_distribution_creating=True,
                               lead_distribution_route_at_commit=False)._lead_distribution_route(kind="auto")
            self.env.flush_all()  # precommit hooks run after the ORM's last flush

    def onchange(self, values, field_names, fields_spec):
        """New lead form: no salesperson pre-filled when the rules will route it.

        The form would otherwise send the default salesperson (the creator) as
        an explicit choice and a lead typed in by hand would never be routed.
        Only the form's first onchange is concerned; the ORM default is kept.
        """
        given = values.get("user_id")  # read first: super() adds the defaults to values
        result = super().onchange(values, field_names, fields_spec)
        value = result.get("value") or {}
        if not field_names and value.get("user_id") and not given \
                and not self.env.context.get("default_user_id"):
            instant, rule_ids = self._lead_distribution_config(self.env.company.id)
            if instant and rule_ids:
                value["user_id"] = False
        return result

    def write(self, vals):
        if not self.env.su and not self.env.context.get("lead_distribution_routing"):
            self._lead_distribution_check_owner(vals)
        return super().write(vals)

    def _check_company(self, fnames=None):
        """Routing writes one (salesperson, team) on many leads: check each
        distinct (lead company, values) once instead of every lead.

        Same verdict as the ORM's per-record check, which is a function of
        the lead's company and the linked records only.
        """
        if self.env.context.get("lead_distribution_check_later"):
            return None  # routing batch: checked once after all its writes
        if len(self) < 2 or not self.env.context.get("lead_distribution_routing"):
            return super()._check_company(fnames)
        names = self._fields if fnames is None or {"company_id", "company_ids"} & set(fnames) else fnames
        checked = [name for name in names
                   if self._fields[name].relational and self._fields[name].check_company]
        if not checked:
            return None
        leads = self.sudo()
        columns = [leads._lead_distribution_column(name) for name in ["company_id"] + checked]
        representatives = {}
        for lead_id, key in zip(leads._ids, zip(*columns)):
            representatives.setdefault(key, lead_id)
        return super(CrmLead, self.browse(list(representatives.values())))._check_company(fnames)

    def _lead_distribution_column(self, fname):
        """Values of field ``fname`` of the leads of ``self``, in order, as the
        ORM cache holds them (an id or nothing for a many2one, a tuple of ids
        for a many2many): read a column at a time, computing pending values and
        fetching missing ones, instead of a record per lead."""
        field = self._fields[fname]
        field.mapped(self)
        values = self.env.cache.get_until_miss(self, field)
        if len(values) != len(self):  # not expected; the per-lead way then
            return [lead[fname]._ids if field.type.endswith("2many") else lead[fname].id for lead in self]
        return values

    def _lead_distribution_ids(self, fname):
        """Ids of many2one ``fname`` of the leads of ``self``, in order (0 for none)."""
        return [value or 0 for value in self._lead_distribution_column(fname)]

    def _lead_distribution_check_owner(self, vals):
        """A salesperson cannot take or edit a lead owned by someone else.

        Salespeople limited to their own documents are already stopped by
        crm's record rule; this covers "all documents" salespeople, who may
        read every lead but only edit their own or unassigned ones.  Managers
        reassign.  Costs no query for managers (has_group is cached).
        """
        user = self.env.user
        if user._is_public() or user.has_group("sales_team.group_sale_manager") \
                or not user.has_group("sales_team.group_sale_salesman"):
            return
        others = self.filtered(lambda l: l.user_id and l.user_id != user)
        new_owner = vals.get("user_id")
        if not others and new_owner and new_owner != user.id and self.filtered("user_id"):
            raise AccessError(_("Only sales managers can give a lead to another salesperson."))
        if others:
            raise AccessError(_(
                "Only sales managers can edit or reassign leads owned by someone else "
                "(%(leads)s owned by %(owners)s).",
                leads=", ".join(others[:3].mapped("name")),
                owners=", ".join(others.user_id.mapped("name"))))

    # ------------------------------------------------------------------
    # Routing (public contract used by lead_sla and the wizards)
    # ------------------------------------------------------------------
    def _lead_distribution_route(self, kind="auto", exclude_users=None, reason=None):
        """Route ``self`` through the active rules, as at creation.

        :param kind: log kind: auto, manual, sla or transfer
        :param exclude_users: res.users removed from every pool (and fallback)
        :param reason: optional prefix of the logged reason
        :return: {lead_id: user_id or False}
        Assignment is an ORM write per target (user, team), one log per
        routed lead and a one-line chatter note. Leads no rule matches are
        left untouched (False).
        """
        result = dict.fromkeys(self.ids, False)
        # leads being created, or just found by the backlog job, exist: spare the query
        leads = self.sudo() if self.env.context.get("lead_distribution_creating") \
            or self.env.context.get("lead_distribution_searched") else self.sudo().exists()
        if not leads:
            return result
        now = self.env.context.get("lead_distribution_now") or fields.Datetime.now()
        if isinstance(exclude_users, models.BaseModel):
            exclude_ids = set(exclude_users.ids)
        elif isinstance(exclude_users, int):
            exclude_ids = {exclude_users}
        else:
            exclude_ids = set(exclude_users or ())
        backlog = bool(self.env.context.get("lead_distribution_backlog"))
        by_company = defaultdict(list)
        default_company = self.env.company.id
        for lead_id, company_id in zip(leads._ids, leads._lead_distribution_ids("company_id")):
            by_company[company_id or default_company].append(lead_id)
        Rule = self.env["lead.routing.rule"].sudo()
        for company_id, company_lead_ids in by_company.items():
            company_leads = leads.browse(company_lead_ids)
            rule_ids = self._lead_distribution_config(company_id)[1]
            if not rule_ids:
                if backlog:
                    company_leads.with_context(lead_distribution_routing=True).write(
                        {"lead_routing_pending": False})
                continue
            rules = Rule.browse(rule_ids).exists()  # a team deletion cascades to its rules
            decisions, touched = rules._route_leads(
                company_leads, now, exclude_user_ids=exclude_ids, prefix=reason)
            rules._save_rotation(touched, decisions)
            matched_ids = {d["lead"].id for d in decisions}
            unmatched = company_leads.browse([i for i in company_lead_ids if i not in matched_ids])
            if backlog and unmatched:
                unmatched.with_context(lead_distribution_routing=True).write({"lead_routing_pending": False})
            if backlog:
                # still nobody available: keep waiting quietly (logged once already)
                decisions = [d for d in decisions if d["user"]]
            self._lead_distribution_apply(decisions, kind, now)
            for d in decisions:
                result[d["lead"].id] = d["user"].id if d["user"] else False
        return result

    @api.model
    def _lead_distribution_apply(self, decisions, kind, now):
        if not decisions:
            return
        creating = self.env.context.get("lead_distribution_creating")
        # plain data read once per batch (lead company, previous owner): the
        # steps below take them from here instead of the records
        decided = self.env["crm.lead"].sudo().browse([d["lead"].id for d in decisions])
        lead_company = dict(zip(decided._ids, decided._lead_distribution_ids("company_id")))
        previous = {} if creating else dict(zip(decided._ids, decided._lead_distribution_ids("user_id")))
        groups = defaultdict(list)
        for d in decisions:
            groups[(d["user"].id if d["user"] else False, d["team"].id)].append(d["lead"].id)
        # like Odoo's own assignment, automatic routing subscribes the agent
        # without the "assigned to you" e-mail (a message per lead would be
        # the main cost of routing); manual/SLA/transfer moves do notify,
        # queued rather than sent inside the transaction
        ctx = {"lead_distribution_routing": True, "mail_notify_force_send": False}
        if kind == "auto":
            ctx["mail_auto_subscribe_no_notify"] = True
        Lead = self.env["crm.lead"].sudo().with_context(**ctx)
        targets = self.env["res.users"].sudo().browse({u for u, _t in groups if u})
        user_companies = {user.id: set(user.company_ids.ids) for user in targets}
        # The score does not depend on the owner (lead_scoring leaves user_id and
        # team_id out of its triggers on purpose), but crm recomputes company_id
        # from them and the score depends on company_id: writing the owner would
        # score every routed lead a second time. Protect the score of the leads
        # whose company cannot change; anything lead_scoring explicitly marks to
        # recompute in write() is still recomputed.
        score_fields = [self._fields[f] for f in ("lead_score", "lead_tier", "lead_score_detail",
                                                  "lead_score_date") if f in self._fields]
        # The company consistency check of each write would compute the new
        # company of each group's leads on its own (one compute per group):
        # checked once for the whole batch after the writes instead, same
        # verdict (it depends on each lead's own values only) and same error.
        Writer = Lead.with_context(lead_distribution_check_later=True)
        for (user_id, team_id), ids in groups.items():
            companies = user_companies.get(user_id)
            keep = Lead.browse([i for i in ids if not lead_company[i] or companies is None
                                or lead_company[i] in companies])
            with self.env.protecting(score_fields, keep):
                Writer.browse(ids).write({
                    "user_id": user_id, "team_id": team_id, "lead_routing_pending": not user_id,
                })
        routed = Lead.browse(list(lead_company))
        if Lead._check_company_auto:
            routed._check_company()
        # the company after the writes (crm recomputes it from team and owner)
        lead_company = dict(zip(routed._ids, routed._lead_distribution_ids("company_id")))
        default_company = self.env.company.id
        self.env["lead.assignment.log"].sudo()._insert_batch([{
            "lead_id": d["lead"].id,
            "user_id": d["user"].id if d["user"] else False,
            "previous_user_id": False if creating else previous[d["lead"].id],
            "team_id": d["team"].id,
            "rule_id": d["rule"].id,
            "strategy": d["strategy"],
            "kind": kind,
            "reason": d["reason"],
            "date": now,
            "company_id": lead_company[d["lead"].id] or default_company,
        } for d in decisions])
        # translated once per batch (a lookup per lead cost as much as the note)
        routed_to = _("Routed to %(user)s by rule '%(rule)s': %(reason)s")
        nobody = _("nobody (waiting in %s)")
        bodies = {}
        names = {}  # (model, id) -> display text, read once per record
        for d in decisions:
            user, rule = d["user"], d["rule"]
            target_key = ("u", user.id) if user else ("t", d["team"].id)
            target = names.get(target_key)
            if target is None:
                target = names[target_key] = user.name if user else nobody % d["team"].name
            rule_name = names.get(("r", rule.id))
            if rule_name is None:
                rule_name = names[("r", rule.id)] = rule.name
            bodies[d["lead"].id] = Markup("<p>%s</p>") % (
                routed_to % {"user": target, "rule": rule_name, "reason": d["reason"]})
        self._lead_distribution_log_notes(bodies, lead_company)
        # team leaders hear about leads nobody could take
        for d in decisions:
            leader = not d["user"] and d["team"].user_id
            if leader:
                d["lead"].message_post(
                    body=_("No salesperson of %(team)s is available for this lead; it waits "
                           "for the next available agent.", team=d["team"].name),
                    partner_ids=leader.partner_id.ids, message_type="comment",
                    subtype_xmlid="mail.mt_note")
        self._lead_distribution_save_shares(decisions, now, lead_company)
        if kind == "auto":
            self._lead_distribution_notify_owners(decisions)
        waiting = [d for d in decisions if not d["user"]]
        if waiting:
            self._lead_distribution_wake_backlog(
                self.env["crm.team"].concat(*[d["team"] for d in waiting]), now)

    @api.model
    def _lead_distribution_notify_owners(self, decisions):
        """Tell each agent live that leads just reached them: one notification
        per agent and batch, since automatic routing skips Odoo's per-lead
        "assigned to you" message (the response clock is already running)."""
        by_user = defaultdict(list)
        for d in decisions:
            if d["user"]:
                by_user[d["user"]].append(d["lead"])
        tiers = dict(self._fields["lead_tier"]._description_selection(self.env)) \
            if "lead_tier" in self._fields else {}
        if not by_user:
            return
        # translated once per batch, not per agent
        one, many, title = _("New lead for you: %s"), _("%(count)s new leads for you: %(names)s"), _("New lead")
        for user, leads in by_user.items():
            names = ", ".join(
                "%s (%s)" % (lead.name, tiers[lead.lead_tier]) if lead.lead_tier in tiers
                else lead.name for lead in leads[:5])
            if len(leads) == 1:
                message = one % names
            else:
                message = many % {"count": len(leads), "names": names} + ("…" if len(leads) > 5 else "")
            user._bus_send("simple_notification", {
                "type": "info", "title": title, "message": message, "sticky": False})

    @api.model
    def _lead_distribution_wake_backlog(self, teams, now):
        """Run the backlog job when the next shift of these teams starts."""
        cron = self.env.ref("lead_distribution.ir_cron_route_backlog", raise_if_not_found=False)
        if not cron:
            return
        users = teams.sudo().crm_team_member_ids.user_id
        at = self.env["lead.routing.rule"]._next_shift_start(users, now)
        if at:
            cron.sudo()._trigger(at=at)

    @api.model
    def _lead_distribution_log_notes(self, bodies, companies=None):
        """One-line internal notes {lead_id: html} in the chatter, one INSERT.

        Same row as ``_message_log_batch`` writes (a notification with the
        note subtype, no follower notified), without the per-message ORM
        overhead that dominated backlog routing of thousands of leads.
        """
        if not bodies:
            return
        author = self.env.user.partner_id
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_note")
        if companies is None:
            companies = {lead.id: lead.company_id.id for lead in self.browse(list(bodies))}
        # one array per column (unnest): a single statement, no per-row formatting
        self.env.cr.execute("""
            INSERT INTO mail_message (model, res_id, body, record_company_id, message_type, subtype_id,
                                      author_id, email_from, is_internal, reply_to_force_new, date,
                                      create_uid, write_uid, create_date, write_date)
            SELECT 'crm.lead', v.res_id, v.body, v.company_id, 'notification', %s,
                   %s, %s, false, false, now() at time zone 'UTC',
                   %s, %s, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM unnest(%s::int[], %s::text[], %s::int[]) AS v(res_id, body, company_id)
        """, [subtype_id, author.id or None, author.email_formatted or None, self.env.uid, self.env.uid,
              list(bodies), [str(body) for body in bodies.values()],
              [companies[lead_id] or None for lead_id in bodies]])
        self.env["mail.message"].invalidate_model()
        self.browse(list(bodies)).invalidate_recordset(["message_ids"])

    @api.model
    def _lead_distribution_save_shares(self, decisions, now, companies=None):
        """Expected vs received per day, team and agent: one upsert per batch."""
        expected = defaultdict(float)
        received = defaultdict(int)
        if companies is None:
            companies = {d["lead"].id: d["lead"].company_id.id for d in decisions}
        default_company = self.env.company.id
        for d in decisions:
            key_base = (d["team"].id, companies[d["lead"].id] or default_company)
            for user_id, share in d["shares"].items():
                expected[key_base + (user_id,)] += share
            if d["user"] and d["shares"]:
                received[key_base + (d["user"].id,)] += 1
        if not expected:
            return
        day = now.date()
        rows = [(day, team_id, user_id, company_id, value, received.get((team_id, company_id, user_id), 0))
                for (team_id, company_id, user_id), value in expected.items()]
        execute_values(self.env.cr._obj, """
            INSERT INTO lead_distribution_share (date, team_id, user_id, company_id, expected, received)
            VALUES %s
            ON CONFLICT (date, team_id, user_id) DO UPDATE
               SET expected = lead_distribution_share.expected + EXCLUDED.expected,
                   received = lead_distribution_share.received + EXCLUDED.received
        """, rows, page_size=1000)
        self.env["lead.distribution.share"].invalidate_model()

    # ------------------------------------------------------------------
    # Backlog
    # ------------------------------------------------------------------
    @api.model
    def _cron_lead_distribution_backlog(self, batch_size=5000):
        """Route leads waiting for an available agent (e.g. at the next shift)."""
        Lead = self.sudo().with_context(
            lead_distribution_backlog=True, mail_auto_subscribe_no_notify=True, tracking_disable=True)
        domain = [("lead_routing_pending", "=", True), ("active", "=", True),
                  "|", ("probability", "=", False), ("probability", "<", 100)]
        last_id, done = 0, 0
        while True:
            leads = Lead.search(domain + [("id", ">", last_id)], limit=batch_size, order="id")
            if not leads:
                break
            last_id = leads[-1].id
            routed = leads.with_context(lead_distribution_searched=True)._lead_distribution_route(kind="auto")
            done += sum(1 for user_id in routed.values() if user_id)
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        return done

    def _lead_distribution_assign(self, user, reason, kind="manual", team=None):
        """Assign ``self`` to ``user`` by hand (wizards): ORM write, log, note."""
        if not reason or not reason.strip():
            raise UserError(_("Give a reason for the reassignment."))
        leads = self.sudo()
        team = team or self.env["crm.team"]._get_default_team_id(user_id=user.id)
        now = fields.Datetime.now()
        previous = {lead.id: lead.user_id.id for lead in leads}
        leads.with_context(lead_distribution_routing=True).write({
            "user_id": user.id, "team_id": team.id or False, "lead_routing_pending": False})
        self.env["lead.assignment.log"].sudo().create([{
            "lead_id": lead.id, "user_id": user.id, "previous_user_id": previous[lead.id],
            "team_id": team.id or False, "kind": kind, "reason": reason.strip(), "date": now,
            "company_id": lead.company_id.id or self.env.company.id,
        } for lead in leads])
        body = Markup("<p>%s</p>") % _("Reassigned to %(user)s by %(manager)s: %(reason)s",
                                       user=user.name, manager=self.env.user.name, reason=reason.strip())
        leads._message_log_batch({lead.id: body for lead in leads})
        return True

    def action_lead_reassign(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("lead_distribution.lead_reassign_action")
        action["context"] = {"active_model": "crm.lead", "active_ids": self.ids}
        return action

from collections import defaultdict

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from odoo.addons.lead_scoring.vocabulary import TIER_RANK


class CrmLead(models.Model):
    """Routing of leads: apply the decisions of ``lead.routing.rule`` (ORM
    writes, assignment log, chatter, fairness shares), the backlog job, the
    manual reassignment and the move of a lead whose tier rises."""
    _inherit = "crm.lead"

    # ------------------------------------------------------------------
    # Routing (public contract used by lead_sla and the wizards)
    # ------------------------------------------------------------------
    def _lead_distribution_route(self, kind="auto", exclude_users=None, reason=None,
                                 team_fallback_ids=None, picked_only=False):
        """Route ``self`` through the active rules, as at creation.

        :param kind: log kind: auto, manual, sla, transfer or tier
        :param exclude_users: res.users removed from every pool (and fallback)
        :param reason: optional prefix of the logged reason
        :param team_fallback_ids: ids of leads that go to their sales team's
            pool when no rule matches them and their company's fallback is
            "team" (creation and backlog only)
        :param picked_only: apply only the decisions giving the lead to
            someone (the others keep their owner)
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
            _instant, rule_ids, team_fallback = self._lead_distribution_config(company_id)
            in_team = set(team_fallback_ids or ()) & set(company_lead_ids) if team_fallback else set()
            if not rule_ids and not in_team:
                if backlog:
                    company_leads.with_context(lead_distribution_routing=True).write(
                        {"lead_routing_pending": False})
                continue
            rules = Rule.browse(rule_ids).exists()  # a team deletion cascades to its rules
            decisions, touched = rules._route_leads(
                company_leads, now, exclude_user_ids=exclude_ids, prefix=reason, team_lead_ids=in_team)
            rules._save_rotation(touched, decisions)
            matched_ids = {d["lead"].id for d in decisions}
            unmatched = company_leads.browse([i for i in company_lead_ids if i not in matched_ids])
            if backlog and unmatched:
                unmatched.with_context(lead_distribution_routing=True).write({"lead_routing_pending": False})
            if backlog or picked_only:
                # still nobody available: keep waiting quietly (logged once already),
                # or keep the current owner (tier rise)
                decisions = [d for d in decisions if d["user"]]
            self._lead_distribution_apply(decisions, kind, now)
            for d in decisions:
                result[d["lead"].id] = d["user"].id if d["user"] else False
        return result

    @api.model
    def _lead_distribution_apply(self, decisions, kind, now):
        """Apply routing decisions: owners written, then one log line and one
        chatter note per lead, the fairness shares, the live notifications.

        Steps: ``_lead_distribution_write_owners`` (ORM writes per owner and
        team), ``_lead_distribution_log_batch``, ``_lead_distribution_note_batch``,
        team leaders told of leads nobody could take, shares, and the backlog
        job woken at the next shift for those.
        """
        if not decisions:
            return
        creating = self.env.context.get("lead_distribution_creating")
        decided = self.env["crm.lead"].sudo().browse([d["lead"].id for d in decisions])
        previous = {} if creating else dict(zip(decided._ids, decided._lead_distribution_ids("user_id")))
        routed = self._lead_distribution_write_owners(decisions, kind)
        # the company after the writes (crm recomputes it from team and owner)
        lead_company = dict(zip(routed._ids, routed._lead_distribution_ids("company_id")))
        self._lead_distribution_log_batch(decisions, kind, now, previous, lead_company)
        self._lead_distribution_note_batch(decisions, tracked=not creating)
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
    def _lead_distribution_write_owners(self, decisions, kind):
        """One ORM write per (owner, team) of the decisions; returns the leads.

        Like Odoo's own assignment, automatic routing subscribes the agent
        without the "assigned to you" e-mail (a message per lead would be the
        main cost of routing); manual, SLA, transfer and tier moves do notify,
        queued rather than sent inside the transaction.
        """
        ctx = {"lead_distribution_routing": True, "mail_notify_force_send": False}
        if kind == "auto":
            ctx["mail_auto_subscribe_no_notify"] = True
        Lead = self.env["crm.lead"].sudo().with_context(**ctx)
        decided = Lead.browse([d["lead"].id for d in decisions])
        lead_company = dict(zip(decided._ids, decided._lead_distribution_ids("company_id")))
        groups = defaultdict(list)
        for d in decisions:
            groups[(d["user"].id if d["user"] else False, d["team"].id)].append(d["lead"].id)
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
        # company of each group's leads on its own: checked once for the whole
        # batch after the writes instead (same verdict, same error).
        Writer = Lead.with_context(lead_distribution_check_later=True)
        # the open-lead counts remember each lead's owner before its change:
        # read for the whole batch at once rather than in each write
        self.env["lead.distribution.open.count"]._note_changing_leads(decided)
        for (user_id, team_id), ids in groups.items():
            companies = user_companies.get(user_id)
            keep = Lead.browse([i for i in ids if not lead_company[i] or companies is None
                                or lead_company[i] in companies])
            with self.env.protecting(score_fields, keep):
                Writer.browse(ids).write({
                    "user_id": user_id, "team_id": team_id, "lead_routing_pending": not user_id,
                })
        if Lead._check_company_auto:
            decided._check_company()
        return decided

    @api.model
    def _lead_distribution_log_batch(self, decisions, kind, now, previous, lead_company):
        """One assignment log line per decision, in one statement."""
        default_company = self.env.company.id
        self.env["lead.assignment.log"].sudo()._insert_batch([{
            "lead_id": d["lead"].id,
            "user_id": d["user"].id if d["user"] else False,
            "previous_user_id": previous.get(d["lead"].id, False),
            "team_id": d["team"].id,
            "rule_id": d["rule"].id,
            "strategy": d["strategy"],
            "kind": kind,
            "reason": d["reason"],
            "date": now,
            "company_id": lead_company[d["lead"].id] or default_company,
        } for d in decisions])

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
        keys = list(expected)
        # ON CONFLICT adds to the day's row of our own table: not expressible in the ORM
        self.env.cr.execute(SQL("""
            INSERT INTO lead_distribution_share (date, team_id, company_id, user_id, expected, received)
            SELECT %s, v.team_id, v.company_id, v.user_id, v.expected, v.received
              FROM unnest(%s::int[], %s::int[], %s::int[], %s::float[], %s::int[])
                   AS v(team_id, company_id, user_id, expected, received)
            ON CONFLICT (date, team_id, user_id) DO UPDATE
               SET expected = lead_distribution_share.expected + EXCLUDED.expected,
                   received = lead_distribution_share.received + EXCLUDED.received
        """, now.date(), [k[0] for k in keys], [k[1] for k in keys], [k[2] for k in keys],
            [expected[k] for k in keys], [received.get(k, 0) for k in keys]))
        self.env["lead.distribution.share"].invalidate_model()

    # ------------------------------------------------------------------
    # Backlog
    # ------------------------------------------------------------------
    @api.model
    def _cron_lead_distribution_backlog(self, batch_size=5000):
        """Route leads waiting for an available agent (e.g. at the next shift)."""
        Lead = self.sudo().with_context(
            lead_distribution_backlog=True, mail_auto_subscribe_no_notify=True, tracking_disable=True)
        domain = [("lead_routing_pending", "=", True)] + self._lead_open_domain()
        last_id, done = 0, 0
        while True:
            leads = Lead.search(domain + [("id", ">", last_id)], limit=batch_size, order="id")
            if not leads:
                break
            last_id = leads[-1].id
            # a waiting lead has no owner: its team shares it when no rule matches
            routed = leads.with_context(lead_distribution_searched=True)._lead_distribution_route(
                kind="auto", team_fallback_ids=set(leads.ids))
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

    # ------------------------------------------------------------------
    # Tier rise before the first response
    # ------------------------------------------------------------------
    def _lead_distribution_is_answered(self):
        """Whether someone already answered this lead (its first response).

        Hook for lead_sla, which knows the first response: lead_distribution
        alone cannot tell, so a lead counts as unanswered. An answered lead
        is never moved when its tier rises.
        """
        self.ensure_one()
        return False

    def _lead_scoring_raise_priority(self, old_tiers):
        """lead_scoring's step after a (re)scoring: leads whose tier rose are
        routed again (``_lead_distribution_tier_rise``)."""
        res = super()._lead_scoring_raise_priority(old_tiers)
        if old_tiers and not self.env.context.get("lead_distribution_routing"):
            risen = self.filtered(lambda lead: old_tiers.get(lead.id) in TIER_RANK and TIER_RANK.get(
                lead.lead_tier, -1) > TIER_RANK[old_tiers[lead.id]])
            if risen:
                unassigned = risen.filtered(lambda lead: not lead.user_id)
                (risen - unassigned)._lead_distribution_tier_rise(old_tiers)
                unassigned._lead_distribution_route_risen()
        return res

    def _lead_distribution_route_risen(self):
        """Route the unassigned leads of ``self`` whose tier just rose: no rule
        matched them before (a chat lead is created before its first message
        is read), one may now (e.g. "hot leads -> senior team"). Leads still
        waiting for their routing at commit are routed then, with their new tier."""
        pending = set(self.env.cr.precommit.data.get("lead_distribution.route_at_commit") or ())
        leads = self.sudo()._lead_filter_open().filtered(
            lambda lead: lead.id not in pending and not lead.lead_routing_pending
            and not lead._lead_distribution_is_answered())._lead_distribution_routable()
        if leads:
            leads._lead_distribution_route(kind="auto", picked_only=True)

    def _lead_distribution_tier_rise(self, old_tiers):
        """Move the leads whose tier rose before their first response to the
        pool of the first rule matching them now, when it is not the pool
        that routed them.

        Only an open, unanswered lead that routing gave to its current owner
        (its last assignment log: not manual, same owner) can move; an owner
        chosen by hand is never moved. The move is logged with kind "tier"
        and the old and new owners are notified. When nobody of the new pool
        is available, the lead keeps its owner.
        """
        leads = self.sudo()._lead_filter_open().filtered(
            lambda lead: lead.user_id and not lead._lead_distribution_is_answered())
        if not leads:
            return
        last_log = {}
        for log in self.env["lead.assignment.log"].sudo().search(
                [("lead_id", "in", leads.ids)], order="date desc, id desc"):
            last_log.setdefault(log.lead_id.id, log)
        Rule = self.env["lead.routing.rule"].sudo()
        tiers = dict(self._fields["lead_tier"]._description_selection(self.env))
        for lead in leads:
            log = last_log.get(lead.id)
            if not log or log.kind == "manual" or log.user_id != lead.user_id:
                continue  # given by hand: never moved
            company = lead.company_id or self.env.company
            rules = Rule.browse(self._lead_distribution_config(company.id)[1])
            matches = rules._match_all(lead, company)
            first = next((rule for rule in rules if lead.id in matches.get(rule.id, ())), Rule)
            if not first or first == log.rule_id:
                continue
            previous = lead.user_id
            result = lead._lead_distribution_route(
                kind="tier", picked_only=True, reason=_(
                    "Tier rose from %(old)s to %(new)s before the first response",
                    old=tiers.get(old_tiers[lead.id]), new=tiers.get(lead.lead_tier)))
            new_owner = self.env["res.users"].browse(result[lead.id])
            if new_owner and new_owner != previous:
                lead.message_post(
                    body=_("This lead became %(tier)s before its first response: it moves from "
                           "%(old)s to %(new)s.", tier=tiers.get(lead.lead_tier),
                           old=previous.name, new=new_owner.name),
                    partner_ids=(previous | new_owner).partner_id.ids,
                    message_type="comment", subtype_xmlid="mail.mt_note")

"""The sweeps: warn the owners of clocks about to run out, escalate and
reassign the breached ones."""
from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.tools import SQL

from .crm_lead_clock import SWEEP_CRON


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # ------------------------------------------------------------------
    # Sweep: warnings and breaches
    # ------------------------------------------------------------------
    @api.model
    def _lead_sla_sweep(self, now=None, batch_size=1000):
        """Warn and escalate the due clocks. Returns (warned, breached) leads.

        Set-based and idempotent: each due lead is claimed by one UPDATE whose
        rows come from a partial index, locked with SKIP LOCKED, and moved out
        of the due state in the same statement; a concurrent sweep skips the
        locked rows (the cron's pass runs in READ COMMITTED: it locks the
        latest version of a row, re-checked), so no warning or escalation is
        sent twice.
        """
        now = now or self._lead_sla_now()
        self.env["crm.lead"].flush_model()
        # SQL: the ORM has no FOR UPDATE SKIP LOCKED claim
        self.env.cr.execute(SQL("""
            UPDATE crm_lead l
               SET sla_status = 'breached', sla_breach_count = l.sla_breach_count + 1
              FROM (SELECT id FROM crm_lead
                     WHERE sla_status IN ('running', 'warning') AND sla_deadline <= %(now)s
                     ORDER BY sla_deadline LIMIT %(limit)s
                       FOR UPDATE SKIP LOCKED) due
             WHERE l.id = due.id
         RETURNING l.id""", now=now, limit=batch_size))
        breached_ids = [r[0] for r in self.env.cr.fetchall()]
        # SQL: same claim for the warnings
        self.env.cr.execute(SQL("""
            UPDATE crm_lead l SET sla_status = 'warning'
              FROM (SELECT id FROM crm_lead
                     WHERE sla_status = 'running' AND sla_warn_at <= %(now)s
                     ORDER BY sla_warn_at LIMIT %(limit)s
                       FOR UPDATE SKIP LOCKED) due
             WHERE l.id = due.id
         RETURNING l.id""", now=now, limit=batch_size))
        warned_ids = [r[0] for r in self.env.cr.fetchall()]
        # sudo: the sweep is the system's job, for every owner's leads
        Lead = self.sudo().with_context(lead_sla_now=now)
        if breached_ids or warned_ids:
            Lead.browse(breached_ids + warned_ids).invalidate_recordset(
                ["sla_status", "sla_breach_count"])
        warned = Lead.browse(warned_ids)
        breached = Lead.browse(breached_ids)
        if warned:
            warned._lead_sla_notify_warning(now)
        if breached:
            breached._lead_sla_escalate(now)
        return warned, breached

    @api.model
    def _lead_sla_next_due(self):
        """Earliest pending warning or deadline (two index lookups)."""
        # SQL: one statement reading both partial indexes
        self.env.cr.execute("""
            SELECT LEAST(
                (SELECT min(sla_warn_at) FROM crm_lead WHERE sla_status = 'running'),
                (SELECT min(sla_deadline) FROM crm_lead
                  WHERE sla_status IN ('running', 'warning')))""")
        return self.env.cr.fetchone()[0]

    @api.model
    def _cron_lead_sla_sweep(self, batch_size=1000):
        self._lead_sla_cron_work(SWEEP_CRON, lambda: self._lead_sla_sweep_pass(batch_size))

    @api.model
    def _lead_sla_sweep_pass(self, batch_size):
        now = fields.Datetime.now()
        warned, breached = self._lead_sla_sweep(now=now, batch_size=batch_size)
        done = len(warned) + len(breached)
        remaining = 0
        if len(warned) == batch_size or len(breached) == batch_size:
            # sudo: the cron counts every owner's due clocks
            remaining = self.sudo().search_count([
                "|", "&", ("sla_status", "=", "running"), ("sla_warn_at", "<=", now),
                "&", ("sla_status", "in", ("running", "warning")), ("sla_deadline", "<=", now)])
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        next_due = self._lead_sla_next_due()
        if next_due and not remaining:
            self._lead_sla_trigger_sweep(next_due)

    def _lead_sla_notify_warning(self, now):
        """Activity and in-app notification to the owner of each warned lead.

        Set-based: one create for all the activities (without the per-activity
        assignment mail, which would cost a rendering per lead), then one
        notification (inbox or e-mail) and one live toast per owner.
        """
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        model_id = self.env["ir.model"]._get_id("crm.lead")
        activity_vals = []
        by_owner = {}
        for lead in self.filtered("user_id"):
            minutes = max(int((lead.sla_deadline - now).total_seconds() // 60), 0) \
                if lead.sla_deadline else 0
            text = _("Lead %(lead)s needs a first response within %(min)s min",
                     lead=lead.name, min=minutes)
            activity_vals.append({
                "res_model_id": model_id,
                "res_id": lead.id,
                "activity_type_id": todo.id if todo else False,
                "summary": _("First response due within %(min)s min", min=minutes),
                "note": text,
                "date_deadline": fields.Date.context_today(lead, now),
                "user_id": lead.user_id.id,
                "lead_sla_warning": True,
            })
            by_owner.setdefault(lead.user_id, []).append((lead, text))
        if activity_vals:
            # sudo: the sweep plans activities for every owner
            self.env["mail.activity"].sudo().with_context(
                mail_activity_quick_update=True).create(activity_vals)
        for owner, items in by_owner.items():
            self._lead_sla_notify_owner(owner, items)

    @api.model
    def _lead_sla_notify_owner(self, owner, items):
        """One notification (inbox or e-mail, as the owner prefers) and one
        live toast for the owner's warned leads: on the lead itself, or a
        digest for several. ``items``: [(lead, text)]."""
        if len(items) == 1:
            lead, text = items[0]
            lead.message_notify(
                partner_ids=owner.partner_id.ids, body=Markup("<p>%s</p>") % text,
                subject=_("Response SLA: %s", lead.name))
        else:
            body = Markup("<p>%s</p><ul>%s</ul>") % (
                _("These leads need a first response:"),
                Markup().join(Markup("<li>%s</li>") % text for _lead, text in items))
            self.env["mail.thread"].message_notify(
                partner_ids=owner.partner_id.ids, body=body,
                subject=_("Response SLA: %s leads need a first response", len(items)))
        texts = [text for _lead, text in items]
        owner._bus_send("simple_notification", {
            "type": "warning",
            "sticky": True,
            "title": _("Response SLA"),
            # a toast is plain text on one paragraph: separate the leads visibly
            "message": texts[0] if len(texts) == 1 else " • ".join(texts[:10]) + (
                _(" • and %s more", len(texts) - 10) if len(texts) > 10 else ""),
        })

    # ------------------------------------------------------------------
    # Who hears of a breach
    # ------------------------------------------------------------------
    def _lead_sla_managers(self):
        """Who is told of this lead's breach: the policy's escalation users and
        the team leader; without any, the team's sales managers, else the
        company's sales managers (nobody is never the answer while the
        company has a sales manager)."""
        self.ensure_one()
        users = self.sla_policy_id.escalate_user_ids | self.team_id.user_id
        users = users.filtered(lambda u: u.active and not u.share)
        if users:
            return users
        managers = self.team_id.member_ids.filtered(
            lambda u: u.active and not u.share and u.has_group("sales_team.group_sale_manager"))
        return managers or self._lead_sla_company_managers(
            (self.company_id or self.env.company).id)

    @api.model
    def _lead_sla_company_managers(self, company_id):
        """Active internal users of the Sales / Administrator group of a company."""
        group = self.env.ref("sales_team.group_sale_manager")
        # sudo: who manages sales is needed whoever triggered the breach
        return self.env["res.users"].sudo().search([
            ("groups_id", "in", group.id), ("share", "=", False),
            ("company_ids", "in", company_id)], order="id")

    def _lead_sla_managers_by_lead(self):
        """{lead id: users to tell}, computed once per (policy, team, company)."""
        known = {}
        result = {}
        for lead in self:
            key = (lead.sla_policy_id.id, lead.team_id.id, lead.company_id.id)
            if key not in known:
                known[key] = lead._lead_sla_managers()
            result[lead.id] = known[key]
        return result

    # ------------------------------------------------------------------
    # Breach: escalation and reassignment
    # ------------------------------------------------------------------
    def _lead_sla_escalate(self, now):
        """Breach: a chatter note on each lead that notifies its managers in
        their inbox, then the reassignment.

        Set-based: the notes are created in one batch and the managers' inbox
        notifications in another (a message_post per lead would cost a few
        milliseconds each, seconds for a thousand breaches).
        """
        managers = self._lead_sla_managers_by_lead()
        notices = {}
        for lead in self:
            late = int((now - lead.sla_deadline).total_seconds() // 60) if lead.sla_deadline else 0
            body = Markup("<p>%s</p>") % _(
                "Response SLA breached: %(owner)s did not respond to %(lead)s before "
                "%(deadline)s UTC (policy %(policy)s, %(late)s min late).",
                owner=lead.user_id.name or _("nobody"), lead=lead.name,
                deadline=fields.Datetime.to_string(lead.sla_deadline),
                policy=lead.sla_policy_id.name or "-", late=late)
            notices[lead.id] = (body, managers[lead.id].partner_id)
        self._lead_sla_log_notify(notices)
        self._lead_sla_reassign()

    def _lead_sla_log_notify(self, notices):
        """Post internal notes and notify partners in their inbox, in batches.

        ``notices``: {lead id: (body, partners to notify)}. The notes go
        through ``_message_log_batch`` (one message create per distinct set of
        partners), their inbox notifications in one create, as Odoo's own
        inbox notification does (``mail.thread._notify_thread_by_inbox``).
        """
        groups = {}
        for lead_id, (body, partners) in notices.items():
            groups.setdefault(partners, {})[lead_id] = body
        notifications = []
        messages = self.env["mail.message"]
        for partners, bodies in groups.items():
            posted = self.browse(list(bodies))._message_log_batch(
                bodies, message_type="comment")
            messages |= posted
            notifications += [{
                "author_id": message.author_id.id,
                "mail_message_id": message.id,
                "res_partner_id": partner.id,
                "notification_type": "inbox",
                "notification_status": "sent",
                "is_read": False,
            } for message in posted for partner in partners]
        if notifications:
            # sudo: creating notifications is the purpose of this method (as in mail)
            self.env["mail.notification"].sudo().create(notifications)
        return messages

    def _lead_sla_reassign(self):
        """Reroute breached leads through lead_distribution (log kind 'sla'),
        excluding their current owner, up to the policy's max_reassign. The
        new owner gets a fresh clock (user_id changes)."""
        to_route = self.filtered(
            lambda l: l.sla_policy_id.reassign_on_breach and l.user_id
            and l.sla_reassign_count < l.sla_policy_id.max_reassign)
        moved_ids = []
        for owner in to_route.user_id:
            leads = to_route.filtered(lambda l: l.user_id == owner)
            result = leads._lead_distribution_route(
                kind="sla", exclude_users=owner,
                reason=_("Response SLA breached by %s", owner.name))
            moved_ids += [lid for lid, uid in result.items() if uid and uid != owner.id]
        if moved_ids:
            # SQL: an atomic increment of our own counter on many rows at once
            self.env.cr.execute(SQL(
                "UPDATE crm_lead SET sla_reassign_count = sla_reassign_count + 1 "
                "WHERE id = ANY(%s)", moved_ids))
            self.browse(moved_ids).invalidate_recordset(["sla_reassign_count"])
        return self.browse(moved_ids)

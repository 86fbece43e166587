import logging
from ast import literal_eval

from markupsafe import Markup

from odoo import _, api, fields, models, tools
from odoo.tools import SQL

from ..core.nurture import next_step, retry_at, step_due, stop_reason
from .lead_nurture_log import NURTURE_STOP_REASONS

_logger = logging.getLogger(__name__)

NURTURE_STATES = [("running", "Running"), ("stopped", "Stopped"), ("done", "Done")]
# Writes that may record a first response, win, lose or restore a lead.
NURTURE_WATCHED = frozenset(("sla_first_response_date", "stage_id", "probability", "active"))
INBOUND_TYPES = ("email", "comment", "sms", "whatsapp")
NURTURE_CRON = "lead_sla.ir_cron_nurture"


class CrmLead(models.Model):
    _inherit = "crm.lead"

    nurture_sequence_id = fields.Many2one(
        "lead.nurture.sequence", string="Nurture Sequence", copy=False, readonly=True,
        index="btree_not_null")
    nurture_step_id = fields.Many2one(
        "lead.nurture.step", string="Next Nurture Step", copy=False, readonly=True)
    nurture_next_date = fields.Datetime(string="Next Nurture Touch", copy=False, readonly=True)
    nurture_state = fields.Selection(
        NURTURE_STATES, string="Nurture", copy=False, readonly=True)
    nurture_stop_reason = fields.Selection(
        NURTURE_STOP_REASONS, string="Nurture Stopped Because", copy=False, readonly=True)
    nurture_enrolled_at = fields.Datetime(string="Nurture Since", copy=False, readonly=True)
    nurture_last_sent = fields.Datetime(string="Last Nurture Touch", copy=False, readonly=True)
    nurture_failures = fields.Integer(
        string="Failed Attempts", copy=False, readonly=True, default=0,
        help="Failed attempts to send the next step (retried with a growing delay).")
    nurture_enrolment_id = fields.Many2one(
        "lead.nurture.log", string="Nurture Enrolment", copy=False, readonly=True)

    def init(self):
        super().init()
        # The cron reads only the due steps of running sequences: its cost
        # follows the number of due leads, not of leads in nurture.
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS crm_lead_nurture_due_idx
                ON crm_lead (nurture_next_date) WHERE nurture_state = 'running'
        """)

    # ------------------------------------------------------------------
    # Sequences (cached: read at every first response and loss)
    # ------------------------------------------------------------------
    @api.model
    @tools.ormcache()
    def _lead_nurture_sequence_data(self):
        """Active sequences with steps, in order: tuple of plain dicts."""
        sequences = self.env["lead.nurture.sequence"].sudo().with_context(
            active_test=True).search([("active", "=", True)], order="sequence, id")
        return tuple({
            "id": seq.id,
            "company_id": seq.company_id.id,
            "trigger": seq.trigger,
            "domain": literal_eval(seq.domain or "[]"),
            "lost_reason_ids": frozenset(seq.lost_reason_ids.ids),
            "step_ids": tuple(seq.step_ids.ids),
            "delays": {step.id: step.delay_days for step in seq.step_ids},
        } for seq in sequences if seq.step_ids)

    def _lead_nurture_match(self, sequences):
        """First sequence of ``sequences`` matching this lead, or None."""
        self.ensure_one()
        for seq in sequences:
            if seq["company_id"] and seq["company_id"] != self.company_id.id:
                continue
            if seq["lost_reason_ids"] and self.lost_reason_id.id not in seq["lost_reason_ids"]:
                continue
            # sudo: the filter may read fields the salesperson cannot
            if not seq["domain"] or self.sudo().with_context(
                    active_test=False).filtered_domain(seq["domain"]):
                return seq
        return None

    # ------------------------------------------------------------------
    # Enrolment and stops
    # ------------------------------------------------------------------
    def _lead_nurture_enrol(self, trigger):
        """Enrol these leads in the first matching active sequence of
        ``trigger`` ('cold' or 'lost'); leads already in a running sequence
        are left alone (never two at once). Returns the enrolled leads."""
        sequences = [s for s in self._lead_nurture_sequence_data() if s["trigger"] == trigger]
        if not sequences:
            return self.browse()
        # the suite's clock hook, as the SLA clocks: a replayed or simulated
        # first response enrols at its own instant
        now = self._lead_sla_now()
        groups = {}
        for lead in self:
            if lead.nurture_state == "running":
                continue
            if trigger == "cold" and not (lead._lead_filter_open() and lead.lead_tier == "cold"):
                continue
            if trigger == "lost" and lead.active:
                continue
            seq = lead._lead_nurture_match(sequences)
            if seq:
                groups.setdefault(seq["id"], (seq, []))[1].append(lead.id)
        enrolled = self.browse()
        for seq, ids in groups.values():
            leads = self.browse(ids).sudo()  # sudo: the system runs the sequence
            first = seq["step_ids"][0]
            leads.write({
                "nurture_sequence_id": seq["id"], "nurture_step_id": first,
                "nurture_state": "running", "nurture_stop_reason": False,
                "nurture_enrolled_at": now, "nurture_last_sent": False, "nurture_failures": 0,
                "nurture_next_date": step_due(now, seq["delays"][first], now=now),
            })
            logs = self.env["lead.nurture.log"]._lead_nurture_log(leads, "enrolled", step_id=False)
            for lead, log in zip(leads, logs):
                lead.nurture_enrolment_id = log
            self._lead_nurture_schedule(min(leads.mapped("nurture_next_date")))
            enrolled |= leads
        return enrolled

    def _lead_nurture_stop(self, event):
        """Stop the running sequences of these leads that ``event`` stops
        (see ``core.nurture.stop_reason``). Returns the stopped leads."""
        by_reason = {}
        for lead in self.filtered(lambda l: l.nurture_state == "running"):
            reason = stop_reason(lead.nurture_sequence_id.trigger, event)
            if reason:
                by_reason.setdefault(reason, []).append(lead.id)
        stopped = self.browse()
        for reason, ids in by_reason.items():
            leads = self.browse(ids).sudo()  # sudo: the log is written by the system
            self.env["lead.nurture.log"]._lead_nurture_log(leads, "stopped", stop_reason=reason)
            leads.write({"nurture_state": "stopped", "nurture_stop_reason": reason})
            stopped |= leads
        return stopped

    def action_lead_nurture_stop(self):
        """Button: the salesperson takes the lead over from the sequence."""
        self.check_access("write")
        self._lead_nurture_stop("manual")
        return True

    def write(self, vals):
        if not NURTURE_WATCHED.intersection(vals):
            return super().write(vals)
        before = {lead.id: (bool(lead.sla_first_response_date), lead.active) for lead in self}
        result = super().write(vals)
        self._lead_nurture_after_write(before)
        return result

    def _lead_nurture_after_write(self, before):
        """A first response enrols cold leads; winning, losing or restoring a
        lead stops its sequence."""
        responded = self.filtered(
            lambda l: l.sla_first_response_date and not before[l.id][0])
        if responded:
            responded._lead_nurture_enrol("cold")
        running = self.filtered(lambda l: l.nurture_state == "running")
        if not running:
            return
        running.filtered(lambda l: l.active and (l.probability or 0) >= 100) \
            ._lead_nurture_stop("won")
        running.filtered(lambda l: not l.active and before[l.id][1])._lead_nurture_stop("lost")
        running.filtered(lambda l: l.active and not before[l.id][1]) \
            ._lead_nurture_stop("unarchived")

    def action_set_lost(self, **additional_values):
        result = super().action_set_lost(**additional_values)
        self._lead_nurture_enrol("lost")
        return result

    def _compute_lead_score(self):
        super()._compute_lead_score()
        # The tier is a stored computation: its recomputation is the one
        # moment the lead is known to have warmed up.
        warmed = self.filtered(lambda l: isinstance(l.id, int) and l.nurture_state == "running"
                               and l.lead_tier in ("warm", "hot"))
        if warmed:
            warmed._lead_nurture_stop("warmed")

    def _lead_apply_message_signals(self, messages_by_lead):
        # lead_scoring reads the customer's message before the post's hooks run:
        # stop nurture as "replied" first, or the tier that the message raises
        # would stop it as "warmed up"
        self.browse(list(messages_by_lead)).filtered(
            lambda l: l.nurture_state == "running")._lead_nurture_stop("inbound")
        return super()._lead_apply_message_signals(messages_by_lead)

    def _message_post_after_hook(self, message, msg_vals):
        result = super()._message_post_after_hook(message, msg_vals)
        for lead in self:
            if lead.nurture_state == "running" and lead._lead_nurture_is_inbound(message, msg_vals):
                lead._lead_nurture_stop("inbound")
        return result

    def _lead_nurture_is_inbound(self, message, msg_vals):
        """A message from the customer on any channel: an e-mail, WhatsApp,
        SMS or comment whose author is no internal user (nor OdooBot)."""
        message_type = msg_vals.get("message_type", message.message_type)
        if message_type not in INBOUND_TYPES:
            return False
        if msg_vals.get("is_internal", message.is_internal):
            return False
        author_id = msg_vals.get("author_id", message.author_id.id)
        if not author_id:
            return message_type == "email"  # an e-mail from an unknown address
        author = self.env["res.partner"].browse(author_id)
        if author == self.env.ref("base.partner_root"):
            return False
        # sudo: the users of a partner are not readable by every salesperson
        return not any(not user.share for user in author.sudo().user_ids)

    # ------------------------------------------------------------------
    # Cron: send the due steps
    # ------------------------------------------------------------------
    @api.model
    def _cron_lead_nurture(self, batch_size=1000):
        self._lead_sla_cron_work(NURTURE_CRON, lambda: self._lead_nurture_cron_pass(batch_size))

    @api.model
    def _lead_nurture_cron_pass(self, batch_size):
        now = fields.Datetime.now()
        sent, failed = self._lead_nurture_run(now=now, batch_size=batch_size)
        done = len(sent) + len(failed)
        remaining = self._lead_nurture_due_count(now) if done >= batch_size else 0
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        next_due = self._lead_nurture_next_due()
        if next_due and not remaining:
            self._lead_nurture_trigger(next_due)

    @api.model
    def _lead_nurture_run(self, now=None, batch_size=1000):
        """Send the due steps once each. Returns (sent, failed) leads.

        Set-based: the due leads are claimed in one statement through the
        partial index, locked with SKIP LOCKED (a concurrent worker takes the
        others); each claimed step gets its "sent" log row, unique per
        enrolment and step, before anything is sent. The sends are grouped by
        step, each lead in its own savepoint: a failure undoes that lead's
        message only, and the step is retried later.
        """
        now = now or fields.Datetime.now()
        claimed = self._lead_nurture_claim(now, batch_size)
        if not claimed:
            return self.browse(), self.browse()
        Lead = self.sudo().with_context(tracking_disable=True, mail_notify_force_send=False)
        leads = Lead.browse(list(claimed))
        errors = {}
        for step in leads.nurture_step_id:
            group = leads.filtered(lambda l, s=step: l.nurture_step_id == s)
            send = getattr(group, "_lead_nurture_send_%s" % step.action, None)
            if send is None:
                errors.update(dict.fromkeys(group.ids, _(
                    "the action '%s' of this step is not available: is its addon installed?",
                    step.action)))
                continue
            errors.update(send(step))
        failed = leads.filtered(lambda l: l.id in errors)
        sent = leads - failed
        # the claim of a failed send is released: its retry claims it again
        self.env["lead.nurture.log"].sudo().browse(
            [claimed[lead_id] for lead_id in failed.ids if claimed[lead_id]]).unlink()
        sent._lead_nurture_advance(now)
        failed._lead_nurture_fail(errors, now)
        return sent, failed

    @api.model
    def _lead_nurture_claim(self, now, limit):
        """{lead id: id of its new "sent" log row} for the due leads this
        worker locked (row id False: the step was sent already)."""
        sequence_ids = [s["id"] for s in self._lead_nurture_sequence_data()]
        if not sequence_ids:
            return {}
        self.env["crm.lead"].flush_model()
        self.env["lead.nurture.log"].flush_model()
        # SKIP LOCKED is not expressible through the ORM: a read lock on the
        # due rows, so that two workers never take the same lead
        self.env.cr.execute(SQL("""
            SELECT id FROM crm_lead
             WHERE nurture_state = 'running' AND nurture_next_date <= %(now)s
               AND nurture_sequence_id = ANY(%(seqs)s)
             ORDER BY nurture_next_date LIMIT %(limit)s
               FOR NO KEY UPDATE SKIP LOCKED""", now=now, seqs=sequence_ids, limit=limit))
        due_ids = [row[0] for row in self.env.cr.fetchall()]
        if not due_ids:
            return {}
        # ON CONFLICT on our own log: the unique (enrolment, step) "sent" row
        # is the idempotency key of a step
        self.env.cr.execute(SQL("""
            INSERT INTO lead_nurture_log (lead_id, enrolment_id, sequence_id, step_id, kind,
                                          date, attempt, company_id, create_uid, create_date,
                                          write_uid, write_date)
            SELECT l.id, l.nurture_enrolment_id, l.nurture_sequence_id, l.nurture_step_id, 'sent',
                   %(now)s, COALESCE(l.nurture_failures, 0) + 1, l.company_id, %(uid)s,
                   %(now)s, %(uid)s, %(now)s
              FROM crm_lead l
             WHERE l.id = ANY(%(ids)s)
            ON CONFLICT (enrolment_id, step_id) WHERE kind = 'sent' DO NOTHING
            RETURNING lead_id, id""", now=now, uid=self.env.uid, ids=due_ids))
        claimed = dict.fromkeys(due_ids, False)
        claimed.update(dict(self.env.cr.fetchall()))
        already = [lead_id for lead_id, log_id in claimed.items() if not log_id]
        if already:
            _logger.warning("Nurture: steps of leads %s were sent already, moving on", already)
            self.sudo().browse(already)._lead_nurture_advance(now)
        return {lead_id: log_id for lead_id, log_id in claimed.items() if log_id}

    def _lead_nurture_advance(self, now):
        """After a step: plan the next one, or mark the sequence done."""
        order = {s["id"]: s for s in self._lead_nurture_sequence_data()}
        groups = {}
        for lead in self:
            seq = order.get(lead.nurture_sequence_id.id)
            following = seq and next_step(list(seq["step_ids"]), lead.nurture_step_id.id)
            if following:
                vals = {"nurture_step_id": following, "nurture_next_date": step_due(
                    lead.nurture_enrolled_at or now, seq["delays"][following], last_sent=now)}
            else:
                vals = {"nurture_step_id": False, "nurture_next_date": False,
                        "nurture_state": "done"}
            vals.update(nurture_last_sent=now, nurture_failures=0)
            groups.setdefault(tuple(sorted(vals.items())), []).append(lead.id)
        done = self.browse()
        for vals, ids in groups.items():
            vals = dict(vals)
            if vals.get("nurture_state") == "done":
                done |= self.browse(ids)
            self.browse(ids).write(vals)
        if done:
            self.env["lead.nurture.log"]._lead_nurture_log(done, "done", step_id=False, date=now)

    def _lead_nurture_fail(self, errors, now):
        """Log each failure; retry later with a growing delay, and after the
        last retry report it to the salesperson and go on with the sequence."""
        Log = self.env["lead.nurture.log"]
        given_up = self.browse()
        notes = {}
        for lead in self:
            failures = lead.nurture_failures + 1
            error = errors[lead.id]
            Log._lead_nurture_log(lead, "failed", error=error, attempt=failures, date=now)
            retry = retry_at(failures, now)
            step = lead.nurture_step_id.display_name
            if retry:
                lead.write({"nurture_failures": failures, "nurture_next_date": retry})
                notes[lead.id] = Markup("<p>%s</p>") % _(
                    "Nurture step '%(step)s' could not be sent: %(error)s. It will be retried "
                    "at %(retry)s UTC.", step=step, error=error,
                    retry=fields.Datetime.to_string(retry))
            else:
                given_up |= lead
                notes[lead.id] = Markup("<p>%s</p>") % _(
                    "Nurture step '%(step)s' could not be sent after %(count)s attempts: "
                    "%(error)s. A to-do was planned to do it by hand.",
                    step=step, count=failures, error=error)
        if notes:
            self._lead_nurture_log_notes(notes)
        if given_up:
            given_up._lead_nurture_report_failure(errors)
            given_up._lead_nurture_advance(now)

    def _lead_nurture_log_notes(self, notes):
        # one batch of internal notes: the team sees the failure on the lead
        self.browse(list(notes))._message_log_batch(notes)

    def _lead_nurture_report_failure(self, errors):
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        model_id = self.env["ir.model"]._get_id("crm.lead")
        vals_list = []
        for lead in self:
            user = lead.user_id or lead.team_id.user_id or self.env.ref("base.user_admin")
            vals_list.append({
                "res_model_id": model_id, "res_id": lead.id,
                "activity_type_id": todo.id if todo else False,
                "summary": _("Nurture step not sent: %s", lead.nurture_step_id.display_name),
                "note": Markup("<p>%s</p>") % errors[lead.id],
                "date_deadline": fields.Date.context_today(lead),
                "user_id": user.id,
            })
        self.env["mail.activity"].sudo().with_context(
            mail_activity_quick_update=True).create(vals_list)

    # ------------------------------------------------------------------
    # Step actions: {lead id: error} for the leads that failed
    # ------------------------------------------------------------------
    def _lead_nurture_send_email(self, step):
        """E-mail the rendered template to each lead's customer, from the
        salesperson, through Odoo's batch composer: a normal e-mail for the
        customer (opt-outs respected), kept in the lead's chatter for the
        team. A batch that fails is retried lead by lead to isolate the
        failing ones."""
        errors = {}
        reachable = self.browse()
        for lead in self:
            if lead.partner_id.email or lead.email_from:
                reachable |= lead
            else:
                errors[lead.id] = _("the lead has no e-mail address (add one to the contact)")
        by_owner = {}
        for lead in reachable:
            by_owner.setdefault(lead.user_id, self.browse())
            by_owner[lead.user_id] |= lead
        for owner, leads in by_owner.items():
            try:
                with self.env.cr.savepoint():
                    leads._lead_nurture_mass_mail(step.template_id, owner)
                continue
            except Exception:  # noqa: BLE001 - isolate the failing leads below
                _logger.info("Nurture: template %s fails on a batch, sending lead by lead",
                             step.template_id.id)
            for lead in leads:
                try:
                    with self.env.cr.savepoint():
                        lead._lead_nurture_mass_mail(step.template_id, owner)
                except Exception as exc:  # noqa: BLE001 - reported on the lead, retried
                    errors[lead.id] = _(
                        "the template '%(tpl)s' could not be rendered or sent (%(error)s)",
                        tpl=step.template_id.name, error=exc)
        return errors

    def _lead_nurture_mass_mail(self, template, owner):
        author = owner.partner_id or self.env.company.partner_id
        # lead_nurture_batch_render: the body is rendered for the batch at once
        # (see mail.template._lead_nurture_render_body_batch)
        composer = self.env["mail.compose.message"].with_context(
            mail_notify_force_send=False, lead_nurture_batch_render=True).create({
                "composition_mode": "mass_mail", "model": "crm.lead",
                "res_ids": repr(self.ids), "template_id": template.id,
                "author_id": author.id, "force_send": False,
            })
        # Odoo's mass-mail values (rendering, recipients, blacklist and
        # opt-outs, message ids) for the whole batch; the records are created
        # below instead of by _action_send_mail, which works by 50 and
        # creates each message through mail.mail's _inherits (its body is
        # then sanitised three times instead of twice)
        values = composer._prepare_mail_values(self.ids)
        mails = self._lead_nurture_create_mails([values[lead_id] for lead_id in self.ids])
        self._message_mail_after_hook(mails)

    def _lead_nurture_create_mails(self, vals_list):
        """The mail.mail records of ``vals_list`` (values for mail.mail, as
        the composer prepares them): their chatter messages first, in one
        create, then the e-mails linked to them, in one create."""
        # sudo: queued e-mails are technical records, as in Odoo's composer
        Mail = self.env["mail.mail"].sudo()
        inherited = {name for name, field in Mail._fields.items() if field.inherited}
        message_vals, mail_vals = [], []
        for vals in vals_list:
            message_vals.append({k: v for k, v in vals.items() if k in inherited})
            mail_vals.append({k: v for k, v in vals.items() if k not in inherited})
        messages = self.env["mail.message"].sudo().create(message_vals)
        for message, vals in zip(messages, mail_vals):
            vals["mail_message_id"] = message.id
        return Mail.create(mail_vals)

    def _lead_nurture_send_activity(self, step):
        """A to-do for each lead's salesperson (the team leader without)."""
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        model_id = self.env["ir.model"]._get_id("crm.lead")
        errors = {}
        vals_list = []
        for lead in self:
            user = lead.user_id or lead.team_id.user_id
            if not user:
                errors[lead.id] = _("the lead has no salesperson and its team no leader to "
                                    "plan the to-do for")
                continue
            vals_list.append({
                "res_model_id": model_id, "res_id": lead.id,
                "activity_type_id": todo.id if todo else False,
                "summary": step.summary,
                "date_deadline": fields.Date.context_today(lead),
                "user_id": user.id,
            })
        self.env["mail.activity"].sudo().with_context(
            mail_activity_quick_update=True).create(vals_list)
        return errors

    # ------------------------------------------------------------------
    # Scheduling
    # ------------------------------------------------------------------
    @api.model
    def _lead_nurture_due_count(self, now):
        sequence_ids = [s["id"] for s in self._lead_nurture_sequence_data()]
        return self.sudo().search_count([
            ("nurture_state", "=", "running"), ("nurture_next_date", "<=", now),
            ("nurture_sequence_id", "in", sequence_ids)]) if sequence_ids else 0

    @api.model
    def _lead_nurture_next_due(self):
        """Earliest next touch of a running active sequence (one index scan)."""
        sequence_ids = [s["id"] for s in self._lead_nurture_sequence_data()]
        if not sequence_ids:
            return None
        self.env["crm.lead"].flush_model(["nurture_state", "nurture_next_date",
                                          "nurture_sequence_id"])
        self.env.cr.execute(SQL("""
            SELECT min(nurture_next_date) FROM crm_lead
             WHERE nurture_state = 'running' AND nurture_sequence_id = ANY(%s)""",
                                sequence_ids))
        return self.env.cr.fetchone()[0]

    @api.model
    def _lead_nurture_schedule(self, when):
        """Wake the cron at ``when`` (the trigger is created at commit)."""
        self._lead_sla_cron_at_commit(NURTURE_CRON, when)

    @api.model
    def _lead_nurture_trigger(self, when):
        self._lead_sla_cron_trigger(NURTURE_CRON, when)

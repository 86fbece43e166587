import json
import logging
from datetime import datetime, timedelta

from psycopg2 import errors as pg_errors

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, html2plaintext

from ..core import backoff, meta
from .lead_channel_capture_batch import ReplayOneByOne

_logger = logging.getLogger(__name__)

EVENT_KINDS = [
    (meta.WA_MESSAGE, "WhatsApp Message"),
    (meta.WA_STATUS, "WhatsApp Status"),
    (meta.LEADGEN, "Lead Ads"),
    (meta.MESSENGER, "Messenger"),
    (meta.INSTAGRAM, "Instagram"),
    (meta.ECHO, "Echo (our own message)"),
    (meta.UNKNOWN, "Other Notification"),
    ("form", "Web Form"),
    ("email", "E-mail"),
    ("manual", "Quick Capture"),
]
STATES = [("new", "New"), ("done", "Done"), ("duplicate", "Duplicate"),
          ("ignored", "Ignored"), ("failed", "Failed")]
TRANSIENT_ERRORS = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected,
                    pg_errors.LockNotAvailable)
# The inbox job, and a second job that only creates the leads of new contacts
# (both triggered by every delivery): with two cron workers, a burst of new
# contacts is captured by both at once (see _claim_new_contacts).
INBOX_LANES = ("lead_channels.ir_cron_process_events", "lead_channels.ir_cron_process_new_contacts")


class LeadChannelEvent(models.Model):
    """The inbox: every delivery is stored here first, then processed.

    Rows are appended by the controllers with INSERT ... ON CONFLICT (one SQL
    statement, no ORM), so answering Meta stays fast and a redelivery is a
    harmless ``duplicate`` row. Processing happens in a triggered cron.
    E-mail channels deliver here too (the alias targets this model), and the
    raw e-mail stays in the event's chatter.
    """
    _name = "lead.channel.event"
    _description = "Lead Channel Inbox Event"
    _inherit = ["mail.thread"]
    _order = "received_at desc, id desc"
    _rec_name = "external_id"

    channel_id = fields.Many2one("lead.channel", required=True, index=True, ondelete="restrict",
                                 readonly=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    channel_type = fields.Selection(related="channel_id.channel_type")
    external_id = fields.Char(
        string="External ID", required=True, readonly=True,
        help="wamid, leadgen_id, message mid, e-mail Message-Id or form submission id.")
    kind = fields.Selection(EVENT_KINDS, required=True, readonly=True)
    payload = fields.Text(readonly=True, help="The delivered element, in the sender's own JSON shape.")
    received_at = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True, index=True)
    state = fields.Selection(STATES, required=True, default="new", index=True, readonly=True)
    error = fields.Text(readonly=True)
    attempts = fields.Integer(readonly=True, help="Failed processing attempts.")
    next_attempt_at = fields.Datetime(readonly=True, index="btree_not_null")
    processed_at = fields.Datetime(readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Lead", index="btree_not_null", ondelete="set null",
                              readonly=True)
    remote_addr = fields.Char(string="Sender IP", readonly=True)
    posted_message_id = fields.Many2one(
        "mail.message", string="Posted Message", readonly=True, ondelete="set null",
        index="btree_not_null", help="The customer's message this event posted on the lead.")

    def init(self):
        # Unique (channel, external id) for every event that counts; the
        # redelivered copies are kept as 'duplicate' rows beside the original.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS lead_channel_event_channel_external_uniq
                ON lead_channel_event (channel_id, external_id) WHERE state <> 'duplicate'
        """)
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS lead_channel_event_todo_idx
                ON lead_channel_event (received_at) WHERE state IN ('new', 'failed')
        """)
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS lead_channel_event_ip_idx
                ON lead_channel_event (channel_id, remote_addr, received_at) WHERE remote_addr IS NOT NULL
        """)

    @api.depends("channel_id", "external_id")
    def _compute_display_name(self):
        for event in self:
            event.display_name = "%s / %s" % (event.channel_id.name or "", event.external_id or "")

    # ------------------------------------------------------------------
    # Storing (controllers)
    # ------------------------------------------------------------------
    @api.model
    def _store(self, channel_id, items, remote_addr=None):
        """Append ``[(kind, external_id, payload)]`` to the inbox in one statement.

        ``payload`` is a dict (dumped to JSON) or already a JSON text (the raw
        body of a single-element delivery, kept verbatim).

        :return: ``(new_ids, duplicate_count)``
        """
        if not items:
            return [], 0
        uid = self.env.uid
        known = self._stored_external_ids(channel_id, items)
        rows = [SQL("(%s, (SELECT company_id FROM lead_channel WHERE id = %s), %s, %s, %s, "
                    "now() at time zone 'UTC', %s, 0, %s, %s, now() at time zone 'UTC', %s, "
                    "now() at time zone 'UTC')",
                    channel_id, channel_id, str(ext)[:512], kind, _dump(payload), state,
                    remote_addr, uid, uid)
                for kind, ext, payload, state in ((*item, "new") for item in items)
                if str(ext)[:512] not in known]
        columns = SQL("(channel_id, company_id, external_id, kind, payload, received_at, state, "
                      "attempts, remote_addr, create_uid, create_date, write_uid, write_date)")

        def insert(values):
            # our own table: ON CONFLICT makes a redelivery a no-op in the same statement
            self.env.cr.execute(SQL("""
                INSERT INTO lead_channel_event %s VALUES %s
                ON CONFLICT (channel_id, external_id) WHERE state <> 'duplicate' DO NOTHING
                RETURNING id, external_id
            """, columns, SQL(", ").join(values)), log_exceptions=False)
            return self.env.cr.fetchall()

        try:
            with self.env.cr.savepoint(flush=False):
                inserted = insert(rows) if rows else []
        except pg_errors.SerializationFailure:
            # REPEATABLE READ: a concurrent delivery of the same id committed
            # after our snapshot. That item is a duplicate; find which one.
            inserted = []
            for row in rows:
                try:
                    with self.env.cr.savepoint(flush=False):
                        inserted += insert([row])
                except pg_errors.SerializationFailure:
                    continue
        new_ids = [row[0] for row in inserted]
        seen = {row[1] for row in inserted}
        dup_items, first = [], set()
        for kind, ext, payload in items:
            ext = str(ext)[:512]
            if ext in seen and ext not in first:
                first.add(ext)  # the stored original
                continue
            dup_items.append((kind, ext, payload))
        if dup_items:
            dup_rows = [SQL("(%s, (SELECT company_id FROM lead_channel WHERE id = %s), %s, %s, %s, "
                            "now() at time zone 'UTC', 'duplicate', 0, %s, %s, now() at time zone 'UTC', "
                            "%s, now() at time zone 'UTC', now() at time zone 'UTC')",
                            channel_id, channel_id, ext, kind, _dump(payload), remote_addr, uid, uid)
                        for kind, ext, payload in dup_items]
            # our own table: the redelivered copies in one statement (the ORM would insert row by row)
            self.env.cr.execute(SQL(
                "INSERT INTO lead_channel_event (channel_id, company_id, external_id, kind, payload, "
                "received_at, state, attempts, remote_addr, create_uid, create_date, write_uid, "
                "write_date, processed_at) VALUES %s", SQL(", ").join(dup_rows)))
        if new_ids:
            self._trigger_processing()
        return new_ids, len(dup_items)

    @api.model
    def _stored_external_ids(self, channel_id, items):
        """The external ids of ``items`` already in the inbox (their redeliveries).

        Looked up before the insert: the insert's unique check on an event
        that the inbox job is processing at that moment (its row locked and
        updated) would wait for the job's commit, and Meta's answer with it.
        A plain read sees the committed row at once. An original stored
        meanwhile by another request is still caught by ON CONFLICT.
        """
        # our own table; SQL so that the read is served by the partial unique index
        # (the ORM's "!=" adds "OR state IS NULL", which that index cannot answer)
        self.env.cr.execute("""
            SELECT external_id FROM lead_channel_event
             WHERE channel_id = %s AND external_id = ANY(%s) AND state <> 'duplicate'
        """, [channel_id, [str(item[1])[:512] for item in items]])
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _trigger_processing(self):
        """Ask both inbox lanes to run (``ir.cron._trigger()``).

        A trigger for "now" also wakes a cron worker after our commit, over a
        new connection to the ``postgres`` database: a large share of a
        webhook request. When a trigger for the main lane was queued less
        than a second ago, the job runs or is about to, and it keeps polling
        IDLE_LINGER (> 1 s) after the last delivery it saw: our trigger is
        then queued a second ahead, which wakes nobody, yet still guarantees
        a run after our commit.
        """
        Cron = self.env["ir.cron"].sudo()
        xmlid_to_id = self.env["ir.model.data"]._xmlid_to_res_id  # cached xml id lookups, no query
        cron_ids = [xmlid_to_id(xmlid, raise_if_not_found=False) for xmlid in INBOX_LANES]
        cron_ids = [cron_id for cron_id in cron_ids if cron_id]
        if not cron_ids:
            return
        now = fields.Datetime.now()
        # only a trigger "for now" woke the worker: the ones a second ahead must not count
        recent = self.env["ir.cron.trigger"].sudo().search_count(
            [("cron_id", "=", cron_ids[0]), ("call_at", ">", now - timedelta(seconds=1)),
             ("call_at", "<=", now)], limit=1)
        for cron_id in cron_ids:
            Cron.browse(cron_id)._trigger(at=now + timedelta(seconds=1) if recent else None)

    # ------------------------------------------------------------------
    # E-mail gateway (alias of e-mail channels)
    # ------------------------------------------------------------------
    @api.model
    def message_new(self, msg_dict, custom_values=None):
        custom_values = dict(custom_values or {})
        channel = self.env["lead.channel"].sudo().browse(custom_values.get("channel_id")).exists()
        if not channel:
            raise UserError(_("E-mail received on an alias without channel."))
        body = msg_dict.get("body") or ""
        payload = {
            "subject": msg_dict.get("subject") or "",
            "from": msg_dict.get("email_from") or msg_dict.get("from") or "",
            "message_id": msg_dict.get("message_id") or "",
            "date": msg_dict.get("date") and str(msg_dict["date"]),
            "body": _html_to_text(body),
        }
        external_id = payload["message_id"] or "email:%s" % meta._digest(payload)
        event = self.with_context(mail_create_nolog=True).create({
            "channel_id": channel.id, "kind": "email", "external_id": external_id[:512],
            "payload": json.dumps(payload, ensure_ascii=False),
        })
        self._trigger_processing()
        return event

    @api.model
    def _capture_form(self, channel_id, submission_id, values, remote_addr=None):
        """Store a web-form submission and create its lead in this request.

        The lead is created in READ COMMITTED, like a chunk of new contacts
        (``_claim_new_contacts``): a routing through the same rule or a
        delivery of the same contact that holds a lock is waited for, then read
        as it committed. Under REPEATABLE READ the request could only fail and
        be replayed by Odoo after a random pause of up to 2 s, then 4 s, with
        its HTTP worker held meanwhile. A failure that remains (a deadlock)
        leaves the stored submission to the inbox job: nothing is lost.

        :return: the event; its ``lead_id`` is set when the lead was created
        """
        cr = self.env.cr
        own_transaction = not self.env.registry.in_test_mode()
        if own_transaction:
            # only reads so far; the isolation level must precede a transaction's first query
            cr.commit()
            cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        event = self._store_form(channel_id, submission_id, values, remote_addr)
        try:
            event.with_context(lead_channels_raise_transient=True)._process()
            cr.flush()  # the pre-commit work (routing, open-lead counts) fails here, not at commit
        except TRANSIENT_ERRORS:
            if not own_transaction:
                raise
            cr.rollback()
            self.env.reset()
            event = self._store_form(channel_id, submission_id, values, remote_addr)
        return event

    @api.model
    def _store_form(self, channel_id, submission_id, values, remote_addr):
        new_ids, _dups = self._store(channel_id, [("form", submission_id, values)], remote_addr=remote_addr)
        # the same submission sent twice: its first event
        return self.browse(new_ids) or self.search(
            [("channel_id", "=", channel_id), ("external_id", "=", submission_id),
             ("state", "!=", "duplicate")], limit=1)

    def _posted_wamids(self):
        """The WhatsApp messages of these events already in a lead's chatter,
        found in one query for the batch (``capture._already_posted``):
        ``({wamid: message id}, wamids the batch holds more than once)``. A
        repeated one is looked up again when its turn comes, since an earlier
        event of the batch may have posted it."""
        wamids = [event.external_id for event in self if event.kind == meta.WA_MESSAGE]
        if not wamids:
            return ({}, frozenset())
        posted = self.env["mail.message"].sudo().search_fetch(
            [("wa_message_id", "in", wamids), ("wa_state", "=", "received"), ("model", "=", "crm.lead")],
            ["wa_message_id"])
        seen, repeated = set(), set()
        for wamid in wamids:
            (repeated if wamid in seen else seen).add(wamid)
        return ({message.wa_message_id: message.id for message in posted}, frozenset(repeated))

    # ------------------------------------------------------------------
    # Processing (the cron lanes that call it: lead_channel_event_lanes.py)
    # ------------------------------------------------------------------
    def _process(self):
        """Process these events now; each ends done, ignored or failed (never lost)."""
        if "lead_channels_posted_wamids" not in self.env.context:
            return self.with_context(lead_channels_posted_wamids=self._posted_wamids())._process()
        prepared = self.env.context.get("lead_channels_prepared") or {}
        for event in self.sudo():
            if event.state not in ("new", "failed"):
                continue
            if event.id in prepared:
                # its lead exists already: any error replays the whole chunk one
                # event at a time, so a savepoint of its own would buy nothing
                try:
                    event._process_one()
                except TRANSIENT_ERRORS:
                    raise
                except Exception as exc:  # noqa: BLE001 - see _process_one_by_one
                    raise ReplayOneByOne() from exc
                continue
            try:
                with self.env.cr.savepoint():
                    event._process_one()
            except TRANSIENT_ERRORS as exc:
                if self.env.context.get("lead_channels_raise_transient"):
                    raise  # the cron replays the event in a fresh transaction
                self.env.invalidate_all()
                event._mark_failed(exc)
            except Exception as exc:  # noqa: BLE001 - kept on the event, retried later
                posts = self.env.context.get("lead_channels_posts")
                if posts:  # its savepoint is gone: so is its message
                    posts[:] = [post for post in posts if post[0] != event.id]
                _logger.info("lead_channels: event %s failed: %s", event.id, exc)
                self.env.invalidate_all()
                event._mark_failed(exc)
        return True

    def _mark_failed(self, exc):
        """Record a failure, to be retried later. An event whose content is
        on the lead (its message committed before the failure) is not
        failed: its retry could only post the content twice."""
        message = exc.args[0] if isinstance(exc, UserError) and exc.args else "%s: %s" % (
            exc.__class__.__name__, exc)
        if self.posted_message_id.exists():
            self._finish("done", error=_("Posted on the lead; then: %s", message))
            return
        attempts = self.attempts + 1
        nxt = fields.Datetime.now() + timedelta(seconds=backoff.retry_delay(attempts)) \
            if backoff.should_retry(attempts) else False
        self.write({"state": "failed", "attempts": attempts, "error": message, "next_attempt_at": nxt})

    def _finish(self, state, lead=None, error=False):
        # processed_at keeps microseconds: delivery -> lead latency is measured from it
        # no tracked field here: skip mail.thread's tracking pass on this hot path
        self.with_context(tracking_disable=True).write({"state": state, "lead_id": lead.id if lead else self.lead_id.id,
                    "processed_at": datetime.utcnow(), "error": error, "next_attempt_at": False})

    def action_retry(self):
        """Re-run the processing now (button); the result shows on the event."""
        events = self.filtered(lambda e: e.state in ("failed", "new"))
        if not events:
            raise UserError(_("Only new or failed events can be retried."))
        events._process()
        return True

    def _payload(self):
        return json.loads(self.payload or "{}")

    def _process_one(self):
        # sudo: a delivery is nobody's (public webhook, cron); the channel's settings decide
        self.env["lead.channel.capture"].sudo()._capture(self)

    def _prepare_new_contacts(self):
        """The leads of the chunk's new contacts, created together (see the capture service)."""
        return self.env["lead.channel.capture"].sudo()._prepare_new_contacts(self, TRANSIENT_ERRORS)

    @api.model
    def _apply_early_statuses(self, channel, message):
        """Meta may report 'delivered' before our transaction recording the send
        committed: replay the statuses already in the inbox for this wamid."""
        events = self.search([("channel_id", "=", channel.id), ("kind", "=", meta.WA_STATUS),
                              ("external_id", "=like", "status:%s:%%" % message.wa_message_id)],
                             order="received_at, id")
        for event in events:
            data = meta.parse_whatsapp_status(event._payload())
            if meta.status_moves_forward(message.wa_state, data["status"]):
                message.sudo().write({"wa_state": data["status"], "wa_error": data["error"] or False})
            event._finish("ignored", self.env["crm.lead"].browse(message.res_id))

    # ------------------------------------------------------------------
    # Notifications of the customer messages posted by the job
    # ------------------------------------------------------------------
    @api.model
    def _send_inbound_notifications(self, limit=None):
        """Notify the followers of the customer messages posted by the inbox job
        that are still queued (oldest first): run by the job once the inbox is
        drained. Rows another transaction holds are left to it."""
        self.env["mail.message.schedule"].flush_model()
        # a read with SKIP LOCKED (no ORM equivalent): two lanes never send one notification twice
        self.env.cr.execute("""
            SELECT s.id FROM mail_message_schedule s
              JOIN lead_channel_event e ON e.posted_message_id = s.mail_message_id
             ORDER BY s.id LIMIT %s
               FOR UPDATE OF s SKIP LOCKED
        """, [limit])
        schedules = self.env["mail.message.schedule"].sudo().browse([row[0] for row in self.env.cr.fetchall()])
        if schedules:
            schedules._send_notifications()
        return len(schedules)

    @api.model
    def _queued_notification_count(self):
        self.env.cr.execute("""
            SELECT count(*) FROM mail_message_schedule s
              JOIN lead_channel_event e ON e.posted_message_id = s.mail_message_id
        """)
        return self.env.cr.fetchone()[0]

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------
    @api.autovacuum
    def _gc_processed_events(self):
        """Purge processed events older than each company's retention (failed ones are kept)."""
        for company in self.env["res.company"].sudo().search([("lead_channel_retention_days", ">", 0)]):
            limit_date = fields.Datetime.now() - timedelta(days=company.lead_channel_retention_days)
            # e-mails carry a chatter and attachments: the ORM removes them too
            self.sudo().search([("company_id", "=", company.id), ("kind", "=", "email"),
                         ("state", "in", ("done", "duplicate", "ignored")),
                         ("received_at", "<", limit_date)]).unlink()
            self.env.cr.execute("""
                DELETE FROM lead_channel_event
                 WHERE company_id = %s AND state IN ('done', 'duplicate', 'ignored') AND received_at < %s
                   AND kind != 'email'
            """, [company.id, limit_date])
            self.invalidate_model()


def _dump(payload):
    return payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)


def _html_to_text(html):
    return html2plaintext(html or "") if "<" in (html or "") else (html or "")

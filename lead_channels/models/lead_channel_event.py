import json
import logging
import threading
import time
from datetime import datetime, timedelta

from markupsafe import Markup, escape
from psycopg2 import errors as pg_errors
from psycopg2.extras import execute_values

from odoo import Command, _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import SQL

from ..core import backoff, email_parsers, mapping, meta
from ..core.phone import contact_keys, normalize_email, normalize_phone

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
CRON_BATCH = 200
CHUNK_SIZE = 20
# The job keeps taking new events for up to CRON_BUDGET seconds per run (then
# reports what remains and Odoo runs it again at once), and keeps polling for
# IDLE_LINGER seconds after the last delivery it saw: a burst is drained by
# one running job instead of waiting for wake-ups between runs.
CRON_BUDGET = 30
IDLE_POLL = 0.1
IDLE_LINGER = 2
SCAN_SIZE = 2000  # due events looked at when choosing the next chunk (ids only)
NEW_CONTACTS_CHUNK = 100  # first messages of new contacts: their leads are created together
NOTIFY_BATCH = 50  # queued follower notifications sent between two looks at the inbox
NOTIFY_SAFETY_DELAY = 60  # seconds before Odoo's own cron sends what the job has not
# The inbox job, and a second job that only creates the leads of new contacts
# (both triggered by every delivery): with two cron workers, a burst of new
# contacts is captured by both at once (see _claim_new_contacts).
INBOX_LANES = ("lead_channels.ir_cron_process_events", "lead_channels.ir_cron_process_new_contacts")


class _ReplayOneByOne(Exception):
    """A chunk must be rolled back and processed again one event per transaction."""


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
        rows = [SQL("(%s, (SELECT company_id FROM lead_channel WHERE id = %s), %s, %s, %s, "
                    "now() at time zone 'UTC', %s, 0, %s, %s, now() at time zone 'UTC', %s, "
                    "now() at time zone 'UTC')",
                    channel_id, channel_id, str(ext)[:512], kind, _dump(payload), state,
                    remote_addr, uid, uid)
                for kind, ext, payload, state in ((*item, "new") for item in items)]
        columns = SQL("(channel_id, company_id, external_id, kind, payload, received_at, state, "
                      "attempts, remote_addr, create_uid, create_date, write_uid, write_date)")

        def insert(values):
            self.env.cr.execute(SQL("""
                INSERT INTO lead_channel_event %s VALUES %s
                ON CONFLICT (channel_id, external_id) WHERE state <> 'duplicate' DO NOTHING
                RETURNING id, external_id
            """, columns, SQL(", ").join(values)), log_exceptions=False)
            return self.env.cr.fetchall()

        try:
            with self.env.cr.savepoint(flush=False):
                inserted = insert(rows)
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
            self.env.cr.execute(SQL(
                "INSERT INTO lead_channel_event (channel_id, company_id, external_id, kind, payload, "
                "received_at, state, attempts, remote_addr, create_uid, create_date, write_uid, "
                "write_date, processed_at) VALUES %s", SQL(", ").join(dup_rows)))
        if new_ids:
            self._trigger_processing()
        return new_ids, len(dup_items)

    @api.model
    def _trigger_processing(self):
        """Ask for the inbox job now: ``ir.cron._trigger()`` made cheap for the webhook.

        The ORM trigger costs a create and a NOTIFY over a fresh connection to
        the ``postgres`` database (Odoo never pools those): a third of a
        webhook request. Here the same ``ir_cron_trigger`` row is inserted with
        one statement, so a run after our commit stays guaranteed (a run only
        deletes the triggers it could see when it began). The NOTIFY waking a
        sleeping cron worker is skipped when another trigger was queued less
        than a second before: the job then runs or is about to, and it keeps
        polling IDLE_LINGER (> 1 s) after the last delivery it saw. A request
        slower than half a second notifies anyway, so no delivery waits for
        the worker's periodic wake-up.
        """
        xmlid_to_id = self.env["ir.model.data"]._xmlid_to_res_id  # cached xml id lookups, no query
        cron_ids = [cron_id for cron_id in (xmlid_to_id(xmlid, raise_if_not_found=False) for xmlid in INBOX_LANES)
                    if cron_id]
        if not cron_ids:
            return
        self.env.cr.execute("""
            WITH recent AS (
                SELECT 1 FROM ir_cron_trigger
                 WHERE cron_id = %(cron)s AND call_at > now() at time zone 'UTC' - interval '1 second'
                 LIMIT 1
            )
            INSERT INTO ir_cron_trigger (cron_id, call_at, create_uid, create_date, write_uid, write_date)
                 SELECT cron_id, now() at time zone 'UTC', %(uid)s, now() at time zone 'UTC',
                        %(uid)s, now() at time zone 'UTC'
                   FROM unnest(%(crons)s::int[]) AS cron_id
            RETURNING NOT EXISTS (SELECT 1 FROM recent) OR clock_timestamp() - now() > interval '0.5 second'
        """, {"cron": cron_ids[0], "crons": cron_ids, "uid": self.env.uid})
        if self.env.cr.fetchall()[0][0]:
            self.env.cr.postcommit.add(self.env["ir.cron"].sudo().browse(cron_ids[0])._notifydb)

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

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------
    def _todo_domain(self):
        return ["|", ("state", "=", "new"),
                "&", ("state", "=", "failed"), ("next_attempt_at", "<=", fields.Datetime.now())]

    @api.model
    def _cron_process_events(self, limit=CRON_BATCH):
        """Process due events, committing every few events outside of tests.

        A run keeps taking the events that arrive meanwhile (up to CRON_BUDGET
        seconds, IDLE_LINGER after the last delivery), so a burst does not
        wait for the next wake-up of the cron worker.
        """
        if getattr(threading.current_thread(), "testing", False):  # a test transaction is never committed
            events = self.search(self._todo_domain(), order="received_at, id", limit=limit)
            events._process()
            done = len(events)
            remaining = self.search_count(self._todo_domain()) if len(events) >= limit else 0
        else:
            done, remaining = self._process_for(CRON_BUDGET, limit)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        self._schedule_retries()
        return done

    @api.model
    def _cron_process_new_contacts(self):
        """Second lane of the inbox: the first messages of new contacts only.

        Runs beside ``_cron_process_events`` when Odoo has a second cron
        worker (``--max-cron-threads``, 2 by default): the leads of a burst of
        new contacts are then created and routed by both, each claiming its
        own chunk. Everything else (known contacts, other channels,
        notifications, retries) stays with the main job, which also does this
        lane's work when it runs alone.
        """
        if getattr(threading.current_thread(), "testing", False):
            return 0  # tests run the main job, which processes everything
        done, _remaining = self._process_for(CRON_BUDGET, new_contacts_only=True)
        self.env["ir.cron"]._notify_progress(done=done, remaining=0)
        return done

    @api.model
    def _process_for(self, budget, limit=CRON_BATCH, new_contacts_only=False):
        """Process due events until none is left or ``budget`` seconds passed.

        :param new_contacts_only: the second lane: only new contacts' first
            messages, and no notifications
        :return: ``(done, remaining)``, remaining > 0 only when the budget ran out
        """
        started = time.monotonic()
        done = 0
        run = {"first": {}, "keys": set()}  # see _next_ids
        while time.monotonic() - started < budget:
            ids, firsts = self._next_ids(run, limit)
            if firsts:
                progress = self._claim_new_contacts(ids, run)
                done += progress
                if progress:
                    continue
                # all of them are being captured by the other lane: their
                # contacts' next messages wait for those leads
                self.env.cr.commit()
                time.sleep(IDLE_POLL)
                continue
            if new_contacts_only:  # the rest is the main job's
                if not self._recent_deliveries():
                    return done, 0
                time.sleep(IDLE_POLL)
                continue
            progress = self._process_committing(ids) if ids else 0
            done += progress
            if progress:
                continue
            # inbox drained: notify the followers of the messages just posted
            # (a batch at a time: a new delivery goes first)
            try:
                sent = self._send_inbound_notifications(limit=NOTIFY_BATCH)
                self.env.cr.commit()
            except TRANSIENT_ERRORS:  # Odoo's own cron took them: fine
                sent = 0
                self.env.cr.rollback()
            self.env.invalidate_all()
            if sent:
                continue
            # nothing (or only events another transaction holds): wait a little
            # while deliveries are still coming in, then stop
            if not self._recent_deliveries():
                return done, 0
            time.sleep(IDLE_POLL)
        # budget spent: what is left (events, notifications) makes Odoo run the job again at once
        return done, len(self._todo_ids(limit)) + self._queued_notification_count()

    @api.model
    def _recent_deliveries(self):
        """Whether a delivery came in the last IDLE_LINGER seconds (the
        snapshot is ended: the next poll sees new deliveries)."""
        self.env.cr.execute("""
            SELECT EXISTS (SELECT 1 FROM lead_channel_event
                            WHERE received_at > now() at time zone 'UTC' - %s * interval '1 second')
        """, [IDLE_LINGER])
        recent = self.env.cr.fetchone()[0]
        self.env.cr.commit()
        return recent

    @api.model
    def _todo_ids(self, limit):
        self.env.cr.execute("""
            SELECT id FROM lead_channel_event
             WHERE state IN ('new', 'failed')  -- lead_channel_event_todo_idx
               AND (state = 'new' OR next_attempt_at <= now() at time zone 'UTC')
             ORDER BY received_at, id LIMIT %s
        """, [limit])
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _next_ids(self, run, limit):
        """``(ids, new_contacts)``: the first message of each contact never
        seen before, when there are any (a new lead nobody owns yet: route it
        at once), else the next CHUNK_SIZE due events in arrival order. A
        contact's own messages keep their order: only its first one moves
        ahead.

        ``run["first"]`` caches the classification (event id -> bool) for the
        run, ``run["keys"]`` the keys of the contacts moved ahead; new events
        are classified set-based (one query for their payloads, one for the
        contact keys already known).
        """
        todo = self._todo_ids(max(limit, SCAN_SIZE))
        first = run["first"]
        unknown = [event_id for event_id in todo if event_id not in first]
        if unknown:
            self._classify_first_of_contact(unknown, run)
        firsts = [i for i in todo if first.get(i)]
        if firsts:
            # new leads nobody owns yet go first, in chunks claimed by
            # _claim_new_contacts (creating their leads together costs much
            # less per lead)
            return firsts, True
        return todo[:CHUNK_SIZE], False

    @api.model
    def _classify_first_of_contact(self, event_ids, run):
        self.env.cr.execute("""
            SELECT id, kind, payload, company_id, channel_id FROM lead_channel_event
             WHERE id = ANY(%s) ORDER BY received_at, id
        """, [event_ids])
        rows = self.env.cr.fetchall()
        regions, keys_of = {}, {}
        first = run["first"]
        for event_id, kind, payload, company_id, channel_id in rows:
            first[event_id] = False
            if kind != meta.WA_MESSAGE:
                continue  # only WhatsApp bursts matter here; the others keep arrival order
            if channel_id not in regions:
                regions[channel_id] = self.env["lead.channel"].sudo().browse(channel_id)._region()
            try:  # the same keys as _process_whatsapp / _ingest
                data = meta.parse_whatsapp_message(json.loads(payload or "{}"))
                phone = normalize_phone(data["wa_id"], regions[channel_id], international=True) \
                    if data["wa_id"] else None
                keys = {(key[:255], company_id) for key in contact_keys(phone, data["contact_ref"], None)}
            except Exception:  # noqa: BLE001 - a broken payload fails in its own processing
                continue
            if keys:
                keys_of[event_id] = keys
        if not keys_of:
            return
        all_keys = set().union(*keys_of.values())
        self.env.cr.execute("""
            SELECT key, company_id FROM lead_channel_contact_key WHERE key = ANY(%s)
        """, [list({key for key, _company in all_keys})])
        known = set(self.env.cr.fetchall()) | run["keys"]
        for event_id, _kind, _payload, _company, _channel in rows:  # arrival order
            keys = keys_of.get(event_id)
            if keys and not keys & known:
                first[event_id] = True
                run["keys"] |= keys
            if keys:
                known |= keys

    @api.model
    def _process_committing(self, event_ids):
        """Process events and commit them in chunks of at most CHUNK_SIZE events.

        A crash costs one event only (each runs under a savepoint). A conflict
        (another transaction created the same contact's lead meanwhile), or a
        failure of an event whose lead was created with the chunk's others,
        rolls the chunk back and replays its events one per transaction, in
        fresh snapshots that see that lead instead of making a second one.
        """
        done = 0
        pending = list(event_ids)
        while pending:
            chunk, pending = pending[:CHUNK_SIZE], pending[CHUNK_SIZE:]
            try:
                processed = self._process_chunk(chunk)
                self._commit_chunk(processed)
                done += len(processed)
            except TRANSIENT_ERRORS + (_ReplayOneByOne,):
                self.env.cr.rollback()
                self.env.invalidate_all()
                done += self._process_one_by_one(chunk)
        return done

    @api.model
    def _claim_new_contacts(self, candidate_ids, run=None):
        """Claim the oldest NEW_CONTACTS_CHUNK of these first messages of new
        contacts that no other transaction holds, and process them: their
        leads are created, scored and routed together.

        The chunk runs in READ COMMITTED: two lanes capturing new contacts at
        once meet on the routing rule's row lock, and the second must wait
        and then route from the rotation the first committed (under
        REPEATABLE READ it could only fail and replay its chunk event by
        event). Everything shared is locked before it is read: the rule's
        row (routing), the contact keys (find-or-create of the lead).
        """
        claimed = self._claim_new_contacts_chunk(candidate_ids)
        if not claimed:
            return 0
        try:
            self._commit_chunk(self._process_chunk(claimed, locked=True))
            return len(claimed)
        except TRANSIENT_ERRORS + (_ReplayOneByOne,):
            self.env.cr.rollback()
            self.env.invalidate_all()
            done = self._process_one_by_one(claimed)
            if done < len(claimed) and run is not None:
                # still waiting after three tries: back in arrival order, so
                # that it cannot hold up the rest of the inbox in this run
                run["first"].update(dict.fromkeys(claimed, False))
            return done

    @api.model
    def _claim_new_contacts_chunk(self, candidate_ids, limit=NEW_CONTACTS_CHUNK):
        """Start the chunk's transaction (READ COMMITTED) and lock in it the
        oldest ``limit`` candidates no other transaction holds.

        :return: their ids, oldest first
        """
        self.env.cr.commit()
        self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        self.env.cr.execute("""
            SELECT id FROM lead_channel_event
             WHERE id = ANY(%s) AND state IN ('new', 'failed')
             ORDER BY received_at, id LIMIT %s
               FOR NO KEY UPDATE SKIP LOCKED
        """, [list(candidate_ids), limit])
        return [row[0] for row in self.env.cr.fetchall()]

    @api.model
    def _commit_chunk(self, event_ids):
        """Commit a processed chunk: what runs at commit (routing of its new
        leads) first, then the time it is done is set on its events."""
        try:
            self.env.cr.flush()  # the ORM's last writes, then the pre-commit hooks
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - find the culprit one event at a time
            raise _ReplayOneByOne() from exc
        # processed_at is the moment the chunk's leads are routed, messages posted
        self.env.cr.execute("""
            UPDATE lead_channel_event SET processed_at = clock_timestamp() at time zone 'UTC'
             WHERE id = ANY(%s) AND state IN ('done', 'ignored')
        """, [list(event_ids)])
        self.env.cr.commit()
        # the next chunk starts a new snapshot: drop what this one cached
        # (another transaction may have written the same lead meanwhile)
        self.env.invalidate_all()

    @api.model
    def _process_chunk(self, event_ids, locked=False):
        """Process events (locked here, or already by the caller) together.

        :return: the ids of the events processed (those locked)
        """
        if not locked:
            self.env.cr.execute(
                "SELECT id FROM lead_channel_event WHERE id = ANY(%s) AND state IN ('new', 'failed') "
                "FOR NO KEY UPDATE SKIP LOCKED", [list(event_ids)])
            locked_ids = {row[0] for row in self.env.cr.fetchall()}
            event_ids = [event_id for event_id in event_ids if event_id in locked_ids]  # given order
        events = self.browse(event_ids)
        prepared = events._prepare_new_contacts()
        posts = []
        events.with_context(lead_channels_raise_transient=True, lead_channels_prepared=prepared,
                            lead_channels_posts=posts)._process()
        # no savepoint around the batches: a savepoint flushes, and so would
        # run the routing of the new leads (deferred to the commit) too early;
        # a failure replays the whole chunk one event at a time anyway
        if posts:
            try:
                self._post_inbound_batch(posts)
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - find the culprit one event at a time
                raise _ReplayOneByOne() from exc
        return events.ids

    def _lock_and_process(self, event_id):
        self.env.cr.execute(
            "SELECT id FROM lead_channel_event WHERE id = %s AND state IN ('new', 'failed') "
            "FOR NO KEY UPDATE SKIP LOCKED", [event_id])
        if not self.env.cr.fetchone():
            return 0
        self.browse(event_id).with_context(lead_channels_raise_transient=True)._process()
        return 1

    @api.model
    def _process_one_by_one(self, event_ids):
        done = 0
        for event_id in event_ids:
            for _attempt in range(3):
                try:
                    done += self._lock_and_process(event_id)
                    self.env.cr.commit()
                    self.env.invalidate_all()
                    break
                except TRANSIENT_ERRORS:
                    self.env.cr.rollback()
                    self.env.invalidate_all()
        return done

    def _schedule_retries(self):
        self.env.cr.execute("""
            SELECT min(next_attempt_at) FROM lead_channel_event
             WHERE state = 'failed' AND next_attempt_at > now() at time zone 'UTC'
        """)
        at = self.env.cr.fetchone()[0]
        if at:
            self.env.ref("lead_channels.ir_cron_process_events").sudo()._trigger(at=at)

    def _process(self):
        """Process these events now; each ends done, ignored or failed (never lost)."""
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
                    raise _ReplayOneByOne() from exc
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
        attempts = self.attempts + 1
        message = exc.args[0] if isinstance(exc, UserError) and exc.args else "%s: %s" % (
            exc.__class__.__name__, exc)
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
        handler = {
            meta.WA_MESSAGE: self._process_whatsapp,
            meta.WA_STATUS: self._process_whatsapp_status,
            meta.LEADGEN: self._process_leadgen,
            meta.MESSENGER: self._process_messaging,
            meta.INSTAGRAM: self._process_messaging,
            "email": self._process_email,
            "form": self._process_form,
            "manual": self._process_manual,
        }.get(self.kind)
        if not handler:
            self._finish("ignored", error=_("Nothing to do for %s notifications.", self.kind))
            return
        handler()

    # --- WhatsApp -------------------------------------------------------
    def _whatsapp_message(self, region):
        """(parsed message, E.164 phone or None) of a stored WhatsApp message."""
        data = meta.parse_whatsapp_message(self._payload())
        phone = normalize_phone(data["wa_id"], region, international=True) if data["wa_id"] else None
        return data, phone

    def _process_whatsapp(self):
        channel = self.channel_id
        data, phone = self._whatsapp_message(channel._region())
        sent_at = _from_timestamp(data["timestamp"])
        contact = {"name": data["name"], "phone": phone, "contact_ref": data["contact_ref"]}
        message = {"body": data["text"], "date": sent_at, "wa_message_id": data["wamid"]}
        prepared = (self.env.context.get("lead_channels_prepared") or {}).get(self.id)
        if prepared:  # lead created with the chunk's other new contacts (_prepare_new_contacts)
            lead = self.env["crm.lead"].sudo().browse(prepared[0])
            if message["body"]:
                self._post_inbound(lead, self.env["res.partner"].sudo().browse(prepared[1]), message)
        else:
            lead = self._ingest(contact, message, _referral_values(self.env, data["referral"]),
                                wa_inbound_at=sent_at)
        self._finish("done", lead)

    def _prepare_new_contacts(self):
        """Create in one go the leads of the new WhatsApp contacts of a chunk.

        ``self``: the chunk's events, locked. For the first message of each
        contact without an open lead, the partner (when none matches) and the
        lead are created with one ``create()`` each, so scoring and routing
        run set-based; the message is then posted by ``_process_whatsapp``.
        The values are those ``_ingest`` would give, under the same contact
        key locks. Returns ``{event id: (lead id, partner id)}``; any
        non-transient error replays the chunk one event at a time.
        """
        candidates, claimed = [], set()
        for event in self.sudo():
            if event.kind != meta.WA_MESSAGE or event.state not in ("new", "failed"):
                continue
            try:
                data, phone = event._whatsapp_message(event.channel_id._region())
            except Exception:  # noqa: BLE001 - fails in its own processing
                continue
            ref = data["contact_ref"]
            keys = {(key, event.company_id.id) for key in contact_keys(phone, ref, None)}
            if not keys or keys & claimed:
                claimed |= keys  # a later message of a contact of this chunk: normal path
                continue
            claimed |= keys
            candidates.append((event, data, phone, ref, keys))
        if len(candidates) < 2:
            return {}
        try:
            return self._create_new_contacts(candidates)
        except TRANSIENT_ERRORS:
            raise
        except Exception as exc:  # noqa: BLE001 - the one-by-one path records each error
            _logger.info("lead_channels: batch creation skipped: %s", exc)
            raise _ReplayOneByOne() from exc

    def _create_new_contacts(self, candidates):
        Key = self.env["lead.channel.contact.key"].sudo()
        by_company = {}
        for _event, _data, _phone, _ref, keys in candidates:
            for key, company_id in keys:
                by_company.setdefault(company_id, set()).add(key)
        for company_id in sorted(by_company):  # _lock_keys sorts the keys: the same lock order as _ingest
            Key._lock_keys(company_id, by_company[company_id])
        phones = [c[2] for c in candidates if c[2]]
        refs = [c[3] for c in candidates if c[3]]
        company_ids = list(by_company) + [False]
        open_leads = self.env["crm.lead"].sudo().search_fetch(expression.AND([
            expression.OR([[("phone_sanitized", "in", phones)], [("channel_contact_ref", "in", refs)]]),
            [("company_id", "in", company_ids)],
            ["|", ("stage_id", "=", False), ("stage_id.is_won", "=", False)],
        ]), ["phone_sanitized", "channel_contact_ref", "company_id"])
        taken = set()
        for lead in open_leads:
            taken.add(("phone", lead.phone_sanitized, lead.company_id.id))
            taken.add(("ref", lead.channel_contact_ref, lead.company_id.id))
        new_contacts = []
        for event, data, phone, ref, _keys in candidates:
            company_id = event.company_id.id
            if any(k in taken for k in (("phone", phone, company_id), ("ref", ref, company_id),
                                         ("phone", phone, False), ("ref", ref, False)) if k[1]):
                continue  # the contact has an open lead: the normal path updates it
            new_contacts.append((event, data, phone, ref))
        if not new_contacts:
            return {}
        known = self._find_partners(new_contacts)
        todo = [(event, data, phone, {"name": data["name"], "phone": phone, "contact_ref": ref},
                 known.get(event.id) or self.env["res.partner"])
                for event, data, phone, ref in new_contacts]
        missing = [row for row in todo if not row[4]]
        created = self.env["res.partner"].sudo().with_context(mail_create_nolog=True).create(
            [_partner_values(contact, phone, None) for _e, _d, phone, contact, _p in missing])
        partners = {row[0].id: partner for row, partner in zip(missing, created)}
        vals_list, events, lead_partners = [], [], []
        for event, data, phone, contact, partner in todo:
            partner = partner or partners[event.id]
            sent_at = _from_timestamp(data["timestamp"])
            lead_values = {k: v for k, v in _referral_values(self.env, data["referral"]).items()
                           if v not in (None, "")}
            vals_list.append(event._new_lead_values(contact, phone, None, partner, lead_values,
                                                    {"body": data["text"]}, sent_at))
            events.append(event)
            lead_partners.append(partner)
        Lead = self.env["crm.lead"].sudo().with_context(
            default_user_id=False, mail_create_nosubscribe=True, tracking_disable=False,
            # the customer's message opens the chatter, as for Odoo's mail gateway
            mail_create_nolog=True,
            # a router (lead_distribution) routes them as the chunk commits: its
            # lock on the rules is then not held while the messages are posted
            lead_distribution_route_at_commit=True)
        leads = Lead.create(vals_list)
        return {event.id: (lead.id, partner.id) for event, lead, partner in zip(events, leads, lead_partners)}

    def _process_whatsapp_status(self):
        data = meta.parse_whatsapp_status(self._payload())
        message = self.env["mail.message"].sudo().search(
            [("wa_message_id", "=", data["wamid"]), ("wa_state", "!=", "received")], limit=1)
        if not message:
            self._finish("ignored", error=_("Status of a message not sent from Odoo."))
            return
        if meta.status_moves_forward(message.wa_state, data["status"]):
            message.write({"wa_state": data["status"], "wa_error": data["error"] or False})
        lead = self.env["crm.lead"].browse(message.res_id) if message.model == "crm.lead" else None
        self._finish("ignored", lead)

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

    # --- Lead Ads ---------------------------------------------------------
    def _process_leadgen(self):
        channel = self.channel_id
        info = meta.parse_leadgen(self._payload())
        data = channel._graph_call("GET", info["leadgen_id"])
        answers = mapping.leadgen_answers(data.get("field_data"))
        values, extra = self._map_answers(answers)
        summary = "\n".join("%s: %s" % (k, ", ".join(v) if isinstance(v, list) else v) for k, v in answers)
        ad = {"ad_id": data.get("ad_id") or info.get("ad_id"),
              "headline": data.get("ad_name") or data.get("campaign_name")}
        lead_values = _referral_values(self.env, ad)
        lead_values.update(values)
        if extra:
            lead_values["description"] = "\n".join(extra)
        lead = self._ingest(
            {"name": values.pop("contact_name", None), "phone": lead_values.pop("phone", None),
             "email": lead_values.pop("email_from", None), "contact_ref": None},
            {"body": _("Lead Ads form answered:\n%s", summary)}, lead_values)
        self._finish("done", lead)

    def _map_answers(self, answers):
        """Answers -> (lead values, unmapped lines) through the channel's field map."""
        channel = self.channel_id
        field_map = channel.field_map_ids._as_dict()
        Lead = self.env["crm.lead"]
        fields_info = {}
        for fname in set(field_map.values()):
            field = Lead._fields.get(fname)
            if field:
                selection = field._description_selection(self.env) if field.type == "selection" else None
                fields_info[fname] = (field.type, selection)
        values, extra, problems = mapping.map_answers(answers, field_map, fields_info)
        if values.get("phone"):
            values["phone"] = normalize_phone(values["phone"], channel._region()) or values["phone"]
        if values.get("email_from"):
            values["email_from"] = normalize_email(values["email_from"]) or values["email_from"]
        extra += [_("Could not map %s", p) for p in problems]
        return values, extra

    # --- Messenger / Instagram --------------------------------------------
    def _process_messaging(self):
        data = meta.parse_messaging(self._payload())
        label = _("Instagram user") if self.kind == meta.INSTAGRAM else _("Messenger user")
        name = "%s %s" % (label, (data["contact_ref"] or "")[-4:])
        lead = self._ingest(
            {"name": name, "contact_ref": data["contact_ref"], "anonymous": True},
            {"body": data["text"] or _("(opened the conversation)"), "date": _from_timestamp(data["timestamp"])},
            _referral_values(self.env, data["referral"]))
        self._finish("done", lead)

    # --- E-mail -------------------------------------------------------------
    def _process_email(self):
        channel = self.channel_id
        payload = self._payload()
        parsed = email_parsers.parse_email(payload.get("subject"), payload.get("body"), payload.get("from"))
        phone = normalize_phone(parsed.get("phone"), channel._region())
        email = normalize_email(parsed.get("email"))
        body = parsed.get("message") or payload.get("body") or ""
        if parsed.get("listing_ref"):
            body = "%s\n\n%s" % (body, _("Listing: %(title)s (ref. %(ref)s)",
                                        title=parsed.get("listing_title") or "", ref=parsed["listing_ref"]))
        lead_values = {"channel_listing_ref": parsed.get("listing_ref")}
        if not (phone or email):
            lead_values["description"] = payload.get("body")
        lead = self._ingest(
            {"name": parsed.get("name"), "phone": phone, "email": email},
            {"body": body, "subject": payload.get("subject")}, lead_values,
            title_hint=parsed.get("listing_title"))
        self._finish("done", lead)

    # --- Web form / quick capture -----------------------------------------------
    def _process_form(self):
        data = self._payload()
        channel = self.channel_id
        values, extra = self._map_answers(data.get("extra") or [])
        Utm = self.env["utm.mixin"]
        utm = data.get("utm") or {}
        for key, model, fname in (("utm_source", "utm.source", "source_id"),
                                  ("utm_medium", "utm.medium", "medium_id"),
                                  ("utm_campaign", "utm.campaign", "campaign_id")):
            if utm.get(key):
                values[fname] = Utm._find_or_create_record(model, utm[key]).id
        if extra:
            values["description"] = "\n".join(extra)
        values.pop("contact_name", None)
        lead = self._ingest(
            {"name": data.get("name"), "phone": data.get("phone_e164")
             or normalize_phone(values.pop("phone", None), channel._region()),
             "email": data.get("email") or values.pop("email_from", None)},
            {"body": data.get("message") or _("(form sent without a message)")}, values)
        self._finish("done", lead)

    def _process_manual(self):
        data = self._payload()
        channel = self.channel_id
        values = {}
        if data.get("referred_by_id"):
            values["lead_referred_by_id"] = data["referred_by_id"]
        lead = self._ingest(
            {"name": data.get("name"), "phone": normalize_phone(data.get("phone"), channel._region()),
             "email": normalize_email(data.get("email"))},
            {"body": data.get("message")}, values)
        self._finish("done", lead)

    # ------------------------------------------------------------------
    # Find or create the lead, post the customer's message
    # ------------------------------------------------------------------
    def _ingest(self, contact, message=None, lead_values=None, wa_inbound_at=None, title_hint=None):
        """Give the contact's message to their open lead, creating lead and partner if needed.

        Contact keys are row-locked first (lead.channel.contact.key) so two
        deliveries of one new contact cannot create two leads.
        """
        self.ensure_one()
        channel = self.channel_id
        company = channel.company_id
        phone, ref = contact.get("phone"), contact.get("contact_ref")
        email = normalize_email(contact.get("email"))
        keys = contact_keys(phone, ref, email)
        if not keys:
            raise UserError(_("The delivery names no phone, e-mail or contact id: nobody to answer."))
        self.env["lead.channel.contact.key"].sudo()._lock_keys(company.id, keys)
        Lead = self.env["crm.lead"].sudo().with_context(
            default_user_id=False, mail_create_nosubscribe=True, tracking_disable=False,
            # the customer's message opens the chatter, as for Odoo's mail gateway
            mail_create_nolog=True)
        match = []
        if phone:
            match.append([("phone_sanitized", "=", phone)])
        if ref:
            match.append([("channel_contact_ref", "=", ref)])
        if email:
            match.append([("email_normalized", "=", email)])
        lead = Lead.browse()
        if match:
            key_domain = expression.OR(match)
            company_domain = [("company_id", "in", [company.id, False])]
            open_domain = ["|", ("stage_id", "=", False), ("stage_id.is_won", "=", False)]
            lead = Lead.search(expression.AND([key_domain, company_domain, open_domain]),
                               order="id desc", limit=1)
        partner = lead.partner_id or self._find_partner(phone, email, match, company)
        lead_values = {k: v for k, v in (lead_values or {}).items() if v not in (None, "")}
        inbound_at = wa_inbound_at
        if lead:
            updates = {}
            if partner and not lead.partner_id:
                updates["partner_id"] = partner.id
            if phone and not lead.phone:
                updates["phone"] = phone
            if email and not lead.email_from:
                updates["email_from"] = email
            if ref and not lead.channel_contact_ref:
                updates["channel_contact_ref"] = ref
            for fname, value in lead_values.items():  # fill what the lead does not know yet
                current = lead[fname]
                if fname == "description":
                    updates[fname] = "%s\n\n%s" % (current, value) if current else value
                elif not current or (fname == "lead_timeline" and current == "unknown"):
                    updates[fname] = value
            if message:
                updates["lead_inbound_count"] = lead.lead_inbound_count + 1
            if inbound_at and (not lead.wa_last_inbound_at or lead.wa_last_inbound_at < inbound_at):
                updates["wa_last_inbound_at"] = inbound_at
            if updates:
                lead.write(updates)
        else:
            if not partner:
                partner = self.env["res.partner"].sudo().with_context(mail_create_nolog=True).create(
                    _partner_values(contact, phone, email))
            lead = Lead.create(self._new_lead_values(contact, phone, email, partner, lead_values,
                                                     message, inbound_at, title_hint))
        if message and message.get("body"):
            self._post_inbound(lead, partner, message)
        return lead

    def _new_lead_values(self, contact, phone, email, partner, lead_values, message, inbound_at,
                         title_hint=None):
        """Values of the lead of a new contact (one source for _ingest and the batch path)."""
        channel = self.channel_id
        ref = contact.get("contact_ref")
        display = contact.get("name") or phone or email or ref
        values = {
            "name": "%s - %s" % (title_hint or display, channel.name),
            "contact_name": contact.get("name") if not contact.get("anonymous") else False,
            "partner_id": partner.id,
            "phone": phone or False,
            "email_from": email or partner.email or False,
            "channel_id": channel.id,
            "channel_contact_ref": ref or False,
            "company_id": channel.company_id.id,
            "team_id": channel._default_team().id,
            "lead_inbound_count": 1 if message else 0,
            "wa_last_inbound_at": inbound_at or False,
        }
        values.update(channel._utm_values())
        values.update(lead_values)
        if "lead_timeline" in values and values["lead_timeline"] not in dict(
                self.env["crm.lead"]._fields["lead_timeline"]._description_selection(self.env)):
            values.pop("lead_timeline")
        return values

    def _find_partners(self, contacts):
        """``_find_partner`` for the new contacts ``[(event, data, phone, ref)]`` of
        a chunk, set-based: {event id: partner} of those already known."""
        Partner = self.env["res.partner"].sudo()
        found = {}
        by_company = {}
        for contact in contacts:
            by_company.setdefault(contact[0].channel_id.company_id.id, []).append(contact)
        for company_id, rows in by_company.items():
            companies = [company_id, False]
            phones = [phone for _e, _d, phone, _r in rows if phone]
            by_phone = {}
            if phones:  # same order as _find_partner's search: the first one wins
                for partner in Partner.search_fetch([("phone_sanitized", "in", phones),
                                                     ("company_id", "in", companies)], ["phone_sanitized"]):
                    by_phone.setdefault(partner.phone_sanitized, partner)
            # returning customers: their latest closed lead knows the partner
            closed = {}
            rest = [row for row in rows if row[2] not in by_phone]
            if rest:
                match = []
                if rest_phones := [phone for _e, _d, phone, _r in rest if phone]:
                    match.append([("phone_sanitized", "in", rest_phones)])
                if rest_refs := [ref for _e, _d, _p, ref in rest if ref]:
                    match.append([("channel_contact_ref", "in", rest_refs)])
                leads = self.env["crm.lead"].sudo().with_context(active_test=False).search_fetch(
                    expression.AND([expression.OR(match), [("partner_id", "!=", False)],
                                    [("company_id", "in", companies)]]),
                    ["phone_sanitized", "channel_contact_ref", "partner_id"], order="id desc")
                for lead in leads:
                    for key in (("phone", lead.phone_sanitized), ("ref", lead.channel_contact_ref)):
                        if key[1]:
                            closed.setdefault(key, lead)
            for event, _data, phone, ref in rows:
                if phone and phone in by_phone:
                    found[event.id] = by_phone[phone]
                    continue
                hits = [closed[key] for key in (("phone", phone), ("ref", ref)) if key[1] and key in closed]
                if hits:
                    found[event.id] = max(hits, key=lambda lead: lead.id).partner_id
        return found

    def _find_partner(self, phone, email, match, company):
        Partner = self.env["res.partner"].sudo()
        domain = []
        if phone:
            domain.append([("phone_sanitized", "=", phone)])
        if email:
            domain.append([("email_normalized", "=", email)])
        if domain:
            partner = Partner.search(expression.AND([
                expression.OR(domain), [("company_id", "in", [company.id, False])]]), limit=1)
            if partner:
                return partner
        if match:  # a returning customer: their closed leads know the partner
            closed = self.env["crm.lead"].sudo().with_context(active_test=False).search(
                expression.AND([expression.OR(match), [("partner_id", "!=", False)],
                                [("company_id", "in", [company.id, False])]]), order="id desc", limit=1)
            return closed.partner_id
        return Partner

    def _post_inbound(self, lead, partner, message):
        """Post the customer's message on the lead, as from the customer.

        In the inbox job (a chunk of events) the message is only buffered:
        ``_post_inbound_batch`` creates the chunk's messages together.
        """
        body = Markup("<br/>").join(escape(line) for line in str(message["body"]).split("\n"))
        values = {"author_id": partner.id, "message_type": "comment",
                  "subtype_xmlid": "mail.mt_comment", "body": body}
        if message.get("subject"):
            values["subject"] = message["subject"]
        if message.get("date"):
            values["date"] = min(message["date"], fields.Datetime.now())
        if message.get("wa_message_id"):
            values.update(wa_message_id=message["wa_message_id"], wa_state="received")
        posts = self.env.context.get("lead_channels_posts")
        if posts is not None:
            posts.append((self.id, lead.id, values))
            return
        # followers' e-mails are queued for the mail cron, not sent inside the job
        self.posted_message_id = lead.with_context(
            mail_post_autofollow=False, mail_notify_force_send=False).message_post(**values)

    @api.model
    def _post_inbound_batch(self, posts):
        """Create the customer messages of a chunk ``[(event id, lead id, values)]``
        together, with the values ``message_post`` gives them, and queue their
        notifications in Odoo's scheduled-notification queue.

        ``message_post`` costs ~10 ms a message (half of it rendering the
        followers' e-mails) and would make a burst of deliveries wait for the
        e-mails of the messages before them. Here the chunk's messages are in
        the chatter when the chunk commits; followers are notified (inbox,
        e-mail, push: Odoo's own ``_notify_thread``) as soon as the inbox is
        drained (``_send_inbound_notifications``).
        """
        Lead = self.env["crm.lead"].sudo()
        leads = Lead.browse(list(dict.fromkeys(post[1] for post in posts)))
        authors = self.env["res.partner"].sudo().browse({post[2]["author_id"] for post in posts})
        emails = {author.id: author.email_formatted for author in authors}
        alias_domains = leads._mail_get_alias_domains(default_company=self.env.company)
        companies = leads._mail_get_companies(default=self.env.company)
        reply_to = leads._notify_get_reply_to(default=False)
        subtype_id = self.env["ir.model.data"]._xmlid_to_res_id("mail.mt_comment")
        # flat threads: every message hangs under the lead's first message
        self.env["mail.message"].flush_model(["model", "res_id", "message_type"])
        self.env.cr.execute("""
            SELECT DISTINCT ON (res_id) res_id, id FROM mail_message
             WHERE model = 'crm.lead' AND res_id = ANY(%s) AND message_type != 'user_notification'
             ORDER BY res_id, id
        """, [leads.ids])
        parents = dict(self.env.cr.fetchall())
        values_list = []
        for _event_id, lead_id, post in posts:
            values = dict(post)
            values.pop("subtype_xmlid")
            author_id = values["author_id"]
            values.update({
                "model": "crm.lead", "res_id": lead_id, "subtype_id": subtype_id,
                "email_from": emails[author_id], "email_add_signature": True,
                "record_name": Lead.browse(lead_id).display_name,
                "record_alias_domain_id": alias_domains[lead_id].id,
                "record_company_id": companies[lead_id].id,
                "reply_to": reply_to.get(lead_id) or emails[author_id],
                "parent_id": parents.get(lead_id, False),
            })
            values_list.append(values)
        messages = leads[:1]._message_create(values_list)
        # a new lead's later messages hang under its first one, created just now
        firsts = {}
        for message in messages:
            if message.parent_id:
                continue
            if message.res_id in firsts:
                message.parent_id = firsts[message.res_id]
            else:
                firsts[message.res_id] = message
        # the customer follows the lead, as message_post subscribes the author
        Followers = self.env["mail.followers"].sudo()
        following = {(f.res_id, f.partner_id.id) for f in Followers.search_fetch([
            ("res_model", "=", "crm.lead"), ("res_id", "in", leads.ids),
            ("partner_id", "in", authors.ids)], ["res_id", "partner_id"])}
        pairs = []
        for message in messages:
            key = (message.res_id, message.author_id.id)
            if message.author_id.active and key not in following:
                following.add(key)
                pairs.append(key)
        if pairs:  # the default subscription _insert_followers gives, in one create
            default, _internal, external = self.env["mail.message.subtype"].default_subtypes("crm.lead")
            customers = set(authors.filtered("partner_share").ids)
            Followers.with_context(default_partner_id=False).create([{
                "res_model": "crm.lead", "res_id": lead_id, "partner_id": author_id,
                "subtype_ids": [Command.set((external if author_id in customers else default).ids)],
            } for lead_id, author_id in pairs])
        for message, values in zip(messages, values_list):
            Lead.browse(message.res_id)._message_post_after_hook(message, values)
        # the job sends them once the inbox is drained; Odoo's own cron is the
        # safety net if the job cannot (its run ends, the server stops)
        at = fields.Datetime.now() + timedelta(seconds=NOTIFY_SAFETY_DELAY)
        self.env["mail.message.schedule"].sudo().create([{
            "mail_message_id": message.id, "scheduled_datetime": at,
            "notification_parameters": json.dumps({"force_send": False}),
        } for message in messages])
        execute_values(self.env.cr._obj, """
            UPDATE lead_channel_event e SET posted_message_id = v.message_id
              FROM (VALUES %s) AS v(event_id, message_id) WHERE e.id = v.event_id
        """, [(post[0], message.id) for post, message in zip(posts, messages)],
            template="(%s::int, %s::int)")
        self.browse([post[0] for post in posts]).invalidate_recordset(["posted_message_id"])
        return messages

    @api.model
    def _send_inbound_notifications(self, limit=None):
        """Notify the followers of the customer messages posted by the inbox job
        that are still queued (oldest first): run by the job once the inbox is
        drained. Rows another transaction holds are left to it."""
        self.env["mail.message.schedule"].flush_model()
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


def _partner_values(contact, phone, email):
    return {"name": contact.get("name") or phone or email or contact.get("contact_ref"),
            "phone": phone or False, "email": email or False}


def _dump(payload):
    return payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False)


def _from_timestamp(timestamp):
    if not timestamp:
        return fields.Datetime.now()
    try:
        return datetime.utcfromtimestamp(int(timestamp)).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        return fields.Datetime.now()


def _referral_values(env, referral):
    if not referral:
        return {}
    values = {"ad_id": referral.get("ad_id"), "ad_headline": referral.get("headline"),
              "ad_source_url": referral.get("source_url")}
    if referral.get("headline"):
        values["campaign_id"] = env["utm.mixin"].sudo()._find_or_create_record(
            "utm.campaign", referral["headline"]).id
    return {k: v for k, v in values.items() if v}


def _html_to_text(html):
    from odoo.tools import html2plaintext  # noqa: PLC0415
    return html2plaintext(html or "") if "<" in (html or "") else (html or "")

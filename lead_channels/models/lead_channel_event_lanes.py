import json
import threading
import time

from odoo import api, fields, models

from ..core import meta
from ..core.phone import contact_keys
from .lead_channel_capture_batch import PostBuffer, ReplayOneByOne
from .lead_channel_event import TRANSIENT_ERRORS

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
NOTIFY_BATCH = 10  # notifications sent between two looks at the inbox: a new delivery waits for ~10 at most


class LeadChannelEvent(models.Model):
    """The inbox's cron lanes: which events to process next, in which
    transaction, and how a chunk is claimed, processed and committed.

    ``_cron_process_events`` (the main lane) takes every due event;
    ``_cron_process_new_contacts`` (the second lane, on a second cron worker)
    only the first messages of new contacts. Both loop in ``_process_for``.
    """
    _inherit = "lead.channel.event"

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
                # new contacts go first; when the other lane holds them all,
                # wait for its commit (their contacts' next messages need those leads)
                progress = self._claim_new_contacts(ids, run)
                done += progress
                if not progress:
                    self._pause()
                continue
            if not new_contacts_only:  # the rest is the main job's
                progress = self._process_committing(ids) if ids else 0
                done += progress
                # inbox drained: notify the followers of the messages just posted
                if progress or self._send_queued_notifications():
                    continue
            # nothing to do: linger while deliveries are still coming in, then stop
            if not self._recent_deliveries():
                return done, 0
            self._pause()
        # budget spent: what is left (events, notifications) makes Odoo run the job again at once
        return done, len(self._todo_ids(limit)) + self._queued_notification_count()

    def _pause(self):
        self.env.cr.commit()  # end the snapshot: the next look sees what others committed
        time.sleep(IDLE_POLL)

    @api.model
    def _send_queued_notifications(self):
        """Send a batch of the queued notifications (a new delivery goes first).

        :return: how many were sent
        """
        try:
            sent = self._send_inbound_notifications(limit=NOTIFY_BATCH)
            self.env.cr.commit()
        except TRANSIENT_ERRORS:  # Odoo's own cron took them: fine
            sent = 0
            self.env.cr.rollback()
        self.env.invalidate_all()
        return sent

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
        keys_of = {}
        first = run["first"]
        Channel = self.env["lead.channel"].sudo()
        Capture = self.env["lead.channel.capture"].sudo()
        for event_id, kind, payload, company_id, channel_id in rows:
            first[event_id] = False
            if kind != meta.WA_MESSAGE:
                continue  # only WhatsApp bursts matter here; the others keep arrival order
            try:  # the same keys as the capture service's _capture_whatsapp / _ingest
                data = meta.parse_whatsapp_message(json.loads(payload or "{}"))
                phone = Capture._wa_phone(Channel.browse(channel_id), data["wa_id"])
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
            except TRANSIENT_ERRORS + (ReplayOneByOne,):
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
        except TRANSIENT_ERRORS + (ReplayOneByOne,):
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
            raise ReplayOneByOne() from exc
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
        posts = PostBuffer()
        events.with_context(lead_channels_raise_transient=True, lead_channels_prepared=prepared,
                            lead_channels_posts=posts)._process()
        # no savepoint around the batches: a savepoint flushes, and so would
        # run the routing of the new leads (deferred to the commit) too early;
        # a failure replays the whole chunk one event at a time anyway
        if posts:
            try:
                self.env["lead.channel.capture"].sudo()._post_inbound_batch(posts)
            except TRANSIENT_ERRORS:
                raise
            except Exception as exc:  # noqa: BLE001 - find the culprit one event at a time
                raise ReplayOneByOne() from exc
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

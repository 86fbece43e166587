import logging
import threading
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core import media

_logger = logging.getLogger(__name__)

FETCH_BATCH = 20
FETCH_STATES = [("pending", "Pending"), ("done", "Done"), ("too_big", "Too Big"), ("failed", "Failed")]


class LeadChannelFetchMixin(models.AbstractModel):
    """Something to fetch from Meta once, after the capture (a contact's name,
    a media file): the pending rows are claimed set-based by the fetch job,
    each fetched in its own savepoint; a failure is kept on the row and
    retried later, MAX_ATTEMPTS times in all."""
    _name = "lead.channel.fetch.mixin"
    _description = "Lead Channel Deferred Fetch"

    channel_id = fields.Many2one("lead.channel", required=True, index=True, ondelete="cascade", readonly=True)
    state = fields.Selection(FETCH_STATES, required=True, default="pending", readonly=True)
    attempts = fields.Integer(readonly=True)
    next_attempt_at = fields.Datetime(readonly=True)
    error = fields.Text(readonly=True)

    def init(self):
        super().init()
        if self._abstract:
            return
        # the job's set-based look for due rows only ever reads the pending ones
        self.env.cr.execute(SQL("CREATE INDEX IF NOT EXISTS %s ON %s (next_attempt_at, id) WHERE state = 'pending'",
                                SQL.identifier(self._table + "_due_idx"), SQL.identifier(self._table)))

    @api.model
    def _fetch_due(self, limit=FETCH_BATCH):
        """Fetch the due pending rows (locked with SKIP LOCKED: two jobs never
        fetch one row twice). :return: how many were tried"""
        self.flush_model()
        # SKIP LOCKED has no ORM equivalent; our own table
        self.env.cr.execute(SQL("""
            SELECT id FROM %s WHERE state = 'pending' AND (next_attempt_at IS NULL OR next_attempt_at <= %s)
             ORDER BY id LIMIT %s FOR NO KEY UPDATE SKIP LOCKED
        """, SQL.identifier(self._table), fields.Datetime.now(), limit))
        rows = self.sudo().browse([row[0] for row in self.env.cr.fetchall()])
        for row in rows:
            try:
                with self.env.cr.savepoint():
                    row._fetch_one()
            except Exception as exc:  # noqa: BLE001 - kept on the row, retried later
                _logger.info("lead_channels: %s %s failed: %s", self._name, row.id, exc)
                message = exc.args[0] if isinstance(exc, UserError) and exc.args else "%s: %s" % (
                    exc.__class__.__name__, exc)
                row._fetch_failed(message)
        return len(rows)

    def _fetch_one(self):
        raise NotImplementedError

    def _fetch_failed(self, error):
        attempts = self.attempts + 1
        delay = media.retry_at_seconds(attempts)
        values = {"attempts": attempts, "error": error}
        if delay is None:
            values.update(state="failed", next_attempt_at=False)
            self._fetch_given_up(error)
        else:
            values["next_attempt_at"] = fields.Datetime.now() + timedelta(seconds=delay)
        self.write(values)

    def _fetch_given_up(self, error):
        """Hook: the last attempt failed."""

    @api.model
    def _next_due(self):
        self.flush_model()
        self.env.cr.execute(SQL("SELECT min(next_attempt_at) FROM %s WHERE state = 'pending'",
                                SQL.identifier(self._table)))
        return self.env.cr.fetchone()[0]

    @api.model
    def _trigger_fetch(self, at=None):
        cron = self.env.ref("lead_channels.ir_cron_fetch_names_media", raise_if_not_found=False)
        if cron:
            cron.sudo()._trigger(at=at)

    @api.model
    def _cron_fetch_names_media(self):
        """The fetch job: names first (cheap), then media; commits after each
        batch outside tests, then asks to be run again when a retry is due."""
        testing = getattr(threading.current_thread(), "testing", False)
        models_ = [self.env["lead.channel.contact.name"], self.env["lead.channel.media"]]
        done = 0
        for Model in models_:
            while True:
                tried = Model._fetch_due()
                done += tried
                if not testing:
                    self.env.cr.commit()
                if tried < FETCH_BATCH or testing:
                    break
        dues = [due for due in (Model._next_due() for Model in models_) if due]
        if dues:
            self._trigger_fetch(at=max(min(dues), fields.Datetime.now()))
        return done

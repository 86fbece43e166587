"""The response clock of a lead: which policy applies, when it starts, its
warning and deadline in the policy's working time, and the labels users read."""
import logging
import threading
from datetime import datetime, time, timedelta
from functools import partial

import psycopg2.extensions
import pytz

from odoo import _, api, fields, models, tools
from odoo.tools import SQL

from ..core.clock import (NotEnoughWorkingTime, clock_times, tightened_clock, time_left,
                          working_minutes_between)
from ..vocabulary import ANSWERED, FIRST_RESPONSE_KINDS, NO_RESPONSE_YET, SLA_STATUS

_logger = logging.getLogger(__name__)

# Working time is looked up this far ahead; a calendar with less working
# time than the response time in that window cannot run a clock.
CALENDAR_HORIZON_DAYS = (14, 62)
# Working intervals are cached per calendar and day for this many days ahead
# (the first horizon from any time of the day): starting a clock on a
# calendar then costs no query.
CACHED_DAYS = CALENDAR_HORIZON_DAYS[0] + 1
SWEEP_CRON = "lead_sla.ir_cron_lead_sla_sweep"
CLOCK_FIELDS = ("sla_policy_id", "sla_user_id", "sla_start", "sla_warn_at", "sla_deadline",
                "sla_status")


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # The clock fields are computed from user_id (and the tier, which may
    # tighten the clock): when routing (or a person) assigns the lead, the ORM
    # recomputes them during the same flush, so the assignment costs no extra
    # query or write. They stay writable for the sweeps and the first-response
    # events.
    sla_policy_id = fields.Many2one(
        "lead.sla.policy", string="SLA Policy", compute="_compute_sla_clock",
        store=True, readonly=False, copy=False, index="btree_not_null")
    sla_user_id = fields.Many2one(
        "res.users", string="SLA Owner", compute="_compute_sla_clock",
        store=True, readonly=False, copy=False,
        help="Salesperson the running clock was started for.")
    sla_start = fields.Datetime(
        string="SLA Start", compute="_compute_sla_clock", store=True, readonly=False, copy=False)
    sla_warn_at = fields.Datetime(
        string="SLA Warning At", compute="_compute_sla_clock", store=True, readonly=False,
        copy=False)
    sla_deadline = fields.Datetime(
        string="SLA Deadline", compute="_compute_sla_clock", store=True, readonly=False,
        copy=False)
    sla_status = fields.Selection(
        SLA_STATUS, string="SLA Status", compute="_compute_sla_clock", store=True,
        readonly=False, copy=False)
    sla_first_response_date = fields.Datetime(string="First Response", copy=False)
    sla_first_response_kind = fields.Selection(
        FIRST_RESPONSE_KINDS, string="First Response By", copy=False)
    sla_response_minutes = fields.Float(
        string="Response Time (working min)", compute="_compute_sla_response_minutes",
        store=True, copy=False, aggregator="avg",
        help="Working minutes from the start of the clock to the first response.")
    sla_breach_count = fields.Integer(string="SLA Breaches", default=0, copy=False)
    sla_reassign_count = fields.Integer(string="SLA Reassignments", default=0, copy=False)
    sla_time_left = fields.Char(string="SLA Time Left", compute="_compute_sla_time_left")

    def init(self):
        super().init()
        cr = self.env.cr
        # The sweeps read only due clocks through these partial indexes: the
        # cost of a sweep depends on the number of due leads, not of open ones.
        # (the last one serves "Overdue Leads" and the exception report)
        cr.execute("""
            CREATE INDEX IF NOT EXISTS crm_lead_sla_warn_due_idx
                ON crm_lead (sla_warn_at) WHERE sla_status = 'running';
            CREATE INDEX IF NOT EXISTS crm_lead_sla_deadline_due_idx
                ON crm_lead (sla_deadline) WHERE sla_status IN ('running', 'warning');
            CREATE INDEX IF NOT EXISTS crm_lead_sla_breached_idx
                ON crm_lead (sla_deadline) WHERE sla_status = 'breached';
        """)
        # Data fix, idempotent, run on install and update: first responses
        # recorded after their deadline before the 'late' status existed were
        # stored as 'met'. SQL because the ORM cannot compare two columns.
        cr.execute("""
            UPDATE crm_lead SET sla_status = 'late'
             WHERE sla_status = 'met' AND sla_first_response_date > sla_deadline""")
        if cr.rowcount:
            _logger.info("lead_sla: %s leads answered after their deadline marked late",
                         cr.rowcount)

    # ------------------------------------------------------------------
    # Policies (cached: read on every assignment)
    # ------------------------------------------------------------------
    @api.model
    @tools.ormcache()
    def _lead_sla_policy_data(self):
        """Active policies in order: tuple of dicts (plain data, safe to cache)."""
        # sudo: the policies apply to every lead, whoever assigns it; explicit
        # active filter: the cache must not depend on the caller's context
        policies = self.env["lead.sla.policy"].sudo().with_context(active_test=True).search(
            [("active", "=", True)], order="sequence, id")
        return tuple({
            "id": p.id,
            "company_id": p.company_id.id,
            "domain": p._get_domain(),
            "response_minutes": p.response_minutes,
            "warn_minutes": p.warn_minutes,
            "calendar_id": p.calendar_id.id,
            "tz": p.calendar_id.tz or "UTC",
        } for p in policies)

    def _lead_sla_match_policy(self, policies):
        """First policy matching this lead, or None (evaluated in Python on the
        fields already in cache)."""
        self.ensure_one()
        for policy in policies:
            if policy["company_id"] and policy["company_id"] != self.company_id.id:
                continue
            # sudo: a policy may read fields the salesperson cannot (the
            # cache is shared between environments: still no query)
            if not policy["domain"] or self.sudo().filtered_domain(policy["domain"]):
                return policy
        return None

    @api.model
    def _lead_sla_now(self):
        return self.env.context.get("lead_sla_now") or fields.Datetime.now()

    # ------------------------------------------------------------------
    # Working time
    # ------------------------------------------------------------------
    @api.model
    def _lead_sla_intervals(self, calendar_id, start, end):
        """Working intervals of a calendar as naive UTC pairs (leaves included),
        from the cache when the window fits in the cached days."""
        day = datetime.combine(start.date(), time.min)
        if end <= day + timedelta(days=CACHED_DAYS):
            return [(s, e) for s, e in self._lead_sla_cached_intervals(calendar_id, day.date())
                    if e > start and s < end]
        return self._lead_sla_read_intervals(calendar_id, start, end)

    @api.model
    @tools.ormcache("calendar_id", "day")
    def _lead_sla_cached_intervals(self, calendar_id, day):
        """Working intervals of a calendar from ``day`` on, for CACHED_DAYS
        (cleared when a calendar, its hours or its public holidays change)."""
        start = datetime.combine(day, time.min)
        return tuple(self._lead_sla_read_intervals(
            calendar_id, start, start + timedelta(days=CACHED_DAYS)))

    @api.model
    def _lead_sla_read_intervals(self, calendar_id, start, end):
        # sudo: the working hours apply to every lead, whoever reads its clock
        calendar = self.env["resource.calendar"].sudo().browse(calendar_id)
        tz = pytz.timezone(calendar.tz or "UTC")
        intervals = calendar._work_intervals_batch(
            pytz.utc.localize(start), pytz.utc.localize(end), tz=tz)[False]
        return [(s.astimezone(pytz.utc).replace(tzinfo=None),
                 e.astimezone(pytz.utc).replace(tzinfo=None)) for s, e, _r in intervals]

    @api.model
    def _lead_sla_clock_times(self, policy, start):
        """(warn_at, deadline) for a policy dict started at ``start``."""
        if not policy["calendar_id"]:
            return clock_times(start, policy["response_minutes"], policy["warn_minutes"])
        for days in CALENDAR_HORIZON_DAYS:
            intervals = self._lead_sla_intervals(
                policy["calendar_id"], start, start + timedelta(days=days))
            try:
                return clock_times(start, policy["response_minutes"], policy["warn_minutes"],
                                   intervals)
            except NotEnoughWorkingTime:
                continue
        _logger.warning("SLA policy %s: calendar has no working time ahead, clock runs 24/7",
                        policy["id"])
        return clock_times(start, policy["response_minutes"], policy["warn_minutes"])

    # ------------------------------------------------------------------
    # Clock start, restart and tightening
    # ------------------------------------------------------------------
    @api.depends("user_id", "lead_tier")
    def _compute_sla_clock(self):
        """A new owner gets a fresh clock; the same owner keeps it, unless the
        lead rose to a stricter policy before its first response.

        A lead whose owner was set before the addon was installed (no clock,
        no SLA owner) gets a clock only when it is assigned again.
        """
        policies = self._lead_sla_policy_data()
        now = self._lead_sla_now()
        assigned = self.env.cr.precommit.data.get("lead_sla.assigned_at", {})
        next_due = []
        for lead in self:
            if lead.user_id == lead.sla_user_id and lead.sla_status:
                due = lead._lead_sla_tighten(policies, now)
            elif not lead.sla_status or lead.id in assigned or not isinstance(lead.id, int):
                due = lead._lead_sla_restart(policies, assigned.get(lead.id, now))
            else:
                due = None
            if due and isinstance(lead.id, int):
                next_due.append(due)
        if next_due:
            self._lead_sla_schedule(min(next_due))

    def _lead_sla_restart(self, policies, start):
        """Clock of a new owner (none once answered). Returns its next due instant."""
        self.ensure_one()
        self.sla_user_id = self.user_id
        if self.sla_status in ANSWERED or self.sla_first_response_date:
            return None  # already answered: reassignment starts no new clock
        policy = None
        if self.user_id and self._lead_filter_open():
            policy = self._lead_sla_match_policy(policies)
        self.sla_policy_id = policy["id"] if policy else False
        if not policy or not policy["response_minutes"]:
            self.sla_start = self.sla_warn_at = self.sla_deadline = False
            self.sla_status = "none"
            return None
        warn_at, deadline = self._lead_sla_clock_times(policy, start)
        self.sla_start = start
        self.sla_warn_at = warn_at
        self.sla_deadline = deadline
        self.sla_status = "running"
        return warn_at or deadline

    def _lead_sla_tighten(self, policies, now):
        """Same owner: switch an unanswered clock to a stricter policy the lead
        now matches (its tier rose). Each of the warning and the deadline
        becomes the earlier of the current one and ``now`` + the stricter
        policy's time; a laxer policy changes nothing."""
        self.ensure_one()
        if self.sla_first_response_date or self.sla_status not in NO_RESPONSE_YET + ("none",) \
                or not self.user_id or not self._lead_filter_open():
            return None
        policy = self._lead_sla_match_policy(policies)
        if not policy or not policy["response_minutes"]:
            return None
        if self.sla_status != "none":  # a running clock: only a stricter policy changes it
            if policy["id"] == self.sla_policy_id.id:
                return None
            current = next((p for p in policies if p["id"] == self.sla_policy_id.id), None)
            if current and current["response_minutes"] \
                    and policy["response_minutes"] >= current["response_minutes"]:
                return None
        new_warn, new_deadline = self._lead_sla_clock_times(policy, now)
        if self.sla_status == "none":
            self.sla_start, self.sla_status = now, "running"
            warn_at, deadline = new_warn, new_deadline
        else:
            warn_at, deadline = tightened_clock(
                self.sla_warn_at, self.sla_deadline, new_warn, new_deadline)
        self.sla_policy_id = policy["id"]
        self.sla_warn_at, self.sla_deadline = warn_at, deadline
        return warn_at if self.sla_status == "running" and warn_at else deadline

    @api.model
    def _lead_sla_schedule(self, when):
        """Wake the sweep at ``when`` (the trigger is created at commit)."""
        self._lead_sla_cron_at_commit(SWEEP_CRON, when)

    @api.model
    def _lead_sla_trigger_sweep(self, when):
        self._lead_sla_cron_trigger(SWEEP_CRON, when)

    # ------------------------------------------------------------------
    # Waking a cron at a due moment (shared by the sweep and nurture)
    # ------------------------------------------------------------------
    @api.model
    def _lead_sla_cron_at_commit(self, cron_xmlid, when):
        """Wake the cron ``cron_xmlid`` at ``when``. The trigger is created
        at commit, once per transaction and cron for the earliest moment
        asked: an assignment or an enrolment costs no query now, and a rolled
        back one costs nothing."""
        data = self.env.cr.precommit.data
        key = "lead_sla.cron_at_commit:%s" % cron_xmlid
        pending = data.get(key)
        if pending is None:
            self.env.cr.precommit.add(partial(self._lead_sla_cron_flush, cron_xmlid))
        if pending is None or when < pending:
            data[key] = when

    def _lead_sla_cron_flush(self, cron_xmlid):
        when = self.env.cr.precommit.data.pop("lead_sla.cron_at_commit:%s" % cron_xmlid, None)
        if when:
            self._lead_sla_cron_trigger(cron_xmlid, when)

    @api.model
    def _lead_sla_cron_work(self, cron_xmlid, work):
        """Run ``work()``, a cron's pass over the due leads, in a READ
        COMMITTED transaction of its own.

        Its claims lock the due rows with SKIP LOCKED. Under REPEATABLE READ a
        due lead that someone changed since the job began (an agent moved its
        stage) fails the whole pass to serialize; Odoo then counts the job
        failed, drops its due triggers and waits for its next interval (an
        hour for nurture). READ COMMITTED locks that lead's latest version
        instead, and re-checks it is still due. A deadlock still rolls the
        pass back: the cron is then woken again at once.

        Only in a cron worker (Odoo's job context names the cron): run by
        hand, or in a test, the pass stays in the caller's transaction."""
        if not self.env.context.get("cron_id") or getattr(threading.current_thread(), "testing", False):
            return work()
        self.env.cr.commit()  # the job's snapshot ends: the level is set before the pass reads
        self.env.cr.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED")
        try:
            return work()
        except psycopg2.extensions.TransactionRollbackError as exc:
            self.env.cr.rollback()
            _logger.info("%s: rolled back (%s), woken again", cron_xmlid, exc)
            self._lead_sla_cron_trigger(cron_xmlid, fields.Datetime.now())
            self.env.cr.commit()
            return None

    @api.model
    def _lead_sla_cron_trigger(self, cron_xmlid, when):
        """Trigger the cron at ``when`` unless a pending trigger already wakes
        it between now and then (one pending trigger per due moment, not one
        per assignment or per run; a trigger due now is consumed by the
        running cron, which reschedules itself)."""
        cron = self.env.ref(cron_xmlid, raise_if_not_found=False)
        if not cron:
            return
        now = fields.Datetime.now()
        # sudo: any user's action schedules the system's cron
        pending = self.env["ir.cron.trigger"].sudo().search_count([
            ("cron_id", "=", cron.id), ("call_at", ">", now), ("call_at", "<=", when)], limit=1)
        if not pending:
            cron.sudo()._trigger(at=max(when, now))

    @api.model
    def _lead_sla_start_missing_clocks(self):
        """Upgrade of an existing database: open leads that have an owner, no
        first response and no clock (e.g. cold leads, which had none) get a
        clock from now, as if assigned now (never one already breached).

        Leads whose owner was set before the addon was installed (no SLA
        owner recorded) are left alone, as at install.
        """
        domain = self._lead_open_domain() + [
            ("user_id", "!=", False), ("sla_first_response_date", "=", False),
            ("sla_status", "=", "none"), ("sla_user_id", "!=", False)]
        # sudo: a data migration, run by the module update for every lead
        leads = self.sudo().search(domain).filtered(lambda l: l.user_id == l.sla_user_id)
        if leads:
            # same owner, no clock: the clock computation starts one from now
            # when a policy with a response time matches
            for fname in CLOCK_FIELDS:
                self.env.add_to_compute(self._fields[fname], leads)
            leads.flush_recordset()
            _logger.info("lead_sla: clocks checked for %s assigned leads without one", len(leads))
        return leads

    # ------------------------------------------------------------------
    # Response time and labels
    # ------------------------------------------------------------------
    @api.depends("sla_start", "sla_first_response_date")
    def _compute_sla_response_minutes(self):
        calendars = {p["id"]: p["calendar_id"] for p in self._lead_sla_policy_data()}
        for lead in self:
            start, end = lead.sla_start, lead.sla_first_response_date
            if not (start and end):
                lead.sla_response_minutes = 0.0
                continue
            calendar_id = calendars.get(lead.sla_policy_id.id)
            intervals = self._lead_sla_intervals(calendar_id, start, end) if calendar_id else None
            lead.sla_response_minutes = round(working_minutes_between(start, end, intervals), 2)

    @api.depends("sla_status", "sla_deadline")
    def _compute_sla_time_left(self):
        now = fields.Datetime.now()
        for lead in self:
            if lead.sla_status in NO_RESPONSE_YET and lead.sla_deadline:
                lead.sla_time_left = lead._lead_sla_time_label(now, lead.sla_deadline)
            elif lead.sla_status == "met":
                lead.sla_time_left = _("Met")
            elif lead.sla_status == "late":
                lead.sla_time_left = _("Answered late")
            else:
                lead.sla_time_left = False

    @api.model
    def _lead_sla_duration_text(self, days, hours, minutes):
        if days:
            return _("%(days)s d %(hours)s h", days=days, hours=hours)
        if hours:
            return _("%(hours)s h %(minutes)s min", hours=hours, minutes=minutes)
        return _("%(minutes)s min", minutes=minutes)

    @api.model
    def _lead_sla_time_label(self, now, deadline):
        """Short, phone-readable label: '4 min left', '2 h 5 min overdue'."""
        parts = time_left(now, deadline)
        if not parts:
            return ""
        days, hours, minutes, overdue = parts
        text = self._lead_sla_duration_text(days, hours, minutes)
        return _("%s overdue", text) if overdue else _("%s left", text)

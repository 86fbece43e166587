import logging
from ast import literal_eval
from datetime import timedelta

import pytz
from markupsafe import Markup

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core.clock import (NotEnoughWorkingTime, clock_times, time_left_label,
                          working_minutes_between)
from ..core.settings import (DEFAULT_CADENCE, DEFAULT_NOTE_MIN_LENGTH, SettingError,
                             next_followup, parse_cadence)

_logger = logging.getLogger(__name__)

SLA_STATUS = [
    ("none", "No Clock"),
    ("running", "Running"),
    ("warning", "Warning"),
    ("breached", "Breached"),
    ("met", "Met"),
]
OPEN_CLOCK = ("running", "warning")
NO_RESPONSE_YET = ("running", "warning", "breached")
FIRST_RESPONSE_KINDS = [
    ("stage", "Stage moved"),
    ("message", "Message to the customer"),
    ("activity", "Call or meeting done"),
    ("contacted", "Marked contacted"),
]
# Working time is looked up this far ahead; a calendar with less working
# time than the response time in that window cannot run a clock.
CALENDAR_HORIZON_DAYS = (14, 62)


class CrmLead(models.Model):
    _inherit = "crm.lead"

    # The clock fields are computed from user_id: when routing (or a person)
    # assigns the lead, the ORM recomputes them during the same flush, so the
    # assignment costs no extra query or write. They stay writable for the
    # sweeps and the first-response events.
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
        # The sweeps read only due clocks through these partial indexes: the
        # cost of a sweep depends on the number of due leads, not of open ones.
        self.env.cr.execute("""
            CREATE INDEX IF NOT EXISTS crm_lead_sla_warn_due_idx
                ON crm_lead (sla_warn_at) WHERE sla_status = 'running';
            CREATE INDEX IF NOT EXISTS crm_lead_sla_deadline_due_idx
                ON crm_lead (sla_deadline) WHERE sla_status IN ('running', 'warning');
            CREATE INDEX IF NOT EXISTS crm_lead_sla_breached_idx
                ON crm_lead (sla_deadline) WHERE sla_status = 'breached';
        """)
        # (the last one serves "Overdue Leads" and the exception report)

    # ------------------------------------------------------------------
    # Policies (cached: read on every assignment)
    # ------------------------------------------------------------------
    @api.model
    @tools.ormcache()
    def _lead_sla_policy_data(self):
        """Active policies in order: tuple of dicts (plain data, safe to cache)."""
        # explicit active filter: the cache must not depend on the caller's context
        policies = self.env["lead.sla.policy"].sudo().with_context(active_test=True).search(
            [("active", "=", True)], order="sequence, id")
        return tuple({
            "id": p.id,
            "company_id": p.company_id.id,
            "domain": literal_eval(p.domain or "[]"),
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

    def _lead_sla_is_open(self):
        self.ensure_one()
        return self.active and self.probability < 100

    # ------------------------------------------------------------------
    # Working time
    # ------------------------------------------------------------------
    @api.model
    def _lead_sla_intervals(self, calendar_id, start, end):
        """Working intervals of a calendar as naive UTC pairs (leaves included)."""
        calendar = self.env["resource.calendar"].sudo().browse(calendar_id)
        tz = pytz.timezone(calendar.tz or "UTC")
        start_utc = pytz.utc.localize(start)
        end_utc = pytz.utc.localize(end)
        intervals = calendar._work_intervals_batch(start_utc, end_utc, tz=tz)[False]
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
    # Clock start / restart
    # ------------------------------------------------------------------
    @api.depends("user_id")
    def _compute_sla_clock(self):
        policies = self._lead_sla_policy_data()
        now = self._lead_sla_now()
        assigned = self.env.cr.precommit.data.get("lead_sla.assigned_at", {})
        next_due = []
        for lead in self:
            if lead.user_id == lead.sla_user_id and lead.sla_status:
                continue  # same owner: the clock goes on
            lead.sla_user_id = lead.user_id
            if lead.sla_status == "met" or lead.sla_first_response_date:
                continue  # already answered: reassignment starts no new clock
            policy = None
            if lead.user_id and lead._lead_sla_is_open():
                policy = lead._lead_sla_match_policy(policies)
            lead.sla_policy_id = policy["id"] if policy else False
            if not policy or not policy["response_minutes"]:
                lead.sla_start = lead.sla_warn_at = lead.sla_deadline = False
                lead.sla_status = "none"
                continue
            start = assigned.get(lead.id, now)
            warn_at, deadline = self._lead_sla_clock_times(policy, start)
            lead.sla_start = start
            lead.sla_warn_at = warn_at
            lead.sla_deadline = deadline
            lead.sla_status = "running"
            if isinstance(lead.id, int):
                next_due.append(warn_at or deadline)
        if next_due:
            self._lead_sla_schedule(min(next_due))

    @api.model
    def _lead_sla_schedule(self, when):
        """Wake the sweep at ``when``; the trigger is created at commit so an
        assignment costs no query now (and a rolled back one costs nothing)."""
        data = self.env.cr.precommit.data
        pending = data.get("lead_sla.next_due")
        if pending is None:
            self.env.cr.precommit.add(self._lead_sla_flush_schedule)
        if pending is None or when < pending:
            data["lead_sla.next_due"] = when

    def _lead_sla_flush_schedule(self):
        when = self.env.cr.precommit.data.pop("lead_sla.next_due", None)
        if when:
            self._lead_sla_trigger_sweep(when)

    @api.model
    def _lead_sla_trigger_sweep(self, when):
        """Trigger the sweep at ``when`` unless a trigger already wakes it
        between now and then (one pending trigger per due moment, not one per
        assignment or per sweep)."""
        cron = self.env.ref("lead_sla.ir_cron_lead_sla_sweep", raise_if_not_found=False)
        if not cron:
            return
        now = fields.Datetime.now()
        pending = self.env["ir.cron.trigger"].sudo().search_count([
            ("cron_id", "=", cron.id), ("call_at", ">", now), ("call_at", "<=", when)], limit=1)
        if not pending:
            cron.sudo()._trigger(at=max(when, now))

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
                lead.sla_time_left = time_left_label(now, lead.sla_deadline)
            elif lead.sla_status == "met":
                lead.sla_time_left = _("Met")
            else:
                lead.sla_time_left = False

    # ------------------------------------------------------------------
    # ORM overrides
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        # Warm the policy cache on every create, so the assignment writes that
        # follow (routing, mass assignment) find it filled.
        self._lead_sla_policy_data()
        leads = super().create(vals_list)
        leads._lead_sla_note_assignment()
        return leads

    def write(self, vals):
        if "user_id" in vals:
            self._lead_sla_note_assignment()
        if "stage_id" in vals or vals.get("active") is False or vals.get("probability") == 100:
            return self._lead_sla_write_closing(vals)
        return super().write(vals)

    def _lead_sla_note_assignment(self):
        """Remember when these leads were assigned: the clock computation runs
        later, at the flush, and must start the clock at the assignment time."""
        now = self._lead_sla_now()
        assigned = self.env.cr.precommit.data.setdefault("lead_sla.assigned_at", {})
        for lead_id in self._ids:
            assigned[lead_id] = now

    def _lead_sla_write_closing(self, vals):
        """A stage move past the current stage is a first response; losing or
        archiving a lead stops its clock. The clock values go into the same
        write (one write per distinct change, usually a single one)."""
        now = self._lead_sla_now()
        stage = self.env["crm.stage"].browse(vals["stage_id"]) if vals.get("stage_id") else None
        closing = vals.get("active") is False
        groups = {}
        for lead in self:
            extra = ()
            if lead.sla_status in NO_RESPONSE_YET or (
                    not lead.sla_first_response_date and lead.user_id):
                moved_on = stage and lead.stage_id and (
                    (stage.sequence, stage.id) > (lead.stage_id.sequence, lead.stage_id.id)
                    or stage.is_won)
                if moved_on or vals.get("probability") == 100:
                    extra = lead._lead_sla_met_vals(now, "stage")
                elif closing and lead.sla_status in OPEN_CLOCK:
                    extra = (("sla_status", "none"),)
            groups.setdefault(tuple(extra), []).append(lead.id)
        if len(groups) == 1:
            return super().write(dict(vals, **dict(next(iter(groups)))))
        for extra, ids in groups.items():
            super(CrmLead, self.browse(ids)).write(dict(vals, **dict(extra)))
        return True

    def _lead_sla_met_vals(self, now, kind):
        """Values recording a first response on this lead (a tuple of items)."""
        self.ensure_one()
        if self.sla_first_response_date:
            return ()
        vals = [("sla_first_response_date", now), ("sla_first_response_kind", kind)]
        if self.sla_status in NO_RESPONSE_YET:
            vals.append(("sla_status", "met"))
        return tuple(vals)

    # ------------------------------------------------------------------
    # First response events
    # ------------------------------------------------------------------
    def _lead_sla_first_response(self, kind, now=None):
        """Stop the clocks of these leads: the owner responded."""
        now = now or self._lead_sla_now()
        groups = {}
        for lead in self:
            extra = lead._lead_sla_met_vals(now, kind)
            if extra:
                groups.setdefault(extra, []).append(lead.id)
        for extra, ids in groups.items():
            self.browse(ids).sudo().write(dict(extra))
        return self.browse([i for ids in groups.values() for i in ids])

    def _message_post_after_hook(self, message, msg_vals):
        res = super()._message_post_after_hook(message, msg_vals)
        if self._lead_sla_is_customer_response(message, msg_vals):
            self._lead_sla_first_response("message")
        return res

    def _lead_sla_is_customer_response(self, message, msg_vals):
        """A message to the customer sent by an internal user from the lead
        (e-mail, SMS, WhatsApp, comment) - not a note, not a notification, not
        the customer's own message, not OdooBot."""
        self.ensure_one()
        if self.sla_first_response_date or not self.user_id:
            return False
        message_type = msg_vals.get("message_type", message.message_type)
        if message_type in ("notification", "user_notification", "auto_comment"):
            return False
        # An SMS or WhatsApp message always goes to the customer (Odoo's SMS
        # composer files them under the note subtype); other messages count
        # unless they are internal notes.
        if message_type not in ("sms", "whatsapp"):
            subtype_id = msg_vals.get("subtype_id", message.subtype_id.id)
            if not subtype_id:
                return False
            subtype = self.env["mail.message.subtype"].browse(subtype_id)
            if subtype.internal or msg_vals.get("is_internal", message.is_internal):
                return False
        author = self.env["res.partner"].browse(msg_vals.get("author_id", message.author_id.id))
        if not author or author == self.env.ref("base.partner_root"):
            return False
        if author == self.partner_id or author.commercial_partner_id == self.partner_id:
            return False
        return any(not user.share for user in author.sudo().user_ids)

    def action_lead_sla_mark_contacted(self, note=None):
        """Mark the leads contacted. With a ``note`` (e.g. over RPC) it is
        posted and the clocks stop at once; without, open the wizard that asks
        for it."""
        if note is not None:
            self._lead_sla_mark_contacted(note)
            return True
        return {
            "type": "ir.actions.act_window",
            "name": _("Mark Contacted"),
            "res_model": "lead.sla.contacted",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_ids": [(6, 0, self.ids)]},
        }

    def _lead_sla_mark_contacted(self, note):
        """Post the shared note in the chatter and stop the clocks."""
        min_length = self._lead_sla_note_min_length()
        text = (note or "").strip()
        if len(text) < min_length:
            raise UserError(_(
                "Describe the contact in at least %(min)s characters (you wrote %(len)s).",
                min=min_length, len=len(text)))
        for lead in self:
            lead.message_post(
                body=_("Contacted: %s", text), message_type="comment",
                subtype_xmlid="mail.mt_note")
        return self._lead_sla_first_response("contacted")

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------
    @api.model
    def _lead_sla_note_min_length(self):
        value = self.env["ir.config_parameter"].sudo().get_param(
            "lead_sla.contacted_note_min_length")
        try:
            return int(value) if value else DEFAULT_NOTE_MIN_LENGTH
        except ValueError:
            return DEFAULT_NOTE_MIN_LENGTH

    @api.model
    def _lead_sla_cadence(self):
        value = self.env["ir.config_parameter"].sudo().get_param("lead_sla.followup_cadence")
        try:
            return parse_cadence(value) if value else DEFAULT_CADENCE
        except SettingError:
            return DEFAULT_CADENCE

    # ------------------------------------------------------------------
    # Sweep: warnings and breaches
    # ------------------------------------------------------------------
    @api.model
    def _lead_sla_sweep(self, now=None, batch_size=1000):
        """Warn and escalate the due clocks. Returns (warned, breached) leads.

        Set-based and idempotent: each due lead is claimed by one UPDATE whose
        rows come from a partial index, locked with SKIP LOCKED, and moved out
        of the due state in the same statement; a concurrent sweep skips the
        locked rows (or fails to serialize and is retried by the cron), so no
        warning or escalation is sent twice.
        """
        now = now or self._lead_sla_now()
        self.env["crm.lead"].flush_model()
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
        self.env.cr.execute(SQL("""
            UPDATE crm_lead l SET sla_status = 'warning'
              FROM (SELECT id FROM crm_lead
                     WHERE sla_status = 'running' AND sla_warn_at <= %(now)s
                     ORDER BY sla_warn_at LIMIT %(limit)s
                       FOR UPDATE SKIP LOCKED) due
             WHERE l.id = due.id
         RETURNING l.id""", now=now, limit=batch_size))
        warned_ids = [r[0] for r in self.env.cr.fetchall()]
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
        self.env.cr.execute("""
            SELECT LEAST(
                (SELECT min(sla_warn_at) FROM crm_lead WHERE sla_status = 'running'),
                (SELECT min(sla_deadline) FROM crm_lead
                  WHERE sla_status IN ('running', 'warning')))""")
        return self.env.cr.fetchone()[0]

    @api.model
    def _cron_lead_sla_sweep(self, batch_size=1000):
        now = fields.Datetime.now()
        warned, breached = self._lead_sla_sweep(now=now, batch_size=batch_size)
        done = len(warned) + len(breached)
        remaining = 0
        if len(warned) == batch_size or len(breached) == batch_size:
            self.env.cr.execute(SQL("""
                SELECT count(*) FROM crm_lead
                 WHERE (sla_status = 'running' AND sla_warn_at <= %(now)s)
                    OR (sla_status IN ('running', 'warning') AND sla_deadline <= %(now)s)""",
                                    now=now))
            remaining = self.env.cr.fetchone()[0]
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
            })
            by_owner.setdefault(lead.user_id, []).append((lead, text))
        if activity_vals:
            self.env["mail.activity"].sudo().with_context(
                mail_activity_quick_update=True).create(activity_vals)
        # notify each owner once per sweep (inbox or e-mail, as the user
        # prefers): on the lead itself, or one digest for several leads
        for owner, items in by_owner.items():
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
        for owner, items in by_owner.items():
            texts = [text for _lead, text in items]
            owner._bus_send("simple_notification", {
                "type": "warning",
                "sticky": True,
                "title": _("Response SLA"),
                # a toast is plain text on one paragraph: separate the leads visibly
                "message": texts[0] if len(texts) == 1 else " • ".join(texts[:10]) + (
                    _(" • and %s more", len(texts) - 10) if len(texts) > 10 else ""),
            })

    def _lead_sla_managers(self):
        self.ensure_one()
        users = self.sla_policy_id.escalate_user_ids | self.team_id.user_id
        return users.filtered(lambda u: u.active and not u.share)

    def _lead_sla_escalate(self, now):
        """Breach: a chatter note on each lead that notifies its managers in
        their inbox, then the reassignment.

        Set-based: the notes are created in one batch and the managers' inbox
        notifications in another (a message_post per lead would cost a few
        milliseconds each, seconds for a thousand breaches).
        """
        notices = {}
        for lead in self:
            late = int((now - lead.sla_deadline).total_seconds() // 60) if lead.sla_deadline else 0
            body = Markup("<p>%s</p>") % _(
                "Response SLA breached: %(owner)s did not respond to %(lead)s before "
                "%(deadline)s UTC (policy %(policy)s, %(late)s min late).",
                owner=lead.user_id.name or _("nobody"), lead=lead.name,
                deadline=fields.Datetime.to_string(lead.sla_deadline),
                policy=lead.sla_policy_id.name or "-", late=late)
            notices[lead.id] = (body, lead._lead_sla_managers().partner_id)
        self._lead_sla_log_notify(notices)
        self._lead_sla_reassign()

    def _lead_sla_log_notify(self, notices):
        """Post internal notes and notify partners in their inbox, in batches.

        ``notices``: {lead id: (body, partners to notify)}. One message create
        per distinct set of partners and one notification create in all.
        """
        groups = {}
        for lead_id, (body, partners) in notices.items():
            groups.setdefault(partners, {})[lead_id] = body
        notifications = []
        messages = self.env["mail.message"]
        for partners, bodies in groups.items():
            # the inbox notifications below reach the partners; the message's
            # recipient list (partner_ids) is left empty: filling it costs a
            # many2many write per message
            posted = self.browse(list(bodies))._message_log_batch(
                bodies, message_type="comment")
            messages |= posted
            notifications += [{
                "mail_message_id": message.id,
                "res_partner_id": partner.id,
                "notification_type": "inbox",
                "notification_status": "sent",
                "is_read": False,
            } for message in posted for partner in partners]
        if notifications:
            self.env["mail.notification"].sudo().create(notifications)
        return messages

    def _lead_sla_reassign(self):
        """Reroute breached leads through lead_distribution (log kind 'sla'),
        excluding their current owner, up to the policy's max_reassign. The
        new owner gets a fresh clock (user_id changes)."""
        to_route = self.filtered(
            lambda l: l.sla_policy_id.reassign_on_breach and l.user_id
            and l.sla_reassign_count < l.sla_policy_id.max_reassign)
        if not to_route:
            return self.browse()
        if not hasattr(to_route, "_lead_distribution_route"):
            _logger.warning("lead_distribution routing is unavailable: no SLA reassignment")
            return self.browse()
        moved_ids = []
        for owner in to_route.user_id:
            leads = to_route.filtered(lambda l: l.user_id == owner)
            result = leads._lead_distribution_route(
                kind="sla", exclude_users=owner,
                reason=_("Response SLA breached by %s", owner.name))
            moved_ids += [lid for lid, uid in result.items() if uid and uid != owner.id]
        if moved_ids:
            self.env.cr.execute(
                "UPDATE crm_lead SET sla_reassign_count = sla_reassign_count + 1 "
                "WHERE id = ANY(%s)", [moved_ids])
            self.browse(moved_ids).invalidate_recordset(["sla_reassign_count"])
        return self.browse(moved_ids)

    # ------------------------------------------------------------------
    # Exception report
    # ------------------------------------------------------------------
    @api.model
    def _lead_sla_overdue_domain(self):
        return [("sla_status", "=", "breached"), ("active", "=", True),
                ("probability", "<", 100)]

    @api.model
    def _lead_sla_report_recipients(self, leads):
        """{user: overdue leads} for team leaders and escalation users."""
        result = {}
        for lead in leads:
            for user in lead._lead_sla_managers():
                result.setdefault(user, self.browse())
                result[user] |= lead
        return result

    @api.model
    def _cron_lead_sla_exception_report(self, now=None, force=False):
        now = now or fields.Datetime.now()
        ICP = self.env["ir.config_parameter"].sudo()
        interval = float(ICP.get_param("lead_sla.report_interval_hours") or 2)
        last = ICP.get_param("lead_sla.report_last_sent")
        last = fields.Datetime.to_datetime(last) if last else None
        if last and not force:
            calendar = self.env.company.resource_calendar_id
            intervals = self._lead_sla_intervals(calendar.id, last, now) if calendar else None
            if working_minutes_between(last, now, intervals) < interval * 60:
                return False
        leads = self.sudo().search(self._lead_sla_overdue_domain(), order="sla_deadline")
        template = self.env.ref("lead_sla.mail_template_lead_sla_exception_report")
        sent = 0
        for user, user_leads in self._lead_sla_report_recipients(leads).items():
            template.with_context(lead_sla_overdue_ids=user_leads.ids, lead_sla_now=now) \
                .send_mail(user.id, email_layout_xmlid="mail.mail_notification_light")
            sent += 1
        ICP.set_param("lead_sla.report_last_sent", fields.Datetime.to_string(now))
        return sent

    def _lead_sla_age_label(self, now=None):
        self.ensure_one()
        now = now or self._lead_sla_now()
        return time_left_label(now, self.sla_deadline) if self.sla_deadline else ""

    # ------------------------------------------------------------------
    # Follow-up discipline and nurture
    # ------------------------------------------------------------------
    @api.model
    def _lead_sla_followup_domain(self):
        return [("active", "=", True), ("probability", "<", 100), ("user_id", "!=", False),
                ("activity_ids", "=", False),
                "|", ("sla_first_response_date", "!=", False),
                ("sla_policy_id.nurture_days", ">", 0)]

    @api.model
    def _cron_lead_sla_followup(self, now=None, batch_size=1000):
        """Plan the next step of open leads that have none."""
        now = now or fields.Datetime.now()
        leads = self.sudo().search(self._lead_sla_followup_domain(), limit=batch_size,
                                   order="id")
        cadence = self._lead_sla_cadence()
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        model_id = self.env["ir.model"]._get_id("crm.lead")
        vals_list = []
        for lead in leads:
            if lead.sla_first_response_date:
                due = next_followup(lead.sla_first_response_date, now, cadence)
                days = (due - lead.sla_first_response_date).days
                summary = _("Follow-up (day %s after first contact)", days)
            else:
                due = now + timedelta(days=lead.sla_policy_id.nurture_days)
                summary = _("Nurture follow-up")
            vals_list.append({
                "res_model_id": model_id,
                "res_id": lead.id,
                "activity_type_id": todo.id if todo else False,
                "summary": summary,
                "date_deadline": fields.Date.context_today(lead, due),
                "user_id": lead.user_id.id,
            })
        activities = self.env["mail.activity"].sudo().with_context(
            mail_activity_quick_update=True).create(vals_list)
        remaining = self.sudo().search_count(self._lead_sla_followup_domain()) \
            if len(leads) == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=len(leads), remaining=remaining)
        return activities

    def _lead_sla_age_text(self, now=None):
        """Time since the clock started, e.g. '1 h 5 min'."""
        self.ensure_one()
        now = now or self._lead_sla_now()
        if not self.sla_start:
            return ""
        return time_left_label(now, self.sla_start).rsplit(" ", 1)[0]

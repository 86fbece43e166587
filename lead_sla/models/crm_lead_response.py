"""The first response: the events that stop a lead's clock (stage move,
message to the customer, call or meeting done, "Mark Contacted")."""
from odoo import _, api, models
from odoo.exceptions import UserError

from ..core.clock import answered_status
from ..core.settings import DEFAULT_CADENCE, DEFAULT_NOTE_MIN_LENGTH, SettingError, parse_cadence
from ..vocabulary import NO_RESPONSE_YET, OPEN_CLOCK, WARNED

# The only fields a first-response event writes with elevated rights: the
# event itself (a message, an activity, a stage move) passed its own checks.
FIRST_RESPONSE_FIELDS = frozenset({"sla_first_response_date", "sla_first_response_kind",
                                   "sla_status"})


class CrmLead(models.Model):
    _inherit = "crm.lead"

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
        warned = self.filtered(lambda l: l.sla_status in WARNED)
        if len(groups) == 1:
            result = super().write(dict(vals, **dict(next(iter(groups)))))
        else:
            for extra, ids in groups.items():
                super(CrmLead, self.browse(ids)).write(dict(vals, **dict(extra)))
            result = True
        # archiving already removes every activity (mail.activity.mixin)
        warned.filtered(lambda l: l.active and (
            l.sla_first_response_date or (l.probability or 0) >= 100))._lead_sla_close_warnings()
        return result

    def _lead_sla_met_vals(self, now, kind):
        """Values recording a first response on this lead (a tuple of items):
        'met' before the deadline, 'late' after it."""
        self.ensure_one()
        if self.sla_first_response_date:
            return ()
        vals = [("sla_first_response_date", now), ("sla_first_response_kind", kind)]
        if self.sla_status in NO_RESPONSE_YET:
            status = answered_status(now, self.sla_deadline, self.sla_status == "breached")
            vals.append(("sla_status", status))
        return tuple(vals)

    # ------------------------------------------------------------------
    # First response events
    # ------------------------------------------------------------------
    def _lead_sla_first_response(self, kind, now=None, as_user=False):
        """Stop the clocks of these leads: the owner responded.

        The event that called this (a message, an activity, a stage move)
        passed its own access checks, so only the first-response fields are
        written, as superuser. With ``as_user`` (the user claims the contact
        with "Mark Contacted") the write is the user's own, under every rule
        on leads, e.g. lead_distribution's owner rule.
        """
        now = now or self._lead_sla_now()
        groups = {}
        warned = []
        for lead in self:
            extra = lead._lead_sla_met_vals(now, kind)
            if extra:
                groups.setdefault(extra, []).append(lead.id)
                if lead.sla_status in WARNED:
                    warned.append(lead.id)
        for extra, ids in groups.items():
            vals = dict(extra)
            if not set(vals) <= FIRST_RESPONSE_FIELDS:
                raise ValueError("a first response writes only %s" % sorted(FIRST_RESPONSE_FIELDS))
            leads = self.browse(ids)
            # sudo: see the docstring; the values are the first-response fields only
            (leads if as_user else leads.sudo()).write(vals)
        self.browse(warned)._lead_sla_close_warnings()
        return self.browse([i for ids in groups.values() for i in ids])

    def _lead_sla_close_warnings(self):
        """Remove the sweep's "First response due" activities of these leads
        (answered or won: the warning is moot). One search and one unlink for
        the batch; callers pass only leads that were warned, so an ordinary
        answer costs no query."""
        if not self:
            return
        # sudo: the warnings are the system's, whoever answers the lead
        self.env["mail.activity"].sudo().search([
            ("res_model", "=", "crm.lead"), ("res_id", "in", self.ids),
            ("lead_sla_warning", "=", True)]).unlink()

    @api.model
    def _lead_sla_migrate_warnings(self):
        """Existing databases (runs on install and update, idempotent): flag
        the warnings planned before they carried the flag, then remove those
        of leads answered or won since."""
        # sudo: a data migration over every owner's activities and leads
        Activity = self.env["mail.activity"].sudo()
        Activity.search([
            ("res_model", "=", "crm.lead"), ("lead_sla_warning", "=", False),
            "|", ("summary", "=like", "First response due within %"),
            ("summary", "=like", "Respons pertama perlu dalam masa %"),
        ]).write({"lead_sla_warning": True})
        moot = self.sudo().with_context(active_test=False)._search([
            "|", ("sla_first_response_date", "!=", False), ("probability", ">=", 100)])
        Activity.search([("res_model", "=", "crm.lead"), ("lead_sla_warning", "=", True),
                         ("res_id", "in", moot)]).unlink()

    def _lead_distribution_is_answered(self):
        """lead_distribution does not re-route answered leads."""
        self.ensure_one()
        return bool(self.sla_first_response_date)

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
        # sudo: whether the author is an employee, whoever posted
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
        """Stop the clocks (as the user: only who may edit the lead may claim
        its first contact), then post the shared note in the chatter."""
        min_length = self._lead_sla_note_min_length()
        text = (note or "").strip()
        if len(text) < min_length:
            raise UserError(_(
                "Describe the contact in at least %(min)s characters (you wrote %(len)s).",
                min=min_length, len=len(text)))
        stopped = self._lead_sla_first_response("contacted", as_user=True)
        for lead in self:
            lead.message_post(
                body=_("Contacted: %s", text), message_type="comment",
                subtype_xmlid="mail.mt_note")
        return stopped

    # ------------------------------------------------------------------
    # Settings
    # ------------------------------------------------------------------
    @api.model
    def _lead_sla_note_min_length(self):
        # sudo: a setting every salesperson's action reads
        value = self.env["ir.config_parameter"].sudo().get_param(
            "lead_sla.contacted_note_min_length")
        try:
            return int(value) if value else DEFAULT_NOTE_MIN_LENGTH
        except ValueError:
            return DEFAULT_NOTE_MIN_LENGTH

    @api.model
    def _lead_sla_cadence(self):
        # sudo: a setting the follow-up cron reads
        value = self.env["ir.config_parameter"].sudo().get_param("lead_sla.followup_cadence")
        try:
            return parse_cadence(value) if value else DEFAULT_CADENCE
        except SettingError:
            return DEFAULT_CADENCE

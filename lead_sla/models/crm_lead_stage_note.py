"""Notes before stage moves, when the company asks for them
(``res.company.lead_stage_note_required``)."""
from odoo import _, fields, models
from odoo.exceptions import UserError
from odoo.tools import html2plaintext

# messages that document the lead: notes and messages to the customer
NOTE_MESSAGE_TYPES = ("comment", "email", "sms", "whatsapp")


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def write(self, vals):
        moved = self._lead_sla_stage_note_leads(vals.get("stage_id")) if "stage_id" in vals \
            else self.browse()
        if moved:
            moved._lead_sla_check_stage_note()
        res = super().write(vals)
        if moved:
            # the next move needs a note posted after this one: Odoo dates the
            # move at the start of the transaction, the notes at their post
            super(CrmLead, moved).write({"date_last_stage_update": fields.Datetime.now()})
        return res

    def _lead_sla_stage_note_leads(self, stage_id):
        """Open leads of a company that asks for notes, moved by this write to
        another stage that is not the won stage."""
        if not stage_id:
            return self.browse()
        stage = self.env["crm.stage"].browse(stage_id)
        if stage.is_won:
            return self.browse()
        return self._lead_filter_open().filtered(
            lambda lead: lead.stage_id.id != stage_id
            and (lead.company_id or self.env.company).lead_stage_note_required)

    def _lead_sla_check_stage_note(self):
        """Refuse the move of the leads without a long enough note or message
        to the customer since their last stage change (one query)."""
        min_length = self._lead_sla_note_min_length()
        since = {lead.id: lead.date_last_stage_update or lead.create_date for lead in self}
        # sudo: the rule reads the lead's chatter, whoever moves the lead
        messages = self.env["mail.message"].sudo().search_fetch([
            ("model", "=", "crm.lead"), ("res_id", "in", self.ids),
            ("message_type", "in", NOTE_MESSAGE_TYPES),
            ("author_id.user_ids.share", "=", False),
            ("date", ">=", min(since.values())),
        ], ["res_id", "date", "body"])
        noted = {m.res_id for m in messages
                 if m.date >= since[m.res_id]
                 and len(html2plaintext(m.body or "").strip()) >= min_length}
        missing = self.filtered(lambda lead: lead.id not in noted)
        if missing:
            raise UserError(_(
                "Add a note of at least %(min)s characters to %(leads)s before moving it to "
                "another stage: say what happened since its last stage change (your company "
                "requires a note at each stage move).",
                min=min_length, leads=", ".join(missing[:3].mapped("display_name"))))

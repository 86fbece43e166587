import json
import secrets

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..core.phone import normalize_email, normalize_phone


class LeadChannelQuickCapture(models.TransientModel):
    """Walk-in, phone call or referral typed in from the pipeline. Goes through
    the same inbox and de-duplication as every other channel."""
    _name = "lead.channel.quick.capture"
    _description = "Quick Lead Capture"

    channel_id = fields.Many2one(
        "lead.channel", required=True, domain="[('channel_type', 'in', ('walk_in', 'phone', 'referral'))]",
        default=lambda self: self.env["lead.channel"].search(
            [("channel_type", "in", ("walk_in", "phone", "referral"))], limit=1))
    channel_type = fields.Selection(related="channel_id.channel_type")
    name = fields.Char(string="Customer Name", required=True)
    phone = fields.Char()
    email = fields.Char()
    message = fields.Text(string="Enquiry")
    referred_by_id = fields.Many2one("res.partner", string="Referred By")

    @api.onchange("phone")
    def _onchange_phone(self):
        if self.phone and self.channel_id:
            self.phone = normalize_phone(self.phone, self.channel_id._region()) or self.phone

    def action_capture(self):
        self.ensure_one()
        self.env["crm.lead"].check_access("create")
        region = self.channel_id._region()
        phone = normalize_phone(self.phone, region) if self.phone else None
        if self.phone and not phone:
            raise UserError(_("'%s' is not a valid phone number.", self.phone))
        email = normalize_email(self.email) if self.email else None
        if self.email and not email:
            raise UserError(_("'%s' is not a valid e-mail address.", self.email))
        if not (phone or email):
            raise UserError(_("Give a phone number or an e-mail so the customer can be reached."))
        if self.channel_type == "referral" and not self.referred_by_id:
            raise UserError(_("A referral needs the partner who referred the customer."))
        payload = {"name": self.name, "phone": phone, "email": email, "message": self.message or "",
                   "referred_by_id": self.referred_by_id.id or False, "captured_by": self.env.uid}
        Event = self.env["lead.channel.event"].sudo()
        event = Event.create({
            "channel_id": self.channel_id.id, "kind": "manual",
            "external_id": "manual:%s" % secrets.token_hex(12), "payload": json.dumps(payload),
        })
        event._process()
        if event.state != "done":
            raise UserError(_("The lead could not be created: %s", event.error))
        return {"type": "ir.actions.act_window", "res_model": "crm.lead", "res_id": event.lead_id.id,
                "view_mode": "form", "views": [(False, "form")], "target": "current"}

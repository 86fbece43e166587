import json
import secrets

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import email_normalize

from ..vocabulary import MANUAL_TYPES


class LeadChannelQuickCapture(models.TransientModel):
    """Walk-in, phone call or referral typed in from the pipeline. Goes through
    the same inbox and de-duplication as every other channel."""
    _name = "lead.channel.quick.capture"
    _description = "Quick Lead Capture"

    channel_id = fields.Many2one(
        "lead.channel", required=True, domain=[("channel_type", "in", MANUAL_TYPES)],
        default=lambda self: self._default_channel())
    channel_type = fields.Selection(related="channel_id.channel_type")
    name = fields.Char(string="Customer Name", required=True)
    phone = fields.Char()
    email = fields.Char()
    message = fields.Text(string="Enquiry")
    referred_by_id = fields.Many2one("res.partner", string="Referred By")

    @api.model
    def _default_channel(self):
        """The company's Walk-in channel (the most common capture), else any manual one."""
        Channel = self.env["lead.channel"]
        company = [("company_id", "=", self.env.company.id)]
        return Channel.search(company + [("channel_type", "=", "walk_in")], limit=1) or Channel.search(
            company + [("channel_type", "in", MANUAL_TYPES)], limit=1)

    @api.onchange("phone")
    def _onchange_phone(self):
        if self.phone and self.channel_id:
            self.phone = self.channel_id._phone_e164(self.phone) or self.phone

    def action_capture(self):
        self.ensure_one()
        self.env["crm.lead"].check_access("create")
        phone = self.channel_id._check_phone(self.phone) if self.phone else None
        email = email_normalize(self.email) if self.email else None
        if self.email and not email:
            raise UserError(_("'%s' is not a valid e-mail address: write it as name@example.com.", self.email))
        if not (phone or email):
            raise UserError(_("Give a phone number or an e-mail so the customer can be reached."))
        if self.channel_type == "referral" and not self.referred_by_id:
            raise UserError(_("A referral needs the partner who referred the customer."))
        payload = {"name": self.name, "phone": phone, "email": email, "message": self.message or "",
                   "referred_by_id": self.referred_by_id.id or False, "captured_by": self.env.uid}
        # the inbox is readable by managers only: the agent's capture is stored on their behalf
        Event = self.env["lead.channel.event"].sudo()
        event = Event.create({
            "channel_id": self.channel_id.id, "kind": "manual",
            "external_id": "manual:%s" % secrets.token_hex(12), "payload": json.dumps(payload),
        })
        event._process()
        if event.state != "done":
            raise UserError(_("The lead could not be created: %s", event.error))
        lead = event.lead_id
        if not lead.with_user(self.env.user).has_access("read"):
            return self._action_not_yours(lead)
        return {"type": "ir.actions.act_window", "res_model": "crm.lead", "res_id": lead.id,
                "view_mode": "form", "views": [(False, "form")], "target": "current"}

    def _action_not_yours(self, lead):
        """Tell the agent plainly that the customer is another agent's (who was notified)."""
        owner = lead.sudo().user_id  # the owner's name only, the lead itself stays hidden
        message = _("%(customer)s already has an open lead, owned by %(owner)s. Your note was added to "
                    "it and %(owner)s was notified.", customer=self.name, owner=owner.name or _("another team"))
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "title": _("Already a customer of %s", owner.name or _("another team")),
            "message": message, "type": "warning", "sticky": True,
            "next": {"type": "ir.actions.act_window_close"},
        }}

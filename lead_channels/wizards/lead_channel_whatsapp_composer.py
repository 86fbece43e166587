from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class LeadChannelWhatsappComposer(models.TransientModel):
    """Reply on WhatsApp from the lead: free text inside the customer's 24-hour
    window, the channel's approved template outside it. The reply is posted in
    the chatter as the agent's own comment (it is their first response)."""
    _name = "lead.channel.whatsapp.composer"
    _description = "WhatsApp Composer"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade")
    channel_id = fields.Many2one("lead.channel", compute="_compute_channel", store=True, readonly=False,
                                 domain="[('channel_type', '=', 'whatsapp')]")
    recipient = fields.Char(compute="_compute_recipient", string="To")
    window_open = fields.Boolean(compute="_compute_mode")
    mode = fields.Selection([("text", "Free text"), ("template", "Template")], compute="_compute_mode")
    template_name = fields.Char(related="channel_id.wa_template_name")
    template_lang = fields.Char(related="channel_id.wa_template_lang")
    body = fields.Text()

    @api.depends("lead_id")
    def _compute_channel(self):
        for wizard in self:
            channel = wizard.lead_id.channel_id
            if not channel or channel.channel_type != "whatsapp":
                channel = self.env["lead.channel"].search(
                    [("channel_type", "=", "whatsapp"), ("company_id", "in", [wizard.lead_id.company_id.id or
                                                                             self.env.company.id])], limit=1)
            wizard.channel_id = channel

    @api.depends("lead_id")
    def _compute_recipient(self):
        for wizard in self:
            wizard.recipient = wizard._recipient()

    @api.depends("lead_id.wa_last_inbound_at")
    def _compute_mode(self):
        for wizard in self:
            wizard.window_open = wizard.lead_id.wa_window_open
            wizard.mode = "text" if wizard.window_open else "template"

    def _recipient(self):
        lead = self.lead_id
        if lead.phone_sanitized:
            return lead.phone_sanitized.lstrip("+")
        if lead.channel_type == "whatsapp" and lead.channel_contact_ref:
            return lead.channel_contact_ref.lstrip("+")
        return False

    def _payload(self):
        to = self._recipient()
        if not to:
            raise UserError(_("This lead has no WhatsApp number."))
        if self.mode == "text":
            if not (self.body or "").strip():
                raise UserError(_("Write a message first."))
            return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                    "type": "text", "text": {"preview_url": True, "body": self.body.strip()}}
        if not self.channel_id.wa_template_name:
            raise UserError(_(
                "The 24-hour window is closed (the customer last wrote more than 24 hours ago) and "
                "channel %s has no approved template: only a template can reopen the conversation.",
                self.channel_id.name))
        return {"messaging_product": "whatsapp", "to": to, "type": "template",
                "template": {"name": self.channel_id.wa_template_name,
                             "language": {"code": self.channel_id.wa_template_lang or "en"}}}

    def action_send(self):
        self.ensure_one()
        self.lead_id.check_access("write")
        channel = self.channel_id
        if not channel or channel.channel_type != "whatsapp":
            raise UserError(_("Choose a WhatsApp channel to send from."))
        if not channel.wa_phone_number_id:
            raise UserError(_("Channel %s has no WhatsApp phone number ID.", channel.name))
        payload = self._payload()
        answer = channel.sudo()._graph_call("POST", "%s/messages" % channel.wa_phone_number_id, json=payload)
        wamid = ((answer.get("messages") or [{}])[0] or {}).get("id")
        if not wamid:
            raise UserError(_("Meta accepted the request but returned no message id; check the channel."))
        if self.mode == "text":
            body = Markup("<br/>").join(escape(line) for line in self.body.strip().split("\n"))
        else:
            body = Markup("%s <i>%s</i>") % (_("WhatsApp template sent:"), channel.wa_template_name)
        partner = self.env.user.partner_id
        message = self.lead_id.with_context(mail_post_autofollow=False).message_post(
            body=body, author_id=partner.id, email_from=partner.email_formatted or partner.name,
            message_type="comment", subtype_xmlid="mail.mt_comment",
            wa_message_id=wamid, wa_state="sent")
        self.env["lead.channel.event"].sudo()._apply_early_statuses(channel, message)
        return {"type": "ir.actions.act_window_close"}

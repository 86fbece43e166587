from datetime import timedelta

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError

CHAT_TYPES = ("whatsapp", "messenger", "instagram")
# Meta's standard messaging window on Messenger and Instagram.
META_WINDOW = timedelta(hours=24)


class LeadChannelComposer(models.TransientModel):
    """Reply to the customer on the chat channel they used (WhatsApp,
    Messenger, Instagram). WhatsApp goes through the WhatsApp composer's
    sending code; Messenger and Instagram through Graph's Send API. The reply
    is posted as the agent's comment only once Meta accepted it."""
    _name = "lead.channel.composer"
    _description = "Channel Reply Composer"

    lead_id = fields.Many2one("crm.lead", required=True, ondelete="cascade")
    channel_id = fields.Many2one("lead.channel", compute="_compute_channel_id", store=True, readonly=False,
                                 domain="[('channel_type', 'in', %s)]" % (list(CHAT_TYPES),))
    channel_type = fields.Selection(related="channel_id.channel_type")
    body = fields.Text()
    attachment_ids = fields.Many2many("ir.attachment", string="Attachments")
    template_params = fields.Text(help="WhatsApp template parameters, one value per line.")

    @api.depends("lead_id")
    def _compute_channel_id(self):
        for wizard in self:
            lead = wizard.lead_id
            channel = lead.channel_id if lead.channel_id.channel_type in CHAT_TYPES else False
            if not channel and (lead.phone_sanitized or lead.mobile):
                channel = self.env["lead.channel"].search(
                    [("channel_type", "=", "whatsapp"),
                     ("company_id", "in", [lead.company_id.id or self.env.company.id])], limit=1)
            wizard.channel_id = channel

    def action_send(self):
        self.ensure_one()
        self.lead_id.check_access("write")
        channel = self.channel_id
        if not channel or channel.channel_type not in CHAT_TYPES:
            raise UserError(_("Choose a WhatsApp, Messenger or Instagram channel to reply on."))
        if self.attachment_ids:  # files: lead_channel_composer_media.py
            return self._send_attachments()
        if channel.channel_type == "whatsapp":
            return self.env["lead.channel.whatsapp.composer"].create({
                "lead_id": self.lead_id.id, "channel_id": channel.id, "body": self.body,
            }).action_send()
        return self._send_meta_text()

    def _send_meta_text(self):
        channel, lead = self.channel_id, self.lead_id
        text = (self.body or "").strip()
        if not text:
            raise UserError(_("Write a message first."))
        self._check_meta_reply()
        answer = channel.sudo()._graph_call("POST", "%s/messages" % channel.page_id, json={
            "recipient": {"id": lead.channel_contact_ref}, "messaging_type": "RESPONSE",
            "message": {"text": text}})
        mid = answer.get("message_id")
        if not mid:
            raise UserError(_("Meta accepted the request but returned no message id; check the channel."))
        partner = self.env.user.partner_id
        # the customer got it on Messenger / Instagram: only the team is notified
        lead.with_context(mail_post_autofollow=False, lead_channels_capture=True).message_post(
            body=Markup("<br/>").join(escape(line) for line in text.split("\n")),
            author_id=partner.id, email_from=partner.email_formatted or partner.name,
            message_type="comment", subtype_xmlid="mail.mt_comment", meta_message_id=mid)
        return {"type": "ir.actions.act_window_close"}

    def _check_meta_reply(self):
        """Refuse, before any call, a Messenger / Instagram reply Meta would refuse."""
        channel, lead = self.channel_id, self.lead_id
        if lead.channel_id != channel or not lead.channel_contact_ref:
            raise UserError(_("This customer has not written to %s: there is nobody to answer there.",
                              channel.name))
        if not channel.page_id:
            raise UserError(_("Channel %s has no Page / account ID: ask an administrator to set it.",
                              channel.name))
        last = lead.channel_last_inbound_date
        if not last or fields.Datetime.now() - last >= META_WINDOW:
            raise UserError(_(
                "Meta's 24-hour rule: on %(channel)s a business may reply only within 24 hours of the "
                "customer's last message, and this customer last wrote more than 24 hours ago. Wait "
                "for them to write again, or reach them on another channel.", channel=channel.name))

from markupsafe import Markup, escape

from odoo import _, models
from odoo.exceptions import UserError

from ..core import media

# where files uploaded in a wizard wait for their record (many2many_binary, Odoo's mail composer)
PENDING_MODELS = ("lead.channel.composer", "mail.compose.message", False)


class LeadChannelComposer(models.TransientModel):
    """Files sent from the reply composer. WhatsApp: each file is uploaded to
    Graph's media endpoint first (nothing reaches the customer if an upload
    fails), then sent as its own message, the text as the caption of the
    first file that takes one. Messenger / Instagram: Meta fetches each file
    from a public https link of this database (an access-token link), else the
    sending is refused. Each message Meta accepted is posted in the chatter as
    the agent's comment with its file."""
    _inherit = "lead.channel.composer"

    def _send_attachments(self):
        self.ensure_one()
        attachments = self._outgoing_attachments()
        if self.channel_id.channel_type == "whatsapp":
            sends = self._whatsapp_attachment_sends(attachments)
        else:
            sends = self._meta_attachment_sends(attachments)
        return self._send_and_post(sends)

    def _outgoing_attachments(self):
        """The wizard's files, readable by the agent, moved onto the lead."""
        attachments = self.attachment_ids
        attachments.check_access("read")
        # sudo: a file the agent just uploaded in this wizard belongs to no record yet (Odoo's
        # composer moves its own the same way); files of other records are linked, never moved
        pending = attachments.sudo().filtered(
            lambda a: a.res_model in PENDING_MODELS and a.create_uid == self.env.user)
        pending.write({"res_model": "crm.lead", "res_id": self.lead_id.id})
        return attachments.sudo()

    def _whatsapp_attachment_sends(self, attachments):
        channel, lead = self.channel_id.sudo(), self.lead_id
        wa = self.env["lead.channel.whatsapp.composer"].new({"lead_id": lead.id, "channel_id": channel.id})
        to = wa._recipient()
        if not to:
            raise UserError(_("This lead has no WhatsApp number."))
        if not channel.wa_phone_number_id:
            raise UserError(_("Channel %s has no WhatsApp phone number ID.", channel.name))
        if not lead.wa_window_open:
            raise UserError(_(
                "The 24-hour window is closed (the customer last wrote more than 24 hours ago): WhatsApp "
                "accepts files only inside it. Send the approved template first, and the files once the "
                "customer answers."))
        caption = (self.body or "").strip()
        sends = []
        for attachment in attachments:  # all uploaded before anything is sent
            kind = media.wa_send_type(attachment.mimetype)
            mime = (attachment.mimetype or "application/octet-stream").split(";")[0]
            answer = channel._graph_upload("%s/media" % channel.wa_phone_number_id,
                                           data={"messaging_product": "whatsapp", "type": mime},
                                           files={"file": (attachment.name, attachment.raw, mime)})
            if not answer.get("id"):
                raise UserError(_("Meta accepted the file %s but returned no media id; check the channel.",
                                  attachment.name))
            item = {"id": answer["id"]}
            text = ""
            if caption and kind != "audio":  # WhatsApp audio takes no caption
                item["caption"], text, caption = caption, caption, ""
            if kind == "document":
                item["filename"] = attachment.name
            sends.append(({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                           "type": kind, kind: item}, attachment, text))
        if caption:  # only audio files: the text goes as a message of its own, first
            sends.insert(0, ({"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                              "type": "text", "text": {"preview_url": True, "body": caption}}, None, caption))
        return sends

    def _meta_attachment_sends(self, attachments):
        self._check_meta_reply()
        base = self.lead_id.get_base_url()
        if not base.startswith("https://"):
            raise UserError(_(
                "Messenger and Instagram fetch a file from a public https address, and this database's "
                "address (%s) is not one: send the file on WhatsApp or by e-mail, or ask an administrator "
                "to set the public https address of Odoo (web.base.url).", base))
        recipient = {"id": self.lead_id.channel_contact_ref}
        sends = []
        text = (self.body or "").strip()
        if text:
            sends.append(({"recipient": recipient, "messaging_type": "RESPONSE", "message": {"text": text}},
                          None, text))
        for attachment in attachments:
            # Odoo's own share link: the token opens this one file to whoever has the link (Meta)
            url = "%s/web/content/%s?access_token=%s&download=true" % (
                base, attachment.id, attachment.generate_access_token()[0])
            sends.append(({"recipient": recipient, "messaging_type": "RESPONSE", "message": {"attachment": {
                "type": media.meta_send_type(attachment.mimetype),
                "payload": {"url": url, "is_reusable": True}}}}, attachment, ""))
        return sends

    def _send_and_post(self, sends):
        """Send each message; post each one Meta accepted. A failure after the
        first message went out is reported (not raised: what was sent stays
        posted), a failure of the first one raises and nothing is posted."""
        channel, whatsapp = self.channel_id.sudo(), self.channel_id.channel_type == "whatsapp"
        path = "%s/messages" % (channel.wa_phone_number_id if whatsapp else channel.page_id)
        sent = []
        for payload, attachment, text in sends:
            try:
                answer = channel._graph_call("POST", path, json=payload)
                message_id = ((answer.get("messages") or [{}])[0] or {}).get("id") if whatsapp \
                    else answer.get("message_id")
                if not message_id:
                    raise UserError(_("Meta accepted the request but returned no message id; check the channel."))
            except UserError as error:
                if not sent:
                    raise
                self._post_sent(sent)
                return {"type": "ir.actions.client", "tag": "display_notification", "params": {
                    "type": "warning", "sticky": True, "title": _("Not everything was sent"),
                    "message": _("%(sent)s of %(total)s messages were sent and are in the chatter; the next "
                                 "one failed: %(error)s", sent=len(sent), total=len(sends), error=error.args[0]),
                    "next": {"type": "ir.actions.act_window_close"}}}
            sent.append((message_id, attachment, text))
        self._post_sent(sent)
        return {"type": "ir.actions.act_window_close"}

    def _post_sent(self, sent):
        lead, partner = self.lead_id, self.env.user.partner_id
        whatsapp = self.channel_id.channel_type == "whatsapp"
        # the customer got it on the chat channel: only the team is notified
        poster = lead.with_context(mail_post_autofollow=False, lead_channels_capture=True)
        for message_id, attachment, text in sent:
            ids = {"wa_message_id": message_id, "wa_state": "sent"} if whatsapp \
                else {"meta_message_id": message_id}
            message = poster.message_post(
                body=Markup("<br/>").join(escape(line) for line in text.split("\n")) if text else "",
                attachment_ids=attachment.ids if attachment else [], author_id=partner.id,
                email_from=partner.email_formatted or partner.name, message_type="comment",
                subtype_xmlid="mail.mt_comment", **ids)
            if whatsapp:
                self.env["lead.channel.event"].sudo()._apply_early_statuses(self.channel_id.sudo(), message)

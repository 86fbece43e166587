from markupsafe import Markup, escape

from odoo import _, api, fields, models

from ..core import meta
from .lead_channel_capture import _from_timestamp


class LeadChannelCapture(models.AbstractModel):
    """Echoes: the business's own Messenger / Instagram messages, sent from
    Meta's apps (or from Odoo, whose sends Meta echoes too). They are the
    company's answer on the contact's open lead; they never create a lead."""
    _inherit = "lead.channel.capture"

    @api.model
    def _capture(self, event):
        if event.kind == meta.ECHO:
            return self._capture_echo(event)
        return super()._capture(event)

    @api.model
    def _capture_echo(self, event):
        if meta.is_whatsapp_echo(event._payload()):
            return self._capture_wa_echo(event)
        data = meta.parse_messaging(event._payload())
        customer, mid = data.get("recipient"), data.get("mid")
        if mid and self.env["mail.message"].sudo().search_count([("meta_message_id", "=", mid)], limit=1):
            event._finish("ignored", error=_("Our own message, already in the lead's chatter."))
            return
        Lead = self.env["crm.lead"].sudo()
        lead = Lead.search([("channel_contact_ref", "=", customer),
                            ("company_id", "in", [event.company_id.id, False])] + Lead._lead_open_domain(),
                           order="id desc", limit=1) if customer else Lead
        if not lead:
            event._finish("ignored", error=_("A message of ours to a contact without an open lead: "
                                             "nothing to attach it to."))
            return
        text = data.get("text") or _("(message sent from Meta's app)")
        self._post_echo(event, lead, text, data.get("timestamp"), meta_message_id=mid or False)

    @api.model
    def _post_echo(self, event, lead, text, timestamp, **message_ids):
        """Post the business's own message on the lead as the company's answer."""
        author = lead.user_id.partner_id or lead.company_id.partner_id or self.env.company.partner_id
        # the customer already has this message: only the team is notified
        event.posted_message_id = lead.with_context(
            lead_channels_capture=True, lead_channels_outbound=True, mail_post_autofollow=False,
            mail_notify_force_send=False,
        ).message_post(
            body=Markup("<br/>").join(escape(line) for line in text.split("\n")),
            author_id=author.id, message_type="comment", subtype_xmlid="mail.mt_comment",
            date=min(_from_timestamp(timestamp), fields.Datetime.now()), **message_ids)
        event._finish("done", lead)

    @api.model
    def _capture_wa_echo(self, event):
        """A WhatsApp message the business sent from another WhatsApp client
        (the Business app on the phone), reported by Meta."""
        data = meta.parse_whatsapp_echo(event._payload())
        wamid, customer = data.get("wamid"), meta.wa_id_e164(data.get("to"))
        if wamid and self.env["mail.message"].sudo().search_count([("wa_message_id", "=", wamid)], limit=1):
            event._finish("ignored", error=_("Our own message, already in the lead's chatter."))
            return
        Lead = self.env["crm.lead"].sudo()
        lead = Lead.search(
            ["|", ("channel_contact_ref", "in", [customer[1:], customer]), ("phone_sanitized", "=", customer),
             ("company_id", "in", [event.company_id.id, False])]
            + Lead._lead_open_domain(), order="id desc", limit=1) if customer else Lead
        if not lead:
            event._finish("ignored", error=_("A message of ours to a contact without an open lead: "
                                             "nothing to attach it to."))
            return
        text = data.get("text") or _("(message sent from another WhatsApp client)")
        self._post_echo(event, lead, text, data.get("timestamp"), wa_message_id=wamid or False, wa_state="sent")


import logging

from markupsafe import Markup

from odoo import _, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class CrmLead(models.Model):
    _inherit = "crm.lead"

    def _lead_nurture_wa_channel(self):
        """The lead's own WhatsApp channel, else the first one of its company."""
        self.ensure_one()
        if self.channel_id.channel_type == "whatsapp":
            return self.channel_id
        return self.env["lead.channel"].sudo().search([
            ("channel_type", "=", "whatsapp"),
            ("company_id", "=", (self.company_id or self.env.company).id)], limit=1)

    def _lead_nurture_wa_recipient(self):
        self.ensure_one()
        if self.phone_sanitized:
            return self.phone_sanitized.lstrip("+")
        if self.channel_type == "whatsapp" and self.channel_contact_ref:
            return self.channel_contact_ref.lstrip("+")
        return False

    def _lead_nurture_wa_payload(self, channel):
        """The template message for this lead, or raise UserError saying what
        is missing (an approved template can be sent outside the 24-hour
        window, which is where nurture messages always are)."""
        self.ensure_one()
        if not channel:
            raise UserError(_("there is no WhatsApp channel for the company of this lead"))
        if not channel.wa_template_name:
            raise UserError(_(
                "the WhatsApp channel %s has no re-engagement template: set the approved "
                "template's name on the channel", channel.name))
        if not channel.wa_phone_number_id:
            raise UserError(_("the WhatsApp channel %s has no phone number ID", channel.name))
        to = self._lead_nurture_wa_recipient()
        if not to:
            raise UserError(_("the lead has no WhatsApp number (add a mobile number)"))
        return {"messaging_product": "whatsapp", "to": to, "type": "template",
                "template": {"name": channel.wa_template_name,
                             "language": {"code": channel.wa_template_lang or "en"}}}

    def _lead_nurture_send_whatsapp(self, step):
        """Send the channel's template to each lead through Meta's Graph API
        and post it in the chatter as the salesperson's message."""
        errors = {}
        for lead in self:
            try:
                channel = lead._lead_nurture_wa_channel()
                payload = lead._lead_nurture_wa_payload(channel)
                # sudo: the access token is readable by administrators only
                answer = channel.sudo()._graph_call(
                    "POST", "%s/messages" % channel.wa_phone_number_id, json=payload)
                wamid = ((answer.get("messages") or [{}])[0] or {}).get("id")
                if not wamid:
                    raise UserError(_("Meta accepted the request but returned no message id"))
            except UserError as exc:
                errors[lead.id] = exc.args[0] if exc.args else str(exc)
                continue
            author = lead.user_id.partner_id or self.env.company.partner_id
            with self.env.cr.savepoint():
                message = lead.with_context(mail_post_autofollow=False).message_post(
                    body=Markup("%s <i>%s</i>") % (_("WhatsApp template sent:"),
                                                   channel.wa_template_name),
                    author_id=author.id, email_from=author.email_formatted or author.name,
                    message_type="comment", subtype_xmlid="mail.mt_comment",
                    wa_message_id=wamid, wa_state="sent")
                self.env["lead.channel.event"].sudo()._apply_early_statuses(channel, message)
        return errors

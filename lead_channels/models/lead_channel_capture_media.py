import json

from odoo import api, models

from ..core import media, meta


class LeadChannelCapture(models.AbstractModel):
    """After the capture of a chat message: queue what is fetched later from
    Meta (the files it carries, a new contact's real name). Nothing is fetched
    here: the fetch job does it, outside the webhook's answer and the inbox's
    chunk. A plain text message costs no query more."""
    _inherit = "lead.channel.capture"

    @api.model
    def _capture_whatsapp(self, event):
        super()._capture_whatsapp(event)
        spec = media.whatsapp_media(_wa_message(event))
        if spec and event.state == "done" and event.lead_id:
            self._queue_media(event, [{
                "event_id": event.id, "channel_id": event.channel_id.id, "lead_id": event.lead_id.id,
                "source": "whatsapp", "media_type": spec["type"], "media_ref": spec["media_id"],
                "mime_type": spec["mime_type"], "sha256": spec["sha256"], "caption": spec["caption"],
                "file_name": spec["filename"]}])

    @api.model
    def _capture_messaging(self, event):
        super()._capture_messaging(event)
        lead = event.lead_id
        if event.state != "done" or not lead:
            return
        payload = event._payload()
        messaging = payload["entry"][0]["messaging"][0]
        ref = (messaging.get("sender") or {}).get("id")
        placeholder = self._messaging_placeholder(event, ref)
        if ref and lead.partner_id.name == placeholder:
            self.env["lead.channel.contact.name"].sudo()._request(event.channel_id, ref, lead.partner_id,
                                                                  placeholder)
        files = media.messaging_media(messaging.get("message") if isinstance(messaging.get("message"), dict)
                                      else {})
        if files:
            self._queue_media(event, [{
                "event_id": event.id, "channel_id": event.channel_id.id, "lead_id": lead.id, "source": "url",
                "media_type": item["type"], "media_ref": item["url"]} for item in files])

    @api.model
    def _queue_media(self, event, vals_list):
        """Queue the files of a captured message once: a retry of an event whose
        message was already posted finds its files queued already."""
        Media = self.env["lead.channel.media"].sudo()
        queued = set(Media.search([("event_id", "=", event.id)]).mapped("media_ref"))
        vals_list = [vals for vals in vals_list if vals["media_ref"] not in queued]
        if vals_list:
            Media.create(vals_list)


def _wa_message(event):
    """The WhatsApp message of a stored item (its payload holds one)."""
    try:
        return json.loads(event.payload or "{}")["entry"][0]["changes"][0]["value"]["messages"][0]
    except (KeyError, IndexError, TypeError, ValueError):
        return None

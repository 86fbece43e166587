from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Command

from ..core import media


class LeadChannelMedia(models.Model):
    """A file a customer sent (WhatsApp media id, or the URL of a Messenger /
    Instagram attachment), to download once onto the chatter message of its
    event. The customer's message is posted at capture; only the file is
    fetched later by the fetch job, so a failed download never undoes it and
    a retry never posts it twice (one row per event and file)."""
    _name = "lead.channel.media"
    _inherit = ["lead.channel.fetch.mixin"]
    _description = "Lead Channel Media Download"
    _order = "id desc"
    _rec_name = "file_name"

    event_id = fields.Many2one("lead.channel.event", required=True, index=True, ondelete="cascade", readonly=True)
    lead_id = fields.Many2one("crm.lead", index="btree_not_null", ondelete="cascade", readonly=True)
    message_id = fields.Many2one("mail.message", index="btree_not_null", ondelete="cascade", readonly=True)
    media_type = fields.Char(readonly=True, help="image, document, audio, video, sticker, file...")
    source = fields.Selection([("whatsapp", "WhatsApp media id"), ("url", "URL")], required=True, readonly=True)
    media_ref = fields.Char(required=True, readonly=True, help="WhatsApp media id, or the attachment's URL.")
    mime_type = fields.Char(readonly=True)
    sha256 = fields.Char(readonly=True)
    caption = fields.Text(readonly=True)
    file_name = fields.Char(readonly=True)
    url = fields.Char(readonly=True, help="Where the file was downloaded from (kept when it is too big).")
    attachment_id = fields.Many2one("ir.attachment", ondelete="set null", readonly=True)

    _sql_constraints = [
        ("event_media_uniq", "unique (event_id, media_ref)", "A file is downloaded once per message."),
    ]

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self._trigger_fetch()
        return records

    def _fetch_one(self):
        channel = self.channel_id.sudo()
        message = self.message_id or self.event_id.posted_message_id
        if not message:
            raise UserError(_("The customer's message is not in the chatter yet; the file will be downloaded later."))
        self.message_id = message
        cap = channel._media_max_bytes()
        mime, sha, url = self.mime_type, self.sha256, self.media_ref
        if self.source == "whatsapp":
            info = channel._media_info(self.media_ref)
            url = info["url"]
            mime, sha = info.get("mime_type") or mime, info.get("sha256") or sha
            if media.too_big(info.get("file_size"), cap):
                return self._media_too_big(message, url, info.get("file_size"), cap)
        content, ctype, size = channel._media_get(url, self.source == "whatsapp", cap)
        mime = mime or (ctype or "").split(";")[0].strip()
        check = media.check_content(content, sha, cap) if content is not None else media.TOO_BIG
        if check == media.TOO_BIG:  # reading stopped past the cap: the real size is unknown
            return self._media_too_big(message, url, size if content is not None else None, cap)
        if check == media.SHA_MISMATCH:
            raise UserError(_("The file downloaded does not match the checksum Meta sent (sha256): it was "
                               "refused and will be downloaded again."))
        if check == media.EMPTY:
            raise UserError(_("Meta sent an empty file; it will be downloaded again."))
        self._media_attach(message, content, mime, url)

    def _media_attach(self, message, content, mime, url):
        name = media.file_name(self.media_type, mime, self.file_name, url if self.source == "url" else "")
        # sudo: the job belongs to no user; the file goes on the lead, readable like its chatter.
        # The customer's bytes are kept as sent (checked by sha256): no image post-processing,
        # and markup files are stored as plain text (never served as a page)
        attachment = self.env["ir.attachment"].sudo().with_context(
            image_no_postprocess=True, attachments_mime_plainxml=True).create({
                "name": name, "raw": content, "mimetype": mime or False,
                "res_model": message.model, "res_id": message.res_id})
        values = {"attachment_ids": [Command.link(attachment.id)]}
        if self.source == "whatsapp":  # the "[image] caption" placeholder becomes the caption
            values["body"] = Markup("<br/>").join(escape(line) for line in (self.caption or "").split("\n")) \
                if self.caption else ""
        message.sudo().write(values)
        self.write({"state": "done", "attachment_id": attachment.id, "error": False, "next_attempt_at": False,
                    "url": url if self.source == "url" else False})

    def _media_too_big(self, message, url, size, cap):
        kind, limit = self.media_type or _("file"), media.size_label(cap)
        if size:
            note = _("This %(type)s is too big to keep in Odoo (%(size)s MB; the limit is %(limit)s MB). Link:",
                     type=kind, size=media.size_label(size), limit=limit)
        else:
            note = _("This %(type)s is too big to keep in Odoo (over the limit of %(limit)s MB). Link:",
                     type=kind, limit=limit)
        self._append_to_message(message, note, url)
        self.write({"state": "too_big", "url": url, "error": note, "next_attempt_at": False})

    def _fetch_given_up(self, error):
        message = self.message_id or self.event_id.posted_message_id
        if message:
            link = self.media_ref if self.source == "url" else False
            self._append_to_message(message, _("This %(type)s could not be downloaded: %(error)s",
                                               type=self.media_type or _("file"), error=error), link)

    def _append_to_message(self, message, note, url=False):
        line = escape(note)
        if url:
            line += Markup(' <a href="%s" target="_blank" rel="noopener noreferrer">%s</a>') % (url, url)
        message.sudo().write({"body": (message.body or Markup()) + Markup("<br/><i>%s</i>") % line})

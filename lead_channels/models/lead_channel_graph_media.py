import json

from odoo import _, models
from odoo.exceptions import UserError

from ..core import media

MEDIA_MAX_BYTES_PARAM = "lead_channels.media_max_bytes"
JSON_MAX_BYTES = 1024 * 1024  # a Graph JSON answer about a file is a few hundred bytes


class LeadChannel(models.Model):
    """Graph calls for files: download (media of customers' messages) and
    upload (files agents send on WhatsApp)."""
    _inherit = "lead.channel"

    def _media_max_bytes(self):
        """Largest file kept in Odoo: ir.config_parameter lead_channels.media_max_bytes
        (a context key of the same name wins), 16 MB by default."""
        value = self.env.context.get(MEDIA_MAX_BYTES_PARAM) or self.env["ir.config_parameter"].sudo().get_param(
            MEDIA_MAX_BYTES_PARAM)
        try:
            return int(value) if int(value) > 0 else media.DEFAULT_MAX_BYTES
        except (TypeError, ValueError):
            return media.DEFAULT_MAX_BYTES

    def _media_get(self, url, with_token, max_bytes):
        """GET a file (streamed, never more than ``max_bytes`` + 1 bytes read).

        :param with_token: send the channel's token (WhatsApp media URLs need
            it; Messenger / Instagram attachment URLs are signed CDN links and
            never get our token)
        :return: ``(content or None when over max_bytes, content type, size read)``
        :raise UserError: in plain words, the HTTP status named
        """
        import requests  # noqa: PLC0415 - imported lazily, only workers calling Meta need it

        self.ensure_one()
        headers = {}
        if with_token:
            secret = self.sudo().access_token
            if not secret:
                raise UserError(_("Channel %s has no access token: ask an administrator to set it.", self.name))
            headers["Authorization"] = "Bearer %s" % secret
        try:
            with requests.get(url, headers=headers, timeout=self._graph_timeout(), stream=True) as response:
                if response.status_code >= 400:
                    raise UserError(self._media_error_message(response))
                content, size = bytearray(), 0
                for chunk in response.iter_content(64 * 1024):
                    size += len(chunk)
                    if size > max_bytes:
                        return None, response.headers.get("Content-Type") or "", size
                    content += chunk
                return bytes(content), response.headers.get("Content-Type") or "", size
        except requests.Timeout:
            raise UserError(_("Meta did not answer in time; it will be retried.")) from None
        except requests.RequestException as exc:
            raise UserError(_("Meta could not be reached (%s).", exc.__class__.__name__)) from None

    def _media_error_message(self, response):
        if response.status_code == 404:
            return _("Meta no longer has this file (HTTP 404): Meta keeps a customer's files for a limited "
                     "time only. Ask the customer to send it again if it is still missing.")
        try:
            data = response.json()
        except ValueError:
            data = {}
        return self._graph_error_message(response.status_code, data)

    def _media_info(self, media_id):
        """Graph's JSON about a WhatsApp media id: url, mime_type, sha256, file_size."""
        url = "%s/%s" % (self.graph_url.rstrip("/"), media_id)
        content, _ctype, _size = self._media_get(url, True, JSON_MAX_BYTES)
        try:
            data = json.loads(content or b"{}")
        except ValueError:
            data = {}
        if not isinstance(data, dict) or not data.get("url"):
            raise UserError(_("Meta gave no download address for this file; it will be retried."))
        return data

    def _graph_upload(self, path, data, files):
        """POST a multipart form to the Graph API (WhatsApp's media endpoint):
        a file takes longer than a message, hence at least 30 s."""
        return self._graph_call("POST", path, data=data, files=files, timeout=30.0)

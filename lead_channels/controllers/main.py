"""Public endpoints: Meta webhooks and web forms.

Store first, answer fast, process later: a delivery is verified, cut into
inbox events with one INSERT ... ON CONFLICT and answered; a triggered cron
does the slow work, so Meta never waits on lead creation. The request's
transaction is committed by Odoo right after the response is built.
"""
import json
import logging
import secrets

from odoo import fields, http
from odoo.http import request

from ..core import form as form_core
from ..core import meta
from ..core.signature import verify_signature
from ..vocabulary import META_TYPES

_logger = logging.getLogger(__name__)

MAX_META_BODY = 1024 * 1024  # Meta's deliveries are a few KB; 1 MB leaves room for batches
MAX_FORM_BODY = 64 * 1024


def _text(body, status, headers=None):
    return request.make_response(body, headers=[("Content-Type", "text/plain; charset=utf-8")]
                                 + list(headers or []), status=status)


def _json(data, status, headers=None):
    return request.make_response(json.dumps(data), headers=[("Content-Type", "application/json")]
                                 + list(headers or []), status=status)


def _read_body(limit):
    """Raw body, or None when it is larger than ``limit`` bytes."""
    httprequest = request.httprequest
    length = httprequest.content_length
    if length is not None and length > limit:
        return None
    data = httprequest.get_data(cache=True)
    return None if len(data) > limit else data


def _channel(token, types):
    """(id, company_id, channel_type, app_secret, verify_token) of the active
    channel with this token, or None. One query: this is the hot path."""
    if not token or len(token) > 128:
        return None
    request.env.cr.execute("""
        SELECT id, company_id, channel_type, app_secret, verify_token FROM lead_channel
         WHERE token = %s AND active AND channel_type = ANY(%s)
    """, [token, list(types)])
    return request.env.cr.fetchone()


class LeadChannelsController(http.Controller):

    @http.route("/lead_channels/meta/<string:token>", type="http", auth="public", methods=["GET"],
                csrf=False, save_session=False)
    def meta_verify(self, token, **params):
        row = _channel(token, META_TYPES)
        if not row:
            return _text("unknown channel", 404)
        expected = row[4] or ""
        given = params.get("hub.verify_token") or ""
        if params.get("hub.mode") == "subscribe" and expected and secrets.compare_digest(
                expected.encode(), given.encode()):
            return _text(params.get("hub.challenge") or "", 200)
        return _text("verification failed", 403)

    @http.route("/lead_channels/meta/<string:token>", type="http", auth="public", methods=["POST"],
                csrf=False, save_session=False)
    def meta_deliver(self, token, **_params):
        row = _channel(token, META_TYPES)
        if not row:
            return _text("unknown channel", 404)
        body = _read_body(MAX_META_BODY)
        if body is None:
            return _text("body too large", 413)
        if not verify_signature(row[3], body, request.httprequest.headers.get("X-Hub-Signature-256")):
            return _text("invalid signature", 403)
        try:
            data = meta.load_body(body)
        except meta.PayloadError as exc:
            return _text(str(exc), 400)
        items = meta.split_delivery(data)
        if not items:  # nothing recognisable: keep it anyway, never drop silently
            items = [(meta.UNKNOWN, "body:" + meta._digest(body), data)]
        if len(items) == 1:  # a single element: keep Meta's raw body verbatim
            items = [(items[0][0], items[0][1], body.decode("utf-8"))]
        request.env["lead.channel.event"].sudo()._store(row[0], items)
        return _text("EVENT_RECEIVED", 200)

    @http.route("/lead_channels/form/<string:token>", type="http", auth="public",
                methods=["POST", "OPTIONS"], csrf=False, save_session=False)
    def form_submit(self, token, **_params):
        row = _channel(token, ("web_form",))
        if not row:
            return _text("unknown form", 404)
        channel = request.env["lead.channel"].sudo().browse(row[0])
        origin = request.httprequest.headers.get("Origin")
        cors = []
        if origin:
            if not channel._origin_allowed(origin):
                return _json({"error": "origin not allowed"}, 403)
            cors = [("Access-Control-Allow-Origin", origin), ("Vary", "Origin")]
        if request.httprequest.method == "OPTIONS":
            return _text("", 204, cors + [("Access-Control-Allow-Methods", "POST, OPTIONS"),
                                          ("Access-Control-Allow-Headers", "Content-Type"),
                                          ("Access-Control-Max-Age", "600")])
        length = request.httprequest.content_length
        if length is not None and length > MAX_FORM_BODY:
            return _json({"error": "body too large"}, 413, cors)
        if request.httprequest.mimetype == "application/json":
            body = _read_body(MAX_FORM_BODY)
            if body is None:
                return _json({"error": "body too large"}, 413, cors)
            try:
                data = meta.load_body(body)
            except meta.PayloadError as exc:
                return _json({"error": str(exc)}, 400, cors)
        else:  # form-encoded: Odoo already parsed it
            data = request.httprequest.form.to_dict()
        if form_core.is_spam(data):
            return _json({"status": "received"}, 201, cors)  # bots learn nothing
        remote_addr = request.httprequest.remote_addr
        if channel.rate_limit:
            request.env.cr.execute("""
                SELECT count(*) FROM lead_channel_event
                 WHERE channel_id = %s AND remote_addr = %s
                   AND received_at > now() at time zone 'UTC' - interval '1 minute'
            """, [channel.id, remote_addr])
            if form_core.rate_limited(request.env.cr.fetchone()[0], channel.rate_limit):
                return _json({"error": "too many submissions, try again in a minute"}, 429,
                             cors + [("Retry-After", "60")])
        clean, errors = form_core.validate_submission(data, channel._region())
        if errors:
            return _json({"error": "invalid input", "fields": errors}, 422, cors)
        submission_id = str(data.get("submission_id") or "") or "form:%s" % secrets.token_hex(12)
        event = request.env["lead.channel.event"].sudo()._capture_form(
            channel.id, submission_id, clean, remote_addr=remote_addr)
        if event.lead_id:
            return _json({"status": "created", "lead_id": event.lead_id.id,
                          "reference": "%s#%s" % (event.lead_id._name, event.lead_id.id)}, 201, cors)
        return _json({"status": "accepted", "reference": "event#%s" % event.id,
                      "received_at": fields.Datetime.to_string(event.received_at)}, 202, cors)

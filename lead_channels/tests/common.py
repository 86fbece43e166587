import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

from odoo.tests import new_test_user

from ..core.signature import compute_signature

APP_SECRET = "test-app-secret-ü"
VERIFY_TOKEN = "verify-me"


class GraphServer:
    """A small real HTTP server on 127.0.0.1 playing Meta's Graph API.

    ``routes`` maps ``(method, path)`` to ``(status, json_body)``, to
    ``"hang"`` (the answer is held until the test ends: the client times out),
    to ``(status, raw_bytes, content_type)`` (a media file)
    or to a function of the request (its ``query``...) returning ``(status, json_body)``.
    """

    def __init__(self):
        self.routes = {}
        self.requests = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, method):
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                server.requests.append({"method": method, "path": url.path,
                                        "query": parse_qs(url.query), "body": body,
                                        "headers": dict(self.headers)})
                route = server.routes.get((method, url.path), (404, {"error": {"message": "no route"}}))
                if route == "hang":
                    server.release.wait(30)  # Odoo raises client timeouts below 10 s to 10 s in tests
                    return
                route = route(server.requests[-1]) if callable(route) else route
                status, payload = route[:2]
                # a third item gives raw bytes and their content type (a media file)
                data, ctype = (payload, route[2]) if len(route) > 2 else (json.dumps(payload).encode(),
                                                                          "application/json")
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802
                self._answer("GET")

            def do_POST(self):  # noqa: N802
                self._answer("POST")

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.root = "http://127.0.0.1:%s" % self.httpd.server_address[1]
        self.url = self.root + "/v21.0"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


class ChannelsCommon:
    """Mixin for TransactionCase / HttpCase: channels, users and payload builders."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.country_id = cls.env.ref("base.my")
        cls.team = cls.env["crm.team"].create({"name": "Channels Team"})
        cls.salesman = new_test_user(cls.env, "chan_salesman", groups="sales_team.group_sale_salesman",
                                     email="salesman@example.com", name="Sam Salesman")
        cls.manager = new_test_user(cls.env, "chan_manager", groups="sales_team.group_sale_manager",
                                    email="manager@example.com")
        Channel = cls.env["lead.channel"]
        cls.wa = Channel.create({
            "name": "WhatsApp Sales", "channel_type": "whatsapp", "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN, "access_token": "wa-token", "wa_phone_number_id": "PNID1",
            "wa_template_name": "follow_up", "wa_template_lang": "en", "team_id": cls.team.id,
        })
        cls.fb = Channel.create({
            "name": "FB Lead Ads", "channel_type": "facebook_lead_ads", "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN, "access_token": "page-token", "page_id": "PAGE1",
        })
        cls.messenger = Channel.create({
            "name": "Messenger", "channel_type": "messenger", "app_secret": APP_SECRET, "page_id": "PAGE1"})
        cls.instagram = Channel.create({
            "name": "Instagram", "channel_type": "instagram", "app_secret": APP_SECRET, "page_id": "IG1"})
        cls.form = Channel.create({
            "name": "Landing Page", "channel_type": "web_form",
            "allowed_origins": "https://www.example.my", "rate_limit": 50})
        cls.walk_in = Channel.create({"name": "Showroom", "channel_type": "walk_in"})
        cls.referral = Channel.create({"name": "Referrals", "channel_type": "referral"})
        cls.Event = cls.env["lead.channel.event"]
        cls.Lead = cls.env["crm.lead"].with_context(active_test=False)

    # ---------------------------------------------------------- payloads
    @staticmethod
    def wa_message(wamid, text="Hi, is the unit available?", wa_id="60123456789", name="Ahmad Faiz",
                   timestamp=1763880000, **extra):
        message = {"from": wa_id, "id": wamid, "timestamp": str(timestamp), "type": "text",
                   "text": {"body": text}}
        message.update(extra)
        return message, {"profile": {"name": name}, "wa_id": wa_id}

    @staticmethod
    def wa_delivery(messages=(), contacts=(), statuses=(), entries=1):
        value = {"messaging_product": "whatsapp",
                 "metadata": {"display_phone_number": "60380001000", "phone_number_id": "PNID1"}}
        if messages:
            value["messages"] = list(messages)
            value["contacts"] = list(contacts)
        if statuses:
            value["statuses"] = list(statuses)
        return {"object": "whatsapp_business_account",
                "entry": [{"id": "WABA1", "changes": [{"field": "messages", "value": value}]}
                          for _i in range(entries)]}

    @classmethod
    def wa_one(cls, wamid, **kw):
        message, contact = cls.wa_message(wamid, **kw)
        return cls.wa_delivery([message], [contact])

    @staticmethod
    def body_of(data):
        return json.dumps(data, ensure_ascii=False).encode("utf-8")

    @staticmethod
    def sign(body, secret=APP_SECRET):
        return compute_signature(secret, body)

    def deliver_direct(self, channel, data):
        """Store a delivery the way the controller does (for TransactionCase tests)."""
        from ..core import meta
        return self.Event.sudo()._store(channel.id, meta.split_delivery(data))

    def process_all(self):
        events = self.Event.sudo().search([("state", "=", "new")], order="received_at, id")
        events._process()
        return events

    def leads_of(self, channel):
        return self.Lead.search([("channel_id", "=", channel.id)])

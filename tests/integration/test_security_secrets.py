"""Security audit: channel secrets stay secret, signatures are checked in
constant time and a replayed delivery is harmless."""
import hmac
import json
import logging
import secrets
import time
from contextlib import contextmanager
from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import new_test_user

from odoo.addons.lead_channels.core.signature import compute_signature
from odoo.addons.lead_channels.tests.common import GraphServer

from .common import SuiteHttpCase

APP_SECRET = "sec-app-secret-a1b2c3"
VERIFY_TOKEN = "sec-verify-token-d4e5"
ACCESS_TOKEN = "sec-access-token-f6g7"
SECRETS = (APP_SECRET, VERIFY_TOKEN, ACCESS_TOKEN)
LOGGERS = ("", "odoo", "werkzeug", "urllib3", "requests", "odoo.addons.lead_channels",
           "odoo.addons.lead_distribution", "odoo.addons.lead_sla", "odoo.addons.lead_scoring")


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.lines = []

    def emit(self, record):
        self.lines.append(self.format(record))


@contextmanager
def all_logs():
    """Every record our addons and the HTTP layers log, from INFO up (DEBUG for ours)."""
    handler = _Collect()
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    saved = {name: logging.getLogger(name).level for name in LOGGERS}
    for name in LOGGERS:
        logging.getLogger(name).setLevel(logging.DEBUG if name.startswith("odoo.addons") else logging.INFO)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


class TestSecrets(SuiteHttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        cls.env["ir.config_parameter"].sudo().set_param("lead_channels.graph_timeout", "2")
        Channel = cls.env["lead.channel"]
        cls.wa = Channel.create({
            "name": "Secret WA", "channel_type": "whatsapp", "app_secret": APP_SECRET,
            "verify_token": VERIFY_TOKEN, "access_token": ACCESS_TOKEN, "wa_phone_number_id": "PN9",
            "graph_url": cls.graph.url})
        cls.fb = Channel.create({
            "name": "Secret Lead Ads", "channel_type": "facebook_lead_ads", "app_secret": APP_SECRET,
            "access_token": ACCESS_TOKEN, "page_id": "PAGE9", "graph_url": cls.graph.url})
        cls.salesman = new_test_user(cls.env, "sec_wa_agent", groups="sales_team.group_sale_salesman_all_leads")
        cls.Event = cls.env["lead.channel.event"].sudo()

    def setUp(self):
        super().setUp()
        self.graph.routes.clear()
        self.graph.requests.clear()

    def post(self, channel, body, signature=None):
        return self.opener.post(self.base_url() + "/lead_channels/meta/%s" % channel.token, data=body,
                                headers={"Content-Type": "application/json",
                                         "X-Hub-Signature-256": signature or compute_signature(APP_SECRET, body)},
                                timeout=30)

    @staticmethod
    def wa_body(wamid, wa_id="60129990001", text="Hi, price?"):
        return json.dumps({"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp", "metadata": {"phone_number_id": "PN9"},
                "contacts": [{"profile": {"name": "Farah"}, "wa_id": wa_id}],
                "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())), "type": "text",
                              "text": {"body": text}}]}}]}]}).encode()

    @staticmethod
    def leadgen_body(leadgen_id):
        return json.dumps({"object": "page", "entry": [{"id": "PAGE9", "time": 1763880000, "changes": [{
            "field": "leadgen", "value": {"leadgen_id": leadgen_id, "page_id": "PAGE9", "form_id": "F9",
                                          "created_time": 1763880000}}]}]}).encode()

    def process_inbox(self):
        """What the inbox job does, in the test's transaction."""
        self.Event.search([("state", "=", "new")], order="received_at, id")._process()

    def assert_no_secret(self, text, where):
        for value in SECRETS:
            self.assertNotIn(value, text, "a secret in %s" % where)

    def test_signatures_and_verify_tokens_are_compared_in_constant_time(self):
        body = self.wa_body("wamid.CT1")
        with patch.object(hmac, "compare_digest", wraps=hmac.compare_digest) as spy:
            self.assertEqual(self.post(self.wa, body, "sha256=" + "0" * 64).status_code, 403)
            self.assertEqual(self.post(self.wa, body).status_code, 200)
        compared = [call.args[0] for call in spy.call_args_list if call.args[0].startswith(b"sha256=")]
        self.assertEqual(compared, [compute_signature(APP_SECRET, body).encode()] * 2,
                         "each signature goes through hmac.compare_digest")
        with patch.object(secrets, "compare_digest", wraps=secrets.compare_digest) as spy:
            url = "/lead_channels/meta/%s?hub.mode=subscribe&hub.verify_token=%s&hub.challenge=42"
            self.assertEqual(self.url_open(url % (self.wa.token, "guess")).status_code, 403)
            self.assertEqual(self.url_open(url % (self.wa.token, VERIFY_TOKEN)).text, "42")
        self.assertEqual(len([c for c in spy.call_args_list if c.args[0] == VERIFY_TOKEN.encode()]), 2,
                         "the verify token too")

    def test_secrets_never_logged(self):
        self.graph.routes[("GET", "/v21.0/LG-LOG-1")] = (500, {"error": {"message": "Internal error"}})
        with all_logs() as lines:
            self.assertEqual(self.post(self.wa, self.wa_body("wamid.LOG1"), "sha256=" + "1" * 64).status_code, 403)
            self.assertEqual(self.post(self.wa, self.wa_body("wamid.LOG1")).status_code, 200)
            self.assertEqual(self.post(self.fb, self.leadgen_body("LG-LOG-1")).status_code, 200)
            self.process_inbox()
        self.assertTrue(lines, "the capture works (else this proves nothing)")
        self.assert_no_secret("\n".join(lines), "the log")
        retrieval = [r for r in self.graph.requests if r["path"] == "/v21.0/LG-LOG-1"]
        self.assertTrue(retrieval, "the Lead Ads retrieval was attempted")
        self.assertNotIn("access_token", retrieval[0]["query"], "no token in a URL (logs, proxies)")
        failed = self.Event.search([("external_id", "=", "LG-LOG-1")])
        self.assertEqual(failed.state, "failed", "Meta's 500 fails the retrieval, to be retried")
        self.assert_no_secret(failed.error or "", "an event's error")

    def test_secrets_never_in_chatter_nor_error_text(self):
        self.assertEqual(self.post(self.wa, self.wa_body("wamid.CH1")).status_code, 200)
        self.process_inbox()
        lead = self.Event.search([("external_id", "=", "wamid.CH1")]).lead_id
        lead.user_id = self.salesman
        composer = self.env["lead.channel.whatsapp.composer"].with_user(self.salesman)
        for route in ((401, {"error": {"code": 190, "message": "Invalid OAuth access token."}}),
                      (500, {"error": {"message": "Unknown"}})):
            self.graph.routes[("POST", "/v21.0/PN9/messages")] = route
            with self.assertRaises(UserError) as failure:
                composer.create({"lead_id": lead.id, "body": "Hello"}).action_send()
            self.assert_no_secret(str(failure.exception), "an error shown to the agent")
        self.graph.routes[("POST", "/v21.0/PN9/messages")] = (200, {"messages": [{"id": "wamid.OUT9"}]})
        composer.create({"lead_id": lead.id, "body": "Hello"}).action_send()
        self.assertEqual(self.graph.requests[-1]["headers"]["Authorization"], "Bearer " + ACCESS_TOKEN,
                         "the token goes to Meta, and only there")
        chatter = lead.message_ids | self.wa.message_ids
        self.assert_no_secret(str(chatter.mapped("body")) + str(chatter.sudo().tracking_value_ids.mapped(
            "new_value_char")), "the chatter")
        self.graph.routes.clear()
        self.wa.graph_url = "http://127.0.0.1:9/v21.0"  # nothing listens: a connection error
        with self.assertRaises(UserError) as failure:
            composer.create({"lead_id": lead.id, "body": "Hello"}).action_send()
        self.assert_no_secret(str(failure.exception), "a connection error")

    def test_replayed_old_delivery_is_harmless(self):
        body = self.wa_body("wamid.REPLAY", text="First and only")
        self.assertEqual(self.post(self.wa, body).status_code, 200)
        self.process_inbox()
        original = self.Event.search([("external_id", "=", "wamid.REPLAY")])
        lead = original.lead_id
        messages, inbound = len(lead.message_ids), lead.lead_inbound_count
        for _replay in range(3):  # an attacker (or Meta) replays the captured request as it was
            self.assertEqual(self.post(self.wa, body).status_code, 200)
        self.process_inbox()
        events = self.Event.search([("external_id", "=", "wamid.REPLAY")])
        self.assertEqual(sorted(events.mapped("state")), ["done", "duplicate", "duplicate", "duplicate"])
        self.assertEqual(len(lead.message_ids), messages, "nothing doubled in the chatter")
        self.assertEqual(lead.lead_inbound_count, inbound)
        self.assertEqual(self.env["crm.lead"].search_count([("phone_sanitized", "=", "+60129990001")]), 1)
        altered = body.replace(b"First", b"Forged")
        self.assertEqual(self.post(self.wa, altered, compute_signature(APP_SECRET, body)).status_code, 403,
                         "an altered replay fails the signature")

"""Fuzzing of every public route through real HTTP (hypothesis).

Whatever arrives — malformed, oversized, deeply nested or wrong-type JSON,
wrong content types, huge headers, forged signatures — the answer is a clean
4xx (or 200/201/202 for a valid body, even one we ignore), never a 500;
nothing is stored for rejected input; no answer carries a stack trace or a
secret. What was stored is then processed without crashing the inbox job.
"""
import json

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from odoo.addons.lead_channels.core.signature import compute_signature

from .common import SuiteHttpCase

APP_SECRET = "fuzz-app-secret-3141"
VERIFY_TOKEN = "fuzz-verify-token-2718"
ACCESS_TOKEN = "fuzz-access-token-1618"
SECRETS = (APP_SECRET, VERIFY_TOKEN, ACCESS_TOKEN)
FUZZ = settings(max_examples=60, deadline=None, database=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
json_values = st.recursive(json_scalars, lambda children: st.lists(children, max_size=4)
                           | st.dictionaries(st.text(max_size=12), children, max_size=4), max_leaves=25)
# shapes close to Meta's, with every leaf free: the parser meets wrong types everywhere
meta_like = st.fixed_dictionaries({
    "object": st.sampled_from(["whatsapp_business_account", "page", "instagram", "x"]) | json_values,
    "entry": st.lists(st.fixed_dictionaries({
        "id": json_values,
        "changes": st.lists(st.fixed_dictionaries({
            "field": st.sampled_from(["messages", "leadgen", "other"]) | json_values,
            "value": st.fixed_dictionaries({
                "messages": st.lists(st.dictionaries(st.sampled_from(
                    ["from", "id", "timestamp", "type", "text", "from_user_id"]), json_values), max_size=2)
                | json_values,
                "contacts": json_values, "statuses": json_values, "leadgen_id": json_values,
            }) | json_values,
        }), max_size=2) | json_values,
        "messaging": st.lists(st.dictionaries(st.sampled_from(
            ["sender", "recipient", "timestamp", "message"]), json_values), max_size=2) | json_values,
    }), max_size=2) | json_values,
})
content_types = st.sampled_from([
    "application/json", "application/json; charset=latin-1", "text/plain", "application/xml",
    "application/x-www-form-urlencoded", "multipart/form-data; boundary=zzz", "multipart/form-data",
    "", "garbage/\x7f", "application/json" + ";" * 300])
form_keys = st.sampled_from(["name", "email", "phone", "message", "submission_id", "utm_source",
                             "website_url", "hp", "csrf_token", "x_extra"])


class TestFuzzPublicRoutes(SuiteHttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Channel = cls.env["lead.channel"]
        cls.wa = Channel.create({"name": "Fuzz WA", "channel_type": "whatsapp", "app_secret": APP_SECRET,
                                 "verify_token": VERIFY_TOKEN, "access_token": ACCESS_TOKEN})
        cls.form = Channel.create({"name": "Fuzz form", "channel_type": "web_form", "rate_limit": 0,
                                   "allowed_origins": "https://www.example.my"})
        cls.Event = cls.env["lead.channel.event"].sudo()

    def events(self):
        return self.Event.search_count([])

    def check(self, response, allowed):
        text = response.text
        self.assertNotEqual(response.status_code, 500, text[:500])
        self.assertIn(response.status_code, allowed, text[:500])
        for marker in ("Traceback", 'File "/', "psycopg2", "odoo.exceptions"):
            self.assertNotIn(marker, text, "a stack trace in the answer")
        for secret in SECRETS:
            self.assertNotIn(secret, text, "a secret in the answer")
        return response.status_code

    def meta_post(self, body, headers, token=None):
        return self.opener.post(self.base_url() + "/lead_channels/meta/%s" % (token or self.wa.token),
                                data=body, headers=headers, timeout=30)

    def form_post(self, body=None, headers=None, data=None):
        return self.opener.post(self.base_url() + "/lead_channels/form/%s" % self.form.token,
                                data=body if body is not None else data, headers=headers or {}, timeout=30)

    def assert_inbox_survives(self):
        """Everything stored ends done, ignored, duplicate or failed; the job never crashes."""
        self.Event.search([("state", "=", "new")], order="received_at, id")._process()
        states = set(self.Event.search([("channel_id", "in", (self.wa | self.form).ids)]).mapped("state"))
        self.assertLessEqual(states, {"done", "ignored", "duplicate", "failed"})

    # ------------------------------------------------------------------ Meta POST
    @FUZZ
    @given(data=meta_like | json_values, content_type=content_types)
    def test_signed_json_of_any_shape(self, data, content_type):
        body = json.dumps(data).encode()
        before = self.events()
        status = self.check(self.meta_post(body, {"Content-Type": content_type,
                                                  "X-Hub-Signature-256": compute_signature(APP_SECRET, body)}),
                            (200, 400, 403))
        if status == 200:
            self.assertGreater(self.events(), before, "an accepted delivery is kept")
        else:
            self.assertEqual(self.events(), before, "nothing stored for a rejected delivery")
            if status == 403:  # only a form content type hides the raw body from the signature check
                self.assertIn(content_type.split(";")[0], ("application/x-www-form-urlencoded",
                                                           "multipart/form-data"))

    @FUZZ
    @given(body=st.binary(max_size=2000), forged=st.one_of(
        st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=255), max_size=200),
        st.just("sha256=" + "0" * 64), st.from_regex(r"\Asha256=[0-9a-f]{64}\Z"), st.sampled_from(["sha1=abc", "sha256=", "-", "sha256"])))
    def test_forged_signatures_store_nothing(self, body, forged):
        before = self.events()
        headers = {"Content-Type": "application/json"}
        if forged is not None:
            headers["X-Hub-Signature-256"] = forged
        self.check(self.meta_post(body, headers), (403,))
        self.assertEqual(self.events(), before)

    @FUZZ
    @given(body=st.binary(max_size=3000) | st.text(max_size=3000).map(str.encode))
    def test_signed_garbage_bodies(self, body):
        before = self.events()
        status = self.check(self.meta_post(body, {"Content-Type": "application/json",
                                                  "X-Hub-Signature-256": compute_signature(APP_SECRET, body)}),
                            (200, 400))
        self.assertEqual(self.events() > before, status == 200)

    def test_deeply_nested_oversized_and_huge_headers(self):
        before = self.events()
        for depth in (500, 5000, 100000):
            for body in (b"[" * depth + b"]" * depth, b'{"a":' * depth + b"1" + b"}" * depth):
                self.check(self.meta_post(body, {"Content-Type": "application/json",
                                                 "X-Hub-Signature-256": compute_signature(APP_SECRET, body)}),
                           (200, 400, 413))
                self.check(self.form_post(body, {"Content-Type": "application/json"}), (400, 413, 422))
        big = b'{"object": "page", "pad": "' + b"x" * (1024 * 1024) + b'"}'
        self.check(self.meta_post(big, {"Content-Type": "application/json",
                                        "X-Hub-Signature-256": compute_signature(APP_SECRET, big)}), (413,))
        self.check(self.form_post(b'{"name": "' + b"x" * 70000 + b'"}', {"Content-Type": "application/json"}),
                   (413,))
        self.check(self.form_post(data={"name": "x" * 70000, "phone": "+60123456789"}), (413,))
        body = b'{"object": "page"}'
        for headers in ({"X-Huge": "a" * 16000}, {"X-Hub-Signature-256": "sha256=" + "a" * 16000},
                        {"X-H%d" % i: "v" * 100 for i in range(90)}):
            # big, but within what the HTTP server reads: our controller answers
            self.check(self.meta_post(body, dict(headers, **{"Content-Type": "application/json"})), (403,))
        for headers in ({"X-Huge": "a" * 70000}, {"X-H%d" % i: "v" for i in range(150)}):
            # beyond the HTTP server's limits (64 KB a line, 100 headers): Odoo's HTTP
            # layer refuses them before any controller runs (431, or the connection
            # closed while the client still sends); never a 500
            try:
                response = self.meta_post(body, dict(headers, **{"Content-Type": "application/json"}))
            except requests.ConnectionError:
                continue
            self.check(response, (400, 413, 431))
        self.assertEqual(self.events(), before)
        self.assert_inbox_survives()

    # ------------------------------------------------------------------ Meta GET
    @FUZZ
    @given(params=st.dictionaries(st.sampled_from(["hub.mode", "hub.verify_token", "hub.challenge", "x"]),
                                  st.text(max_size=300), max_size=4),
           token=st.none() | st.text(alphabet=st.characters(blacklist_characters="/?#%\x00"), min_size=1,
                                     max_size=200))
    def test_verification_handshake(self, params, token):
        url = "/lead_channels/meta/%s" % (token or self.wa.token)
        status = self.check(self.opener.get(self.base_url() + url, params=params, timeout=30),
                            (200, 403, 404, 400))
        if status == 200:
            self.assertEqual((params.get("hub.mode"), params.get("hub.verify_token")), ("subscribe", VERIFY_TOKEN))

    # ------------------------------------------------------------------ web form
    @FUZZ
    @given(data=st.dictionaries(form_keys, json_values, max_size=8) | json_values,
           origin=st.none() | st.sampled_from(["https://www.example.my", "https://evil.example", "null"]))
    def test_form_json_of_any_shape(self, data, origin):
        before = self.events()
        headers = {"Content-Type": "application/json"}
        if origin:
            headers["Origin"] = origin
        status = self.check(self.form_post(json.dumps(data).encode(), headers), (201, 202, 400, 403, 422))
        if status >= 400 or (isinstance(data, dict) and any(data.get(k) for k in ("website_url", "hp"))):
            self.assertEqual(self.events(), before, "nothing stored for rejected input or a bot")

    @FUZZ
    @given(data=st.dictionaries(form_keys, st.text(max_size=300), max_size=8), content_type=content_types)
    def test_form_encoded_and_wrong_content_types(self, data, content_type):
        before = self.events()
        if content_type.startswith("application/x-www-form-urlencoded"):
            response = self.form_post(data=data)
        else:
            response = self.form_post(json.dumps(data).encode(), {"Content-Type": content_type})
        status = self.check(response, (201, 202, 400, 403, 413, 415, 422))
        if status >= 400:
            self.assertEqual(self.events(), before)
        self.assert_inbox_survives()

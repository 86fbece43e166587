import json

from odoo.tests import HttpCase, tagged

from .common import ChannelsCommon


@tagged("post_install", "-at_install")
class TestWebForm(ChannelsCommon, HttpCase):

    def submit(self, data, as_json=True, origin=None, token=None, method="post"):
        headers = {}
        if as_json:
            headers["Content-Type"] = "application/json"
            data = json.dumps(data)
        if origin:
            headers["Origin"] = origin
        url = self.base_url() + "/lead_channels/form/%s" % (token or self.form.token)
        return getattr(self.opener, method)(url, data=data, headers=headers, timeout=20)

    def test_json_submission_creates_lead(self):
        response = self.submit({"name": "Farah", "email": "farah@example.com", "phone": "012-777 8888",
                                "message": "Need a quote", "utm_source": "google", "utm_campaign": "Raya 2026",
                                "budget": "RM 300k"}, origin="https://www.example.my")
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(response.headers["Access-Control-Allow-Origin"], "https://www.example.my")
        lead = self.env["crm.lead"].browse(response.json()["lead_id"])
        self.assertEqual(lead.channel_id, self.form)
        self.assertEqual(lead.phone_sanitized, "+60127778888")
        self.assertEqual(lead.source_id.name, "google")
        self.assertEqual(lead.campaign_id.name, "Raya 2026")
        self.assertIn("budget: RM 300k", lead.description)
        self.assertFalse(lead.user_id)

    def test_form_encoded_and_field_map(self):
        self.form.field_map_ids = [(0, 0, {
            "source_key": "budget", "field_id": self.env["ir.model.fields"]._get("crm.lead", "lead_budget").id})]
        response = self.submit({"name": "Kumar", "phone": "+60 16-123 4567", "budget": "450,000"}, as_json=False)
        self.assertEqual(response.status_code, 201, response.text)
        lead = self.env["crm.lead"].browse(response.json()["lead_id"])
        self.assertEqual(lead.lead_budget, 450000)

    def test_invalid_input_lists_fields(self):
        response = self.submit({"email": "not-an-email", "phone": "123"})
        self.assertEqual(response.status_code, 422)
        self.assertEqual(set(response.json()["fields"]), {"name", "email", "phone"})
        self.assertFalse(self.leads_of(self.form))
        self.assertEqual(self.submit({"name": "x"}, as_json=True).status_code, 422)

    def test_honeypot_dropped_silently(self):
        response = self.submit({"name": "Bot", "email": "bot@spam.example", "website_url": "http://spam"})
        self.assertEqual(response.status_code, 201)
        self.assertFalse(self.leads_of(self.form))
        self.assertFalse(self.Event.search([("channel_id", "=", self.form.id)]))

    def test_cors(self):
        preflight = self.submit(None, as_json=False, origin="https://www.example.my", method="options")
        self.assertEqual(preflight.status_code, 204)
        self.assertEqual(preflight.headers["Access-Control-Allow-Origin"], "https://www.example.my")
        evil = self.submit({"name": "A", "email": "a@example.com"}, origin="https://evil.example")
        self.assertEqual(evil.status_code, 403)
        self.assertNotIn("Access-Control-Allow-Origin", evil.headers)
        self.assertFalse(self.leads_of(self.form))

    def test_rate_limit_unknown_token_oversize_bad_json(self):
        self.form.rate_limit = 2
        for i in range(2):
            self.assertEqual(self.submit({"name": "N%s" % i, "email": "n%s@example.com" % i}).status_code, 201)
        limited = self.submit({"name": "N3", "email": "n3@example.com"})
        self.assertEqual(limited.status_code, 429)
        self.assertEqual(len(self.leads_of(self.form)), 2)
        self.assertEqual(self.submit({"name": "A", "email": "a@example.com"}, token="nope").status_code, 404)
        self.form.rate_limit = 0
        self.assertEqual(self.submit({"name": "A" * 70000, "email": "a@example.com"}).status_code, 413)
        url = self.base_url() + "/lead_channels/form/%s" % self.form.token
        bad = self.opener.post(url, data=b"{nope", headers={"Content-Type": "application/json"}, timeout=20)
        self.assertEqual(bad.status_code, 400)

    def test_same_submission_twice_one_lead(self):
        payload = {"name": "Ong", "email": "ong@example.com", "submission_id": "sub-42"}
        first, second = self.submit(payload), self.submit(payload)
        self.assertEqual((first.status_code, second.status_code), (201, 201))
        self.assertEqual(first.json()["lead_id"], second.json()["lead_id"])
        self.assertEqual(len(self.leads_of(self.form)), 1)

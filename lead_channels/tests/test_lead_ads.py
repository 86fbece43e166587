from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon, GraphServer

LEADGEN = {
    "id": "900001", "created_time": "2026-11-23T01:00:00+0000", "ad_id": "AD-777",
    "ad_name": "Residensi Harmoni launch", "form_id": "F1",
    "field_data": [
        {"name": "full_name", "values": ["Siti Rahman"]},
        {"name": "email", "values": ["Siti.Rahman@Example.com"]},
        {"name": "phone_number", "values": ["+60 12-555 0101"]},
        {"name": "city", "values": ["Shah Alam"]},
        {"name": "what_is_your_budget?", "values": ["RM 650k"]},
        {"name": "when_do_you_plan_to_buy?", "values": ["This month"]},
        {"name": "preferred_layout", "values": ["3 rooms"]},
    ],
}


@tagged("post_install", "-at_install")
class TestLeadAds(ChannelsCommon, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        cls.fb.graph_url = cls.graph.url
        budget = cls.env["ir.model.fields"]._get("crm.lead", "lead_budget")
        timeline = cls.env["ir.model.fields"]._get("crm.lead", "lead_timeline")
        cls.fb.field_map_ids = [
            (0, 0, {"source_key": "what_is_your_budget?", "field_id": budget.id}),
            (0, 0, {"source_key": "when_do_you_plan_to_buy?", "field_id": timeline.id}),
        ]
        cls.env["ir.config_parameter"].sudo().set_param("lead_channels.graph_timeout", "0.3")

    def setUp(self):
        super().setUp()
        self.graph.routes.clear()
        self.graph.requests.clear()

    def leadgen_delivery(self, leadgen_id):
        return {"object": "page", "entry": [{"id": "PAGE1", "time": 1763880000, "changes": [
            {"field": "leadgen", "value": {"leadgen_id": leadgen_id, "page_id": "PAGE1", "form_id": "F1",
                                           "ad_id": "AD-777", "created_time": 1763880000}}]}]}

    def test_success_maps_fields(self):
        self.graph.routes[("GET", "/v21.0/900001")] = (200, LEADGEN)
        self.deliver_direct(self.fb, self.leadgen_delivery("900001"))
        event = self.process_all()
        self.assertEqual(event.state, "done", event.error)
        request = self.graph.requests[0]
        self.assertEqual(request["headers"]["Authorization"], "Bearer page-token")
        self.assertNotIn("access_token", request["query"], "never in the URL (logs, proxies)")
        lead = event.lead_id
        self.assertEqual(lead.contact_name, "Siti Rahman")
        self.assertEqual(lead.email_normalized, "siti.rahman@example.com")
        self.assertEqual(lead.phone_sanitized, "+60125550101")
        self.assertEqual(lead.lead_budget, 650000)
        self.assertEqual(lead.lead_timeline, "month")
        self.assertEqual(lead.city, "Shah Alam")
        self.assertEqual((lead.ad_id, lead.ad_headline), ("AD-777", "Residensi Harmoni launch"))
        self.assertIn("preferred_layout: 3 rooms", lead.description)
        self.assertEqual(lead.message_ids.filtered(lambda m: m.message_type == "comment").author_id,
                         lead.partner_id)

    def test_server_error_fails_then_retry_succeeds(self):
        self.graph.routes[("GET", "/v21.0/900002")] = (500, {"error": {"message": "Please retry", "code": 2}})
        self.deliver_direct(self.fb, self.leadgen_delivery("900002"))
        event = self.process_all()
        self.assertEqual((event.state, event.attempts), ("failed", 1))
        self.assertIn("HTTP 500", event.error)
        self.assertTrue(event.next_attempt_at)
        self.assertFalse(event.lead_id)
        first_retry_at = event.next_attempt_at
        event._process()  # still failing: the wait doubles
        self.assertEqual(event.attempts, 2)
        self.assertGreater(event.next_attempt_at, first_retry_at)
        self.graph.routes[("GET", "/v21.0/900002")] = (200, dict(LEADGEN, id="900002"))
        event.action_retry()
        self.assertEqual(event.state, "done")
        self.assertEqual(event.lead_id.contact_name, "Siti Rahman")

    def test_timeout_keeps_event_failed(self):
        self.graph.routes[("GET", "/v21.0/900003")] = "hang"
        self.deliver_direct(self.fb, self.leadgen_delivery("900003"))
        event = self.process_all()
        self.assertEqual(event.state, "failed")
        self.assertIn("did not answer in time", event.error)
        self.assertFalse(self.leads_of(self.fb))

    def test_cron_skips_events_not_due(self):
        self.graph.routes[("GET", "/v21.0/900004")] = (500, {})
        self.deliver_direct(self.fb, self.leadgen_delivery("900004"))
        self.Event._cron_process_events()
        event = self.Event.search([("external_id", "=", "900004")])
        self.assertEqual(event.attempts, 1)
        self.Event._cron_process_events()  # next attempt is in the future: untouched
        self.assertEqual(event.attempts, 1)

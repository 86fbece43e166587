import json
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged

from odoo.addons.lead_channels.tests.common import ChannelsCommon, GraphServer

T0 = datetime(2026, 11, 24, 10, 0, 0)
SEND = ("POST", "/v21.0/PNID1/messages")


@tagged("post_install", "-at_install")
class TestNurtureWhatsappStep(ChannelsCommon, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        cls.wa.graph_url = cls.graph.url
        # sequences of other data (a demo's) are not this test's: the cron
        # runs below would send their leads' due steps too
        cls.env["lead.nurture.sequence"].search([]).active = False
        cls.sequence = cls.env["lead.nurture.sequence"].create({
            "name": "WhatsApp cold", "trigger": "cold", "sequence": 0,
            "step_ids": [(0, 0, {"delay_days": 2, "action": "whatsapp"})]})
        cls.customer = cls.env["res.partner"].create({"name": "Ahmad Faiz",
                                                      "phone": "+60 12-345 6789"})

    def setUp(self):
        super().setUp()
        self.graph.routes.clear()
        self.graph.requests.clear()
        with freeze_time(T0):
            self.lead = self.env["crm.lead"].create({
                "name": "Unit enquiry", "type": "opportunity", "channel_id": self.wa.id,
                "partner_id": self.customer.id, "phone": "+60 12-345 6789",
                "user_id": self.salesman.id, "team_id": self.team.id})
            self.assertEqual(self.lead.lead_tier, "cold")
            self.lead.action_lead_sla_mark_contacted("Called him, he will think about it")
        self.assertEqual((self.lead.nurture_state, self.lead.nurture_sequence_id),
                         ("running", self.sequence))

    def _run(self, when):
        with freeze_time(when):
            return self.env["crm.lead"]._lead_nurture_run(now=when)

    def test_template_sent_to_graph_and_posted(self):
        self.graph.routes[SEND] = (200, {"messages": [{"id": "wamid.NURTURE1"}]})
        sent, failed = self._run(T0 + timedelta(days=2))
        self.assertEqual(sent, self.lead)
        self.assertEqual(len(self.graph.requests), 1)
        request = self.graph.requests[0]
        self.assertEqual(request["headers"]["Authorization"], "Bearer wa-token")
        payload = json.loads(request["body"])
        self.assertEqual((payload["to"], payload["type"]), ("60123456789", "template"))
        self.assertEqual(payload["template"], {"name": "follow_up", "language": {"code": "en"}})
        message = self.lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.NURTURE1")
        self.assertEqual(message.author_id, self.salesman.partner_id)
        self.assertEqual(message.wa_state, "sent")
        self.assertIn("follow_up", message.body)
        self.assertEqual(self.lead.nurture_state, "done")
        self.assertFalse(self._run(T0 + timedelta(days=3))[0])
        self.assertEqual(len(self.graph.requests), 1, "sent once")

    def test_meta_error_is_retried_and_shown_on_the_lead(self):
        self.graph.routes[SEND] = (400, {"error": {"code": 132001, "message": "Template name does not exist"}})
        sent, failed = self._run(T0 + timedelta(days=2))
        self.assertEqual(failed, self.lead)
        note = self.lead.message_ids.filtered(lambda m: "could not be sent" in (m.body or ""))
        self.assertIn("not approved yet", note.body)
        self.assertEqual(self.lead.nurture_failures, 1)
        self.graph.routes[SEND] = (200, {"messages": [{"id": "wamid.RETRY"}]})
        sent, failed = self._run(self.lead.nurture_next_date)
        self.assertEqual(sent, self.lead)
        self.assertTrue(self.lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.RETRY"))

    def test_channel_without_template_is_a_clear_error(self):
        self.wa.wa_template_name = False
        sent, failed = self._run(T0 + timedelta(days=2))
        self.assertEqual(failed, self.lead)
        self.assertFalse(self.graph.requests, "nothing sent to Meta")
        self.assertTrue(self.lead.message_ids.filtered(
            lambda m: "has no re-engagement template" in (m.body or "")))

    def test_inbound_whatsapp_message_stops_the_sequence(self):
        # no buying signal in it: a reply that turns the lead hot stops it as "warmed up"
        self.lead.message_post(body="Ok, terima kasih. Nanti saya bincang dengan suami dulu.",
                               author_id=self.customer.id, message_type="comment",
                               subtype_xmlid="mail.mt_comment")
        self.assertEqual((self.lead.nurture_state, self.lead.nurture_stop_reason),
                         ("stopped", "replied"))
        self.assertFalse(self._run(T0 + timedelta(days=2))[0])
        self.assertFalse(self.graph.requests)

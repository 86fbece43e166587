import json
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon, GraphServer

NOW = datetime(2026, 11, 23, 10, 0, 0)


@tagged("post_install", "-at_install")
class TestWhatsappReply(ChannelsCommon, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        cls.wa.graph_url = cls.graph.url

    def setUp(self):
        super().setUp()
        self.graph.routes.clear()
        self.graph.requests.clear()
        self.deliver_direct(self.wa, self.wa_one("wamid.IN1", timestamp=int(NOW.timestamp()) - 3600))
        self.lead = self.process_all().lead_id
        self.lead.user_id = self.salesman

    def compose(self, body="Yes, still available. Viewing on Saturday?"):
        return self.env["lead.channel.whatsapp.composer"].with_user(self.salesman).create(
            {"lead_id": self.lead.id, "body": body})

    @freeze_time(NOW)
    def test_text_inside_window_posted_as_agent(self):
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (
            200, {"messaging_product": "whatsapp", "contacts": [{"input": "60123456789", "wa_id": "60123456789"}],
                  "messages": [{"id": "wamid.OUT1"}]})
        composer = self.compose()
        self.assertEqual(composer.mode, "text")
        composer.action_send()
        sent = json.loads(self.graph.requests[0]["body"])
        self.assertEqual((sent["to"], sent["type"]), ("60123456789", "text"))
        self.assertEqual(sent["text"]["body"], "Yes, still available. Viewing on Saturday?")
        self.assertEqual(self.graph.requests[0]["headers"]["Authorization"], "Bearer wa-token")
        reply = self.lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.OUT1")
        self.assertEqual(reply.author_id, self.salesman.partner_id)
        self.assertEqual(reply.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertEqual((reply.message_type, reply.wa_state), ("comment", "sent"))
        # Meta's status webhooks move the state forward, out of order too
        for status in ("read", "delivered"):
            self.deliver_direct(self.wa, self.wa_delivery(statuses=[
                {"id": "wamid.OUT1", "status": status, "recipient_id": "60123456789"}]))
        self.process_all()
        self.assertEqual(reply.wa_state, "read")
        self.assertEqual(self.lead.lead_inbound_count, 1, "a status is no customer message")

    @freeze_time(NOW)
    def test_status_arriving_before_the_send_is_recorded(self):
        self.deliver_direct(self.wa, self.wa_delivery(statuses=[
            {"id": "wamid.FAST", "status": "delivered", "recipient_id": "60123456789"}]))
        self.process_all()
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (200, {"messages": [{"id": "wamid.FAST"}]})
        self.compose().action_send()
        reply = self.lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.FAST")
        self.assertEqual(reply.wa_state, "delivered")

    @freeze_time(NOW + timedelta(hours=30))
    def test_template_outside_window(self):
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (200, {"messages": [{"id": "wamid.TPL"}]})
        composer = self.compose(body="ignored outside the window")
        self.assertEqual(composer.mode, "template")
        composer.action_send()
        sent = json.loads(self.graph.requests[0]["body"])
        self.assertEqual(sent["type"], "template")
        self.assertEqual(sent["template"], {"name": "follow_up", "language": {"code": "en"}})
        reply = self.lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.TPL")
        self.assertEqual(reply.author_id, self.salesman.partner_id)

    @freeze_time(NOW + timedelta(hours=30))
    def test_no_template_outside_window_says_why(self):
        self.wa.wa_template_name = False
        with self.assertRaisesRegex(UserError, "24-hour window is closed"):
            self.compose().action_send()
        self.assertFalse(self.graph.requests, "nothing sent to Meta")

    @freeze_time(NOW)
    def test_graph_error_in_plain_words(self):
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (400, {"error": {
            "message": "(#131047) Re-engagement message", "type": "OAuthException", "code": 131047,
            "error_data": {"details": "Message failed to send because more than 24 hours have passed"}}})
        with self.assertRaisesRegex(UserError, "24-hour window is closed"):
            self.compose().action_send()
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (401, {"error": {
            "message": "Error validating access token", "code": 190}})
        with self.assertRaisesRegex(UserError, "access token has expired"):
            self.compose().action_send()
        self.assertFalse(self.lead.message_ids.filtered(lambda m: m.wa_state == "sent"))

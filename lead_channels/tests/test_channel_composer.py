import json
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon, GraphServer

NOW = datetime(2026, 11, 23, 10, 0, 0)


@tagged("post_install", "-at_install")
class TestChannelComposer(ChannelsCommon, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        for channel in (cls.wa, cls.messenger, cls.instagram):
            channel.graph_url = cls.graph.url
        cls.messenger.access_token = "page-token"
        cls.instagram.access_token = "ig-token"

    def setUp(self):
        super().setUp()
        self.graph.routes.clear()
        self.graph.requests.clear()

    def customer_on(self, channel, obj, page, sender, at, text="Hello, price?"):
        self.deliver_direct(channel, {"object": obj, "entry": [{"id": page, "messaging": [
            {"sender": {"id": sender}, "recipient": {"id": page}, "timestamp": int(at.timestamp() * 1000),
             "message": {"mid": "mid-%s" % sender, "text": text}}]}]})
        lead = self.process_all().lead_id
        lead.user_id = self.salesman
        return lead

    def open_composer(self, lead, body="Hi! It is RM 520k."):
        action = lead.with_user(self.salesman).action_open_channel_composer()
        self.assertEqual(action["res_model"], "lead.channel.composer")
        return self.env["lead.channel.composer"].with_user(self.salesman).with_context(
            action["context"]).create({"body": body})

    @freeze_time(NOW)
    def test_messenger_reply_inside_window(self):
        lead = self.customer_on(self.messenger, "page", "PAGE1", "PSID-77", NOW - timedelta(hours=2))
        self.assertTrue(lead.channel_awaiting_reply)
        self.graph.routes[("POST", "/v21.0/PAGE1/messages")] = (
            200, {"recipient_id": "PSID-77", "message_id": "m_OUT1"})
        composer = self.open_composer(lead)
        self.assertEqual(composer.channel_id, self.messenger)
        composer.action_send()
        request = self.graph.requests[-1]
        sent = json.loads(request["body"])
        self.assertEqual(sent["recipient"], {"id": "PSID-77"})
        self.assertEqual(sent["message"], {"text": "Hi! It is RM 520k."})
        self.assertEqual(request["headers"]["Authorization"], "Bearer page-token")
        reply = lead.message_ids.filtered(lambda m: m.meta_message_id == "m_OUT1")
        self.assertEqual(reply.author_id, self.salesman.partner_id)
        self.assertEqual((reply.message_type, reply.subtype_id), ("comment", self.env.ref("mail.mt_comment")))
        self.assertFalse(lead.channel_awaiting_reply)
        self.assertEqual(lead.channel_last_message, "Hi! It is RM 520k.")
        if "sla_first_response_date" in lead._fields:  # lead_sla installed: the reply is the first response
            self.assertTrue(lead.sla_first_response_date)

    @freeze_time(NOW)
    def test_instagram_outside_window_names_the_rule(self):
        lead = self.customer_on(self.instagram, "instagram", "IG1", "IGSID-9", NOW - timedelta(hours=25))
        composer = self.open_composer(lead)
        self.assertEqual(composer.channel_id, self.instagram)
        with self.assertRaisesRegex(UserError, "24-hour rule"):
            composer.action_send()
        self.assertFalse(self.graph.requests, "nothing is sent outside the window")
        self.assertTrue(lead.channel_awaiting_reply)

    @freeze_time(NOW)
    def test_graph_error_posts_nothing(self):
        lead = self.customer_on(self.messenger, "page", "PAGE1", "PSID-78", NOW - timedelta(minutes=5))
        self.graph.routes[("POST", "/v21.0/PAGE1/messages")] = (
            400, {"error": {"message": "(#551) This person isn't available right now.", "code": 551}})
        comments = lead.message_ids.filtered(lambda m: m.message_type == "comment")
        with self.assertRaisesRegex(UserError, "available right now") as caught:
            self.open_composer(lead).action_send()
        self.assertNotIn("Traceback", str(caught.exception))
        self.assertEqual(lead.message_ids.filtered(lambda m: m.message_type == "comment"), comments,
                         "nothing is posted as if it had been sent")
        self.assertTrue(lead.channel_awaiting_reply)

    @freeze_time(NOW)
    def test_empty_body_refused(self):
        lead = self.customer_on(self.messenger, "page", "PAGE1", "PSID-79", NOW - timedelta(minutes=5))
        with self.assertRaisesRegex(UserError, "Write a message"):
            self.open_composer(lead, body="  ").action_send()
        self.assertFalse(self.graph.requests)

    @freeze_time(NOW)
    def test_whatsapp_reply_uses_the_whatsapp_sending(self):
        self.deliver_direct(self.wa, self.wa_one("wamid.IN9", timestamp=int(NOW.timestamp()) - 600))
        lead = self.process_all().lead_id
        lead.user_id = self.salesman
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (
            200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT9"}]})
        composer = self.open_composer(lead, body="See you Saturday")
        self.assertEqual(composer.channel_id, self.wa)
        composer.action_send()
        sent = json.loads(self.graph.requests[-1]["body"])
        self.assertEqual((sent["to"], sent["text"]["body"]), ("60123456789", "See you Saturday"))
        reply = lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.OUT9")
        self.assertEqual(reply.author_id, self.salesman.partner_id)
        self.assertFalse(lead.channel_awaiting_reply)
        # the WhatsApp button of the lead form still opens its own composer
        self.assertEqual(lead.action_open_whatsapp_composer()["res_model"], "lead.channel.whatsapp.composer")

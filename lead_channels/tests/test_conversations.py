import ast
import json
from datetime import datetime, timedelta

from freezegun import freeze_time
from markupsafe import Markup

from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon, GraphServer

NOW = datetime(2026, 11, 23, 10, 0, 0)


@tagged("post_install", "-at_install")
class TestConversations(ChannelsCommon, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        cls.wa.graph_url = cls.graph.url

    def customer_writes(self, wamid, text, at, wa_id="60123456789"):
        self.deliver_direct(self.wa, self.wa_one(wamid, text=text, timestamp=int(at.timestamp()), wa_id=wa_id))
        return self.process_all().lead_id

    @freeze_time(NOW)
    def test_customer_message_awaits_reply_then_agent_reply_clears_it(self):
        lead = self.customer_writes("wamid.C1", "Hi,\nis the unit available?", NOW - timedelta(minutes=30))
        self.assertEqual(lead.channel_last_inbound_date, NOW - timedelta(minutes=30))
        self.assertEqual(lead.channel_last_message, "Hi, is the unit available?")
        self.assertTrue(lead.channel_awaiting_reply)
        self.assertEqual(lead.channel_waiting_time, "30 min")
        lead.user_id = self.salesman
        # an internal note is no answer to the customer
        lead.with_user(self.salesman).message_post(body="Call him after lunch", subtype_xmlid="mail.mt_note")
        self.assertTrue(lead.channel_awaiting_reply)
        self.assertEqual(lead.channel_last_message, "Hi, is the unit available?")
        # the WhatsApp reply from the lead is the company's answer
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (
            200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT1"}]})
        self.env["lead.channel.whatsapp.composer"].with_user(self.salesman).create(
            {"lead_id": lead.id, "body": "Yes! Viewing on Saturday?"}).action_send()
        self.assertEqual(json.loads(self.graph.requests[-1]["body"])["text"]["body"], "Yes! Viewing on Saturday?")
        self.assertFalse(lead.channel_awaiting_reply)
        self.assertEqual(lead.channel_last_message, "Yes! Viewing on Saturday?")
        self.assertEqual(lead.channel_last_inbound_date, NOW - timedelta(minutes=30))
        # the customer writes again: a reply is due again
        self.customer_writes("wamid.C2", "Saturday 11am ok", NOW)
        self.assertTrue(lead.channel_awaiting_reply)
        self.assertEqual(lead.channel_last_inbound_date, NOW)
        self.assertEqual(lead.channel_last_message, "Saturday 11am ok")

    @freeze_time(NOW)
    def test_agent_comment_or_email_clears_awaiting(self):
        lead = self.customer_writes("wamid.C3", "Price please", NOW - timedelta(hours=3))
        self.assertEqual(lead.channel_waiting_time, "3 h")
        lead.with_user(self.salesman).message_post(
            body=Markup("<p>It is RM 520k</p>"), message_type="comment", subtype_xmlid="mail.mt_comment")
        self.assertFalse(lead.channel_awaiting_reply)
        self.assertEqual(lead.channel_last_message, "It is RM 520k")

    @freeze_time(NOW)
    def test_chunk_of_new_contacts_each_get_their_conversation(self):
        for i in range(3):
            self.deliver_direct(self.wa, self.wa_one(
                "wamid.B%s" % i, text="Hello %s" % i, wa_id="6012345670%s" % i, name="Customer %s" % i,
                timestamp=int((NOW - timedelta(minutes=i)).timestamp())))
        leads = self.process_all().lead_id
        self.assertEqual(len(leads), 3)
        for lead in leads:
            self.assertTrue(lead.channel_awaiting_reply)
            self.assertTrue(lead.channel_last_message.startswith("Hello "))
            index = int(lead.channel_last_message[-1])
            self.assertEqual(lead.channel_last_inbound_date, NOW - timedelta(minutes=index))

    @freeze_time(NOW)
    def test_existing_leads_migrated_once(self):
        lead = self.Lead.create({"name": "Old enquiry", "partner_id": self.env["res.partner"].create(
            {"name": "Old Customer"}).id, "user_id": self.salesman.id})
        customer_msg = lead.message_post(body="Is it freehold?", author_id=lead.partner_id.id,
                                         message_type="email", subtype_xmlid="mail.mt_comment")
        customer_msg.date = NOW - timedelta(days=2)
        # as in a database from before the fields existed
        lead.write({"channel_last_message": False, "channel_awaiting_reply": False,
                    "channel_last_inbound_date": False})
        self.Lead._channel_conversation_migrate()
        self.assertEqual(lead.channel_last_message, "Is it freehold?")
        self.assertTrue(lead.channel_awaiting_reply)
        self.assertEqual(lead.channel_last_inbound_date, NOW - timedelta(days=2))
        self.assertEqual(lead.channel_waiting_time, "2 d")
        # a second run leaves filled leads alone
        lead.write({"channel_awaiting_reply": False})
        self.Lead._channel_conversation_migrate()
        self.assertFalse(lead.channel_awaiting_reply)

    @freeze_time(NOW)
    def test_conversations_menu_for_salespeople_awaiting_my_reply_first(self):
        menu = self.env.ref("lead_channels.lead_channels_menu_conversations")
        self.assertEqual((menu.name, menu.parent_id), ("Conversations", self.env.ref("crm.crm_menu_root")))
        self.assertIn(self.env.ref("sales_team.group_sale_salesman"), menu.groups_id)
        old = self.customer_writes("wamid.M1", "Older", NOW - timedelta(hours=2))
        new = self.customer_writes("wamid.M2", "Newer", NOW - timedelta(minutes=5), wa_id="60123456000")
        self.assertNotEqual(old, new)
        (old | new).user_id = self.salesman
        action = self.env["ir.actions.act_window"].with_user(self.salesman)._for_xml_id(
            "lead_channels.crm_lead_conversation_action")
        self.assertIn("search_default_awaiting_my_reply", action["context"])
        Lead = self.env["crm.lead"].with_user(self.salesman)
        views = Lead.get_views(action["views"] + [(action["search_view_id"][0], "search")],
                               {"action_id": action["id"]})["views"]
        self.assertIn('name="awaiting_my_reply"', views["search"]["arch"])
        for mode in ("list", "kanban"):
            for fname in ("partner_id", "channel_last_message", "channel_waiting_time", "user_id"):
                self.assertIn('name="%s"' % fname, views[mode]["arch"], mode)
        domain = ast.literal_eval(action["domain"]) + [
            ("channel_awaiting_reply", "=", True), ("user_id", "=", self.salesman.id)]
        rows = Lead.search_read(domain, ["channel_last_message"], order="channel_last_inbound_date desc")
        self.assertEqual([r["channel_last_message"] for r in rows[:2]], ["Newer", "Older"])


@tagged("post_install", "-at_install")
class TestConversationEchoes(ChannelsCommon, TransactionCase):

    def messaging(self, sender, recipient, mid, text, at, echo=False):
        message = {"mid": mid, "text": text}
        if echo:
            message["is_echo"] = True
        self.deliver_direct(self.messenger, {"object": "page", "entry": [{"id": "PAGE1", "messaging": [
            {"sender": {"id": sender}, "recipient": {"id": recipient},
             "timestamp": int(at.timestamp() * 1000), "message": message}]}]})
        return self.process_all()

    @freeze_time(NOW)
    def test_echo_answers_the_customer_once_and_never_creates_a_lead(self):
        lead = self.messaging("PSID-5", "PAGE1", "m_in", "Price?", NOW - timedelta(minutes=10)).lead_id
        lead.user_id = self.salesman
        self.assertTrue(lead.channel_awaiting_reply)
        event = self.messaging("PAGE1", "PSID-5", "m_echo", "RM 520k, viewing Sat?", NOW - timedelta(minutes=2),
                               echo=True)
        self.assertEqual((event.state, event.lead_id), ("done", lead))
        posted = lead.message_ids.filtered(lambda m: m.meta_message_id == "m_echo")
        self.assertEqual(posted.author_id, self.salesman.partner_id)
        self.assertEqual(posted.message_type, "comment")
        self.assertFalse(lead.channel_awaiting_reply)
        self.assertEqual(lead.channel_last_message, "RM 520k, viewing Sat?")
        if "sla_first_response_date" in lead._fields:  # lead_sla installed: it is the first response
            self.assertTrue(lead.sla_first_response_date)
        # Meta delivers the same echo again: still one message
        self.deliver_direct(self.messenger, {"object": "page", "entry": [{"id": "PAGE1", "messaging": [
            {"sender": {"id": "PAGE1"}, "recipient": {"id": "PSID-5"}, "timestamp": int(NOW.timestamp() * 1000),
             "message": {"mid": "m_echo", "text": "RM 520k, viewing Sat?", "is_echo": True}}]}]})
        self.process_all()
        self.assertEqual(len(lead.message_ids.filtered(lambda m: m.meta_message_id == "m_echo")), 1)
        # an echo to someone without a lead creates nothing
        leads_before = self.Lead.search_count([])
        stray = self.messaging("PAGE1", "PSID-NEW", "m_stray", "Hello?", NOW, echo=True)
        self.assertEqual(stray.state, "ignored")
        self.assertFalse(stray.lead_id)
        self.assertEqual(self.Lead.search_count([]), leads_before)

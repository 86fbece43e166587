"""Every message shape of Meta's WhatsApp webhook reference, end to end.

Each fixture of ``data/whatsapp_shapes/`` is one delivery in Meta's own shape.
It is signed and posted over HTTP to the real webhook route, then the inbox
job runs; the customer's chatter shows the expected line, and the event ends
``done``, or ``ignored`` with a reason in plain words: never ``failed``.
"""
import os
import threading

from odoo.tests import HttpCase, tagged

from .common import ChannelsCommon, GraphServer

DATA = os.path.join(os.path.dirname(__file__), "data", "whatsapp_shapes")
OUTBOUND_WAMID = "wamid.HBgLNjAxMjM0NTY3ODkVAgARGBJCQUFBT1VUQk9VTkQxAA=="
MEDIA_IDS = ("1003383421387256", "1184466332299871", "1257788990011223", "1398877665544332", "1422334455667788")

# (fixture, expected state, what the customer's chatter line says / why it was ignored), in
# conversation order: the first text opens the lead, the number change comes last
SHAPES = [
    ("text", "done", ["Hi, is the 3-bedroom unit in Cheras still available?"]),
    ("image", "done", ["[image] Is this the unit?"]),
    ("video", "done", ["[video] Walkthrough my friend recorded"]),
    ("audio", "done", ["[audio]"]),
    ("document", "done", ["[document] My payslip for the loan"]),
    ("sticker", "done", ["[sticker]"]),
    ("reaction_add", "done", ["[reaction] \U0001F44D"]),
    ("reaction_remove", "ignored", ["The customer removed a reaction"]),
    ("location", "done", ["Mid Valley Megamall", "https://maps.google.com/?q=3.1181,101.6776"]),
    ("contacts", "done", ["Lim Wei Ming (+60 12-888 7766)", "Priya Nair (+60 17-222 3344)"]),
    ("order", "done", ["1 x SOFA-3S-GREY @ 1299.0 MYR", "2 x CUSHION-SET @ 89.9 MYR",
                       "Please deliver on Saturday morning"]),
    ("button", "done", ["Book a viewing"]),
    ("interactive_button_reply", "done", ["Yes, call me today"]),
    ("interactive_list_reply", "done", ["RM500k - RM800k"]),
    ("interactive_nfm_reply", "done", ["preferred_date: 2026-12-05", "preferred_time: 10:00", "budget: RM 650k"]),
    ("referral", "done", ["Hello! Can I get more info on this?"]),
    ("unsupported", "done", ["Message type unknown - Message type is currently not supported."]),
    ("value_errors", "ignored", ["Meta could not deliver a message: Something went wrong - Media download failed",
                                 "Ask the customer to send it again"]),
    ("statuses", "ignored", ["Delivery status of a message sent from Odoo: read"]),
    ("system_user_changed_user_id", "done", ["Customer changed their WhatsApp user id from MY.0A1B2C3D4E5F "
                                             "to MY.9F8E7D6C5B4A"]),
    ("system_user_changed_number", "done", ["Customer changed number from +60123456789 to +60139998888"]),
]


def load_shape(name):
    with open(os.path.join(DATA, name + ".json"), "rb") as handle:
        return handle.read()


@tagged("post_install", "-at_install")
class TestWhatsappShapesWebhook(ChannelsCommon, HttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # media shapes may be downloaded by the inbox job: Meta's Graph API is
        # played here on 127.0.0.1, never the real one
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        cls.wa.graph_url = cls.graph.url
        for media_id in MEDIA_IDS:
            cls.graph.routes[("GET", "/v21.0/%s" % media_id)] = (200, {
                "messaging_product": "whatsapp", "id": media_id, "mime_type": "application/octet-stream",
                "url": "%s/media/%s" % (cls.graph.url, media_id)})
            cls.graph.routes[("GET", "/v21.0/media/%s" % media_id)] = (200, {"media": media_id})

    def post_shape(self, name):
        """Sign and post a fixture to the channel's webhook, run the inbox job:
        the events it stored."""
        body = load_shape(name)
        last = self.Event.search([], order="id desc", limit=1).id or 0
        response = self.opener.post(
            "%s/lead_channels/meta/%s" % (self.base_url(), self.wa.token), data=body, timeout=20,
            headers={"Content-Type": "application/json", "X-Hub-Signature-256": self.sign(body)})
        self.assertEqual(response.status_code, 200, response.text)
        # the job's test mode (one transaction, no commit), as under Odoo's own test runner
        threading.current_thread().testing = True
        self.Event._cron_process_events()
        return self.Event.search([("channel_id", "=", self.wa.id), ("id", ">", last)])

    def open_conversations(self):
        """Before the shapes: a withheld-number customer wrote once (their old
        business-scoped id is known), and we sent the customer the message the
        statuses and reactions refer to."""
        withheld = self.wa_delivery(
            [{"from_user_id": "MY.0A1B2C3D4E5F", "id": "wamid.FARID1", "timestamp": "1764489000",
              "type": "text", "text": {"body": "Hi, saw your listing"}}],
            [{"profile": {"name": "Farid Hakim"}, "user_id": "MY.0A1B2C3D4E5F"}])
        self.deliver_direct(self.wa, withheld)
        self.process_all()

    def test_every_shape_lands(self):
        self.open_conversations()
        for name, state, lines in SHAPES:
            with self.subTest(shape=name):
                if name == "statuses":
                    self.sent_from_odoo()
                events = self.post_shape(name)
                self.assertEqual(len(events), 1, "one delivery, one element")
                self.assertNotEqual(events.state, "failed", events.error)
                self.assertEqual(events.state, state, events.error)
                if state == "ignored":
                    for line in lines:
                        self.assertIn(line, events.error or "", "the reason says it in plain words")
                    self.assertFalse(events.posted_message_id, "nothing posted")
                    continue
                self.assertFalse(events.error)
                posted = events.lead_id.message_ids.filtered(lambda m, e=events: m.wa_message_id == e.external_id)
                self.assertEqual(len(posted), 1, "posted once, on the customer's lead")
                self.assertEqual(posted.author_id, events.lead_id.partner_id, "as from the customer")
                text = posted.body.replace("<br>", "\n")
                for line in lines:
                    self.assertIn(str(line).replace("&", "&amp;"), text)
        self.assert_the_conversation()

    def sent_from_odoo(self):
        lead = self.leads_of(self.wa).filtered(lambda l: l.channel_contact_ref == "60123456789")
        self.outbound = lead.message_post(body="Yes, it is. When would you like to view it?",
                                          message_type="comment", subtype_xmlid="mail.mt_comment")
        self.outbound.sudo().write({"wa_message_id": OUTBOUND_WAMID, "wa_state": "sent"})

    def assert_the_conversation(self):
        leads = self.leads_of(self.wa)
        aisyah = leads.filtered(lambda l: l.partner_id.name == "Aisyah Rahman")
        self.assertEqual(len(aisyah), 1, "every shape of one customer reaches her one lead")
        self.assertEqual(aisyah.phone_sanitized, "+60139998888", "her new number")
        # text, image, video, audio, document, sticker, location, contacts, order, button,
        # button reply, list reply, flow, unsupported: a reaction or a number change is no message
        self.assertEqual(aisyah.lead_inbound_count, 14)
        self.assertEqual(self.outbound.wa_state, "read", "the status reached the message sent")
        ad_lead = leads.filtered(lambda l: l.partner_id.name == "Tan Mei Ling")
        self.assertEqual(ad_lead.ad_id, "120210555000111")
        self.assertEqual(ad_lead.medium_id, self.env.ref("lead_scoring.utm_medium_paid"), "an ad is paid")
        farid = leads.filtered(lambda l: l.partner_id.name == "Farid Hakim")
        self.assertEqual(farid.channel_contact_ref, "MY.9F8E7D6C5B4A", "his next messages reach his lead")
        self.assertEqual(len(leads), 3)

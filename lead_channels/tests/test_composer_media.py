import json
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon, GraphServer

NOW = datetime(2026, 11, 23, 10, 0, 0)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF floor plan"
PDF = b"%PDF-1.4 price list"
OGG = b"OggS voice note"


@tagged("post_install", "-at_install")
class TestComposerMedia(ChannelsCommon, TransactionCase):
    """Agents send files from the reply composer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        for channel in (cls.wa, cls.messenger):
            channel.graph_url = cls.graph.url
        cls.messenger.access_token = "page-token"

    def setUp(self):
        super().setUp()
        self.graph.routes.clear()
        self.graph.requests.clear()
        self.graph.routes[("POST", "/v21.0/PNID1/media")] = (200, {"id": "UP1"})
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (
            200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.OUT1"}]})

    def wa_lead(self, hours_ago=1):
        self.deliver_direct(self.wa, self.wa_one("wamid.IN1", timestamp=int((NOW - timedelta(hours=hours_ago))
                                                                            .timestamp())))
        lead = self.process_all().lead_id
        lead.user_id = self.salesman
        self.graph.requests.clear()
        return lead

    def upload(self, name, raw, mimetype):
        """A file the agent drops in the composer (many2many_binary: not linked to a record yet)."""
        return self.env["ir.attachment"].with_user(self.salesman).create({
            "name": name, "raw": raw, "mimetype": mimetype, "res_model": "lead.channel.composer", "res_id": 0})

    def composer(self, lead, attachments, body=""):
        action = lead.with_user(self.salesman).action_open_channel_composer()
        return self.env["lead.channel.composer"].with_user(self.salesman).with_context(action["context"]).create(
            {"body": body, "attachment_ids": [(6, 0, attachments.ids)]})

    def sent_messages(self):
        return [json.loads(r["body"]) for r in self.graph.requests if r["path"].endswith("/messages")]

    @freeze_time(NOW)
    def test_whatsapp_image_uploaded_then_sent_with_caption(self):
        lead = self.wa_lead()
        image = self.upload("floorplan.jpg", JPEG, "image/jpeg")
        self.composer(lead, image, body="Floor plan of unit 12-3").action_send()
        upload = self.graph.requests[0]
        self.assertEqual(upload["path"], "/v21.0/PNID1/media")
        self.assertTrue(upload["headers"]["Content-Type"].startswith("multipart/form-data"))
        self.assertEqual(upload["headers"]["Authorization"], "Bearer wa-token")
        for part in (b'name="messaging_product"', b"whatsapp", b'name="type"', b"image/jpeg",
                     b'filename="floorplan.jpg"', JPEG):
            self.assertIn(part, upload["body"])
        sent = self.sent_messages()
        self.assertEqual(len(sent), 1)
        self.assertEqual((sent[0]["to"], sent[0]["type"]), ("60123456789", "image"))
        self.assertEqual(sent[0]["image"], {"id": "UP1", "caption": "Floor plan of unit 12-3"})
        reply = lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.OUT1")
        self.assertEqual(reply.attachment_ids, image)
        self.assertEqual((image.res_model, image.res_id), ("crm.lead", lead.id))
        self.assertEqual(reply.author_id, self.salesman.partner_id)
        self.assertIn("Floor plan of unit 12-3", reply.body)
        self.assertEqual((reply.message_type, reply.wa_state), ("comment", "sent"))
        self.assertFalse(lead.channel_awaiting_reply)

    @freeze_time(NOW)
    def test_whatsapp_document_with_file_name(self):
        lead = self.wa_lead()
        document = self.upload("price-list.pdf", PDF, "application/pdf")
        self.composer(lead, document).action_send()
        sent = self.sent_messages()[0]
        self.assertEqual(sent["type"], "document")
        self.assertEqual(sent["document"], {"id": "UP1", "filename": "price-list.pdf"})
        self.assertEqual(lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.OUT1").attachment_ids,
                         document)

    @freeze_time(NOW)
    def test_whatsapp_audio_text_goes_first(self):
        lead = self.wa_lead()
        audio = self.upload("voice.ogg", OGG, "audio/ogg")
        self.composer(lead, audio, body="Listen to this").action_send()
        sent = self.sent_messages()
        self.assertEqual([m["type"] for m in sent], ["text", "audio"])
        self.assertEqual(sent[0]["text"]["body"], "Listen to this")
        self.assertEqual(sent[1]["audio"], {"id": "UP1"}, "WhatsApp audio takes no caption")
        posted = lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.OUT1")
        self.assertEqual(len(posted), 2)
        self.assertEqual(posted.attachment_ids, audio)

    @freeze_time(NOW)
    def test_whatsapp_upload_error_sends_and_posts_nothing(self):
        lead = self.wa_lead()
        self.graph.routes[("POST", "/v21.0/PNID1/media")] = (
            400, {"error": {"message": "(#131053) Media upload error", "code": 131053}})
        comments = lead.message_ids
        with self.assertRaisesRegex(UserError, "Media upload error"):
            self.composer(lead, self.upload("a.jpg", JPEG, "image/jpeg"), body="Hi").action_send()
        self.assertFalse(self.sent_messages(), "nothing reaches the customer")
        self.assertEqual(lead.message_ids, comments)

    @freeze_time(NOW)
    def test_whatsapp_files_outside_window_refused(self):
        lead = self.wa_lead(hours_ago=30)
        with self.assertRaisesRegex(UserError, "24-hour window is closed"):
            self.composer(lead, self.upload("a.jpg", JPEG, "image/jpeg")).action_send()
        self.assertFalse(self.graph.requests)

    def messenger_lead(self):
        self.deliver_direct(self.messenger, {"object": "page", "entry": [{"id": "PAGE1", "messaging": [
            {"sender": {"id": "PSID-77"}, "recipient": {"id": "PAGE1"},
             "timestamp": int((NOW - timedelta(hours=1)).timestamp() * 1000),
             "message": {"mid": "mid-77", "text": "Photos please"}}]}]})
        lead = self.process_all().lead_id
        lead.user_id = self.salesman
        self.graph.requests.clear()
        return lead

    @freeze_time(NOW)
    def test_messenger_file_refused_without_public_https_address(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "http://localhost:8069")
        lead = self.messenger_lead()
        with self.assertRaisesRegex(UserError, "public https address"):
            self.composer(lead, self.upload("a.jpg", JPEG, "image/jpeg")).action_send()
        self.assertFalse(self.graph.requests)

    @freeze_time(NOW)
    def test_messenger_file_sent_as_link(self):
        self.env["ir.config_parameter"].sudo().set_param("web.base.url", "https://crm.example.my")
        lead = self.messenger_lead()
        self.graph.routes[("POST", "/v21.0/PAGE1/messages")] = (200, {"recipient_id": "PSID-77",
                                                                      "message_id": "m_OUT2"})
        image = self.upload("unit.jpg", JPEG, "image/jpeg")
        self.composer(lead, image).action_send()
        sent = self.sent_messages()
        self.assertEqual(len(sent), 1)
        attachment = sent[0]["message"]["attachment"]
        self.assertEqual(attachment["type"], "image")
        self.assertTrue(attachment["payload"]["is_reusable"])
        self.assertTrue(attachment["payload"]["url"].startswith(
            "https://crm.example.my/web/content/%s?access_token=%s" % (image.id, image.access_token)))
        reply = lead.message_ids.filtered(lambda m: m.meta_message_id == "m_OUT2")
        self.assertEqual((reply.attachment_ids, reply.author_id), (image, self.salesman.partner_id))

import hashlib
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon, GraphServer

NOW = datetime(2026, 11, 23, 10, 0, 0)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF customer photo of the unit"
PDF = b"%PDF-1.4 payslip of the customer"


@tagged("post_install", "-at_install")
class TestMediaDownload(ChannelsCommon, TransactionCase):
    """Files customers send become attachments of their chatter message,
    downloaded by the fetch job (never during the capture)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # only this test's contacts and files are due (a demo database queues
        # the names of its own Messenger and Instagram contacts)
        for model in ("lead.channel.contact.name", "lead.channel.media"):
            cls.env[model].search([("state", "=", "pending")]).write({"state": "failed"})
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        for channel in (cls.wa, cls.messenger):
            channel.graph_url = cls.graph.url
        cls.messenger.access_token = "page-token"
        cls.Media = cls.env["lead.channel.media"]

    def setUp(self):
        super().setUp()
        self.graph.routes.clear()
        self.graph.requests.clear()

    def serve(self, media_id, content, mime, sha256=None, file_size=None):
        """Graph's answer for a media id, and the file behind its URL."""
        self.graph.routes[("GET", "/v21.0/%s" % media_id)] = (200, {
            "messaging_product": "whatsapp", "url": "%s/files/%s" % (self.graph.root, media_id),
            "mime_type": mime, "sha256": sha256 or hashlib.sha256(content).hexdigest(),
            "file_size": len(content) if file_size is None else file_size, "id": media_id})
        self.graph.routes[("GET", "/files/%s" % media_id)] = (200, content, mime)

    def receive(self, wamid, mtype, body, wa_id="60123456789"):
        message, contact = self.wa_message(wamid, wa_id=wa_id, type=mtype, **{mtype: body})
        message.pop("text")
        self.deliver_direct(self.wa, self.wa_delivery([message], [contact]))
        event = self.process_all()
        self.assertEqual(event.state, "done")
        return event

    def fetch(self):
        return self.Media._cron_fetch_names_media()

    @freeze_time(NOW)
    def test_image_with_caption_becomes_attachment(self):
        self.serve("MEDIA1", JPEG, "image/jpeg")
        event = self.receive("wamid.IMG1", "image", {"id": "MEDIA1", "mime_type": "image/jpeg",
                                                     "sha256": hashlib.sha256(JPEG).hexdigest(),
                                                     "caption": "Is this unit still available?"})
        self.assertFalse(self.graph.requests, "nothing is downloaded during the capture")
        message = event.posted_message_id
        self.assertIn("[image]", message.body, "until downloaded the message says what came")
        self.fetch()
        attachment = message.attachment_ids
        self.assertEqual(len(attachment), 1)
        self.assertEqual(attachment.raw, JPEG)
        self.assertEqual(attachment.mimetype, "image/jpeg")
        self.assertEqual((attachment.res_model, attachment.res_id), ("crm.lead", event.lead_id.id))
        self.assertIn("Is this unit still available?", message.body)
        self.assertNotIn("[image]", message.body, "the caption is the text")
        paths = [request["path"] for request in self.graph.requests]
        self.assertEqual(paths, ["/v21.0/MEDIA1", "/files/MEDIA1"])
        self.assertEqual({r["headers"]["Authorization"] for r in self.graph.requests}, {"Bearer wa-token"})
        # downloaded once: a later run of the job asks nothing more
        self.fetch()
        self.assertEqual(len(self.graph.requests), 2)
        self.assertEqual(len(message.attachment_ids), 1)

    def fetch_triggers(self):
        cron = self.env.ref("lead_channels.ir_cron_fetch_names_media")
        return self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id)])

    @freeze_time(NOW)
    def test_text_message_queues_nothing_and_media_wakes_the_job(self):
        before = self.fetch_triggers()
        self.deliver_direct(self.wa, self.wa_one("wamid.TXT1"))
        event = self.process_all()
        self.assertFalse(self.Media.search([("event_id", "=", event.id)]))
        self.assertEqual(self.fetch_triggers(), before, "a text message costs nothing more")
        self.receive("wamid.IMG9", "image", {"id": "MEDIA9", "mime_type": "image/jpeg"})
        self.assertEqual(self.fetch_triggers(), before + 1, "a file wakes the fetch job")
        self.assertFalse(self.graph.requests)

    @freeze_time(NOW)
    def test_document_keeps_its_file_name(self):
        self.serve("DOC1", PDF, "application/pdf")
        event = self.receive("wamid.DOC1", "document", {"id": "DOC1", "mime_type": "application/pdf",
                                                       "filename": "payslip-oct.pdf"})
        self.fetch()
        attachment = event.posted_message_id.attachment_ids
        self.assertEqual((attachment.name, attachment.mimetype, attachment.raw),
                         ("payslip-oct.pdf", "application/pdf", PDF))

    @freeze_time(NOW)
    def test_wrong_sha256_refused_then_retried(self):
        self.serve("MEDIA2", JPEG, "image/jpeg", sha256="0" * 64)
        event = self.receive("wamid.IMG2", "image", {"id": "MEDIA2", "mime_type": "image/jpeg"})
        self.fetch()
        message = event.posted_message_id
        row = self.Media.search([("event_id", "=", event.id)])
        self.assertFalse(message.attachment_ids, "a file that fails its checksum is refused")
        self.assertFalse(self.env["ir.attachment"].search([("res_model", "=", "crm.lead"),
                                                           ("res_id", "=", event.lead_id.id)]))
        self.assertEqual((row.state, row.attempts), ("pending", 1))
        self.assertIn("sha256", row.error)
        self.assertTrue(row.next_attempt_at > NOW)
        self.assertTrue(message.exists() and "[image]" in message.body, "the message stays posted")
        # not due yet: nothing is asked
        count = len(self.graph.requests)
        self.fetch()
        self.assertEqual(len(self.graph.requests), count)
        self.serve("MEDIA2", JPEG, "image/jpeg")  # Meta now serves the right file
        with freeze_time(row.next_attempt_at + timedelta(seconds=1)):
            self.fetch()
        self.assertEqual(row.state, "done")
        self.assertEqual(message.attachment_ids.raw, JPEG)
        self.assertEqual(len(event.lead_id.message_ids.filtered(lambda m: m.wa_message_id == "wamid.IMG2")), 1,
                         "the retry posts nothing twice")

    @freeze_time(NOW)
    def test_404_says_so_and_retries_a_bounded_number_of_times(self):
        event = self.receive("wamid.IMG3", "image", {"id": "GONE", "mime_type": "image/jpeg"})
        row = self.Media.search([("event_id", "=", event.id)])
        at = NOW
        for attempt in range(1, 10):
            with freeze_time(at):
                self.fetch()
            if row.state != "pending":
                break
            self.assertEqual(row.attempts, attempt)
            self.assertIn("no longer has this file (HTTP 404)", row.error)
            at = row.next_attempt_at + timedelta(seconds=1)
        self.assertEqual((row.state, row.attempts), ("failed", 5))
        message = event.posted_message_id
        self.assertFalse(message.attachment_ids)
        self.assertIn("could not be downloaded", message.body)
        self.assertIn("HTTP 404", message.body)
        count = len(self.graph.requests)
        with freeze_time(at + timedelta(days=2)):
            self.fetch()
        self.assertEqual(len(self.graph.requests), count, "no attempt after the last one")

    @freeze_time(NOW)
    def test_oversized_file_keeps_the_link(self):
        self.env["ir.config_parameter"].sudo().set_param("lead_channels.media_max_bytes", "20")
        self.serve("BIG1", JPEG, "video/mp4")
        event = self.receive("wamid.VID1", "video", {"id": "BIG1", "mime_type": "video/mp4"})
        self.fetch()
        message = event.posted_message_id
        self.assertFalse(message.attachment_ids)
        self.assertIn("too big to keep in Odoo", message.body)
        self.assertIn("%s/files/BIG1" % self.graph.root, message.body, "the link is kept")
        self.assertEqual(self.Media.search([("event_id", "=", event.id)]).state, "too_big")
        self.assertNotIn("/files/BIG1", [r["path"] for r in self.graph.requests],
                         "the declared size is enough: the file is not fetched")

    @freeze_time(NOW)
    def test_oversized_without_declared_size_stops_reading(self):
        self.serve("BIG3", JPEG * 3, "audio/ogg", file_size="")
        event = self.receive("wamid.AUD1", "audio", {"id": "BIG3", "mime_type": "audio/ogg"})
        # the cap from a context key (the same name as the system parameter)
        self.Media.with_context(**{"lead_channels.media_max_bytes": 30})._cron_fetch_names_media()
        message = event.posted_message_id
        self.assertIn("too big to keep in Odoo", message.body)
        self.assertFalse(message.attachment_ids)

    @freeze_time(NOW)
    def test_chunk_path_downloads_onto_each_message(self):
        self.serve("M1", JPEG, "image/jpeg")
        self.serve("M2", PDF, "application/pdf")
        ids = []
        for wamid, wa_id, mtype, media_id, mime in (("wamid.C1", "60123460011", "image", "M1", "image/jpeg"),
                                                    ("wamid.C2", "60123460012", "document", "M2",
                                                     "application/pdf")):
            message, contact = self.wa_message(wamid, wa_id=wa_id, type=mtype,
                                               **{mtype: {"id": media_id, "mime_type": mime}})
            message.pop("text")
            ids += self.deliver_direct(self.wa, self.wa_delivery([message], [contact]))[0]
        self.Event._process_chunk(ids)
        self.fetch()
        events = self.Event.browse(ids)
        self.assertEqual(events[0].posted_message_id.attachment_ids.raw, JPEG)
        self.assertEqual(events[1].posted_message_id.attachment_ids.raw, PDF)

    @freeze_time(NOW)
    def test_messenger_attachment_url_fetched_without_token(self):
        self.graph.routes[("GET", "/cdn/photo.jpg")] = (200, JPEG, "image/jpeg")
        self.graph.routes[("GET", "/v21.0/PSID-5")] = (200, {"first_name": "Siti", "last_name": "Aminah"})
        url = "%s/cdn/photo.jpg?sig=abc" % self.graph.root
        self.deliver_direct(self.messenger, {"object": "page", "entry": [{"id": "PAGE1", "messaging": [{
            "sender": {"id": "PSID-5"}, "recipient": {"id": "PAGE1"}, "timestamp": int(NOW.timestamp() * 1000),
            "message": {"mid": "m_ATT1", "attachments": [{"type": "image", "payload": {"url": url}}]}}]}]})
        event = self.process_all()
        self.fetch()
        attachment = event.posted_message_id.attachment_ids
        self.assertEqual((attachment.raw, attachment.mimetype, attachment.name), (JPEG, "image/jpeg", "photo.jpg"))
        download = [r for r in self.graph.requests if r["path"] == "/cdn/photo.jpg"]
        self.assertEqual(len(download), 1)
        self.assertNotIn("Authorization", download[0]["headers"], "a CDN link never gets the page token")

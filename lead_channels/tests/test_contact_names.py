from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon, GraphServer

NOW = datetime(2026, 11, 23, 10, 0, 0)


@tagged("post_install", "-at_install")
class TestContactNames(ChannelsCommon, TransactionCase):
    """A new Messenger / Instagram contact gets its real name from Graph,
    once, after the capture."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # only this test's contacts and files are due (a demo database queues
        # the names of its own Messenger and Instagram contacts)
        for model in ("lead.channel.contact.name", "lead.channel.media"):
            cls.env[model].search([("state", "=", "pending")]).write({"state": "failed"})
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        for channel in (cls.messenger, cls.instagram):
            channel.graph_url = cls.graph.url
        cls.messenger.access_token = "page-token"
        cls.instagram.access_token = "ig-token"
        cls.Names = cls.env["lead.channel.contact.name"]

    def setUp(self):
        super().setUp()
        self.graph.routes.clear()
        self.graph.requests.clear()

    def customer_on(self, channel, obj, page, sender, mid, text="Hello, price?"):
        self.deliver_direct(channel, {"object": obj, "entry": [{"id": page, "messaging": [
            {"sender": {"id": sender}, "recipient": {"id": page}, "timestamp": int(NOW.timestamp() * 1000),
             "message": {"mid": mid, "text": text}}]}]})
        return self.process_all().lead_id

    def fetch(self):
        return self.env["lead.channel.media"]._cron_fetch_names_media()

    def name_calls(self, ref):
        return [r for r in self.graph.requests if r["path"] == "/v21.0/%s" % ref]

    @freeze_time(NOW)
    def test_messenger_name_on_contact_and_lead_once(self):
        self.graph.routes[("GET", "/v21.0/PSID-1234")] = (200, {"first_name": "Siti", "last_name": "Aminah",
                                                               "id": "PSID-1234"})
        lead = self.customer_on(self.messenger, "page", "PAGE1", "PSID-1234", "m1")
        self.assertEqual(lead.partner_id.name, "Messenger user 1234")
        self.assertIn("Messenger user 1234", lead.name)
        self.assertFalse(self.graph.requests, "no call during the capture")
        self.fetch()
        self.assertEqual(lead.partner_id.name, "Siti Aminah")
        self.assertEqual(lead.contact_name, "Siti Aminah")
        self.assertEqual(lead.name, "Siti Aminah - Messenger")
        call = self.name_calls("PSID-1234")
        self.assertEqual(len(call), 1)
        self.assertEqual(call[0]["query"], {"fields": ["first_name,last_name"]})
        self.assertEqual(call[0]["headers"]["Authorization"], "Bearer page-token")
        # the same contact writes again: no second call
        self.customer_on(self.messenger, "page", "PAGE1", "PSID-1234", "m2", text="And parking?")
        self.fetch()
        self.assertEqual(len(self.name_calls("PSID-1234")), 1, "one call per contact")

    @freeze_time(NOW)
    def test_instagram_name_and_username(self):
        self.graph.routes[("GET", "/v21.0/IGSID-5678")] = (200, {"username": "tanwei.kl"})
        lead = self.customer_on(self.instagram, "instagram", "IG1", "IGSID-5678", "ig1")
        self.fetch()
        self.assertEqual(lead.partner_id.name, "@tanwei.kl")
        self.assertEqual(self.name_calls("IGSID-5678")[0]["query"], {"fields": ["name,username"]})

    @freeze_time(NOW)
    def test_failure_keeps_placeholder_then_succeeds(self):
        self.graph.routes[("GET", "/v21.0/PSID-4321")] = (500, {"error": {"message": "Service unavailable"}})
        lead = self.customer_on(self.messenger, "page", "PAGE1", "PSID-4321", "m3")
        self.fetch()
        row = self.Names.search([("contact_ref", "=", "PSID-4321")])
        self.assertEqual(lead.partner_id.name, "Messenger user 4321", "a failure keeps the placeholder")
        self.assertEqual((row.state, row.attempts), ("pending", 1))
        self.assertIn("HTTP 500", row.error)
        self.graph.routes[("GET", "/v21.0/PSID-4321")] = (200, {"first_name": "Raj"})
        self.fetch()  # not due yet
        self.assertEqual(len(self.name_calls("PSID-4321")), 1)
        with freeze_time(row.next_attempt_at + timedelta(seconds=1)):
            self.fetch()
        self.assertEqual((lead.partner_id.name, lead.contact_name, row.state), ("Raj", "Raj", "done"))
        self.assertEqual(len(self.name_calls("PSID-4321")), 2)

    @freeze_time(NOW)
    def test_agent_edit_is_kept_and_attempts_are_bounded(self):
        lead = self.customer_on(self.messenger, "page", "PAGE1", "PSID-9999", "m4")
        lead.partner_id.name = "Mr Lim (typed by agent)"
        row = self.Names.search([("contact_ref", "=", "PSID-9999")])
        at = NOW
        for _attempt in range(8):  # no route: Graph answers 404
            with freeze_time(at):
                self.fetch()
            if row.state != "pending":
                break
            at = row.next_attempt_at + timedelta(seconds=1)
        self.assertEqual((row.state, row.attempts), ("failed", 5))
        self.assertEqual(len(self.name_calls("PSID-9999")), 5)
        self.graph.routes[("GET", "/v21.0/PSID-9999")] = (200, {"first_name": "Lim"})
        row.write({"state": "pending", "next_attempt_at": False})  # an administrator's retry
        self.fetch()
        self.assertEqual(lead.partner_id.name, "Mr Lim (typed by agent)", "an agent's edit is kept")
        self.assertEqual(lead.contact_name, "Lim")

    def test_existing_placeholders_queued_on_update(self):
        lead = self.customer_on(self.messenger, "page", "PAGE1", "PSID-2468", "m5")
        self.Names.search([("contact_ref", "=", "PSID-2468")]).unlink()  # as before this feature
        self.Names._queue_existing_placeholders()
        self.Names._queue_existing_placeholders()
        row = self.Names.search([("contact_ref", "=", "PSID-2468")])
        self.assertEqual((len(row), row.partner_id, row.placeholder, row.state),
                         (1, lead.partner_id, "Messenger user 2468", "pending"))

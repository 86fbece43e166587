import threading

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged

from ..core import meta
from .common import ChannelsCommon


@tagged("post_install", "-at_install")
class TestDedup(ChannelsCommon, TransactionCase):

    def form_event(self, name, phone=None, email=None, message="Interested"):
        from ..core.form import validate_submission
        clean, errors = validate_submission({"name": name, "phone": phone, "email": email, "message": message})
        self.assertFalse(errors)
        self.Event.sudo()._store(self.form.id, [("form", "sub-%s-%s" % (name, phone or email), clean)])

    def test_malaysian_phone_formats_are_one_contact(self):
        formats = ["012-345 6789", "+60 12-345 6789", "6012 3456789", "0060123456789"]
        for i, phone in enumerate(formats):
            self.form_event("Ahmad %s" % i, phone=phone)
        self.deliver_direct(self.wa, self.wa_one("wamid.F1"))  # wa_id 60123456789
        self.process_all()
        leads = self.Lead.search([("phone_sanitized", "=", "+60123456789")])
        self.assertEqual(len(leads), 1)
        self.assertEqual(leads.lead_inbound_count, 5)
        self.assertEqual(len(leads.message_ids.filtered(lambda m: m.message_type == "comment")), 5)

    def test_cross_channel_by_email_and_contact_ref(self):
        self.form_event("Mei Ling", email="Mei.Ling@Example.com")
        self.process_all()
        lead = self.leads_of(self.form)
        # the same person answers a Lead Ads-like walk-in capture with the e-mail in another case
        self.env["lead.channel.quick.capture"].create({
            "channel_id": self.walk_in.id, "name": "Mei Ling", "email": "mei.ling@example.COM",
            "phone": "019-222 3333", "message": "Came to the showroom"}).action_capture()
        self.assertFalse(self.leads_of(self.walk_in))
        self.assertEqual(lead.lead_inbound_count, 2)
        self.assertEqual(lead.phone_sanitized, "+60192223333", "the phone learnt at the showroom is kept")
        # Messenger contact ref matches on a second message
        for mid in ("m_a", "m_b"):
            self.deliver_direct(self.messenger, {"object": "page", "entry": [{"id": "PAGE1", "messaging": [
                {"sender": {"id": "PSID-1"}, "recipient": {"id": "PAGE1"}, "timestamp": 1763880000000,
                 "message": {"mid": mid, "text": "hi"}}]}]})
        self.process_all()
        self.assertEqual(len(self.leads_of(self.messenger)), 1)

    def test_returning_customer_gets_new_lead_linked_to_partner(self):
        self.deliver_direct(self.wa, self.wa_one("wamid.R1"))
        first = self.process_all().lead_id
        partner = first.partner_id
        first.action_set_lost()
        self.deliver_direct(self.wa, self.wa_one("wamid.R2", text="Back again"))
        second = self.process_all().lead_id
        self.assertNotEqual(second, first)
        self.assertEqual(second.partner_id, partner)
        won_stage = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        second.stage_id = won_stage
        self.deliver_direct(self.wa, self.wa_one("wamid.R3", text="One more unit"))
        third = self.process_all().lead_id
        self.assertNotIn(third, first | second)
        self.assertEqual(third.partner_id, partner)
        self.assertEqual(self.env["res.partner"].search_count([("phone_sanitized", "=", "+60123456789")]), 1)

    def test_failed_processing_is_kept_and_retried(self):
        self.deliver_direct(self.wa, {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [
            {"field": "messages", "value": {"messages": [{"id": "wamid.BAD", "type": "text"}],
                                            "contacts": []}}]}]})
        event = self.process_all()
        # no sender at all: no lead can be found or created, but the event is kept and retried
        self.assertEqual((event.state, event.attempts), ("failed", 1))
        self.assertIn("no phone, e-mail or contact id", event.error)
        self.assertTrue(event.next_attempt_at)
        self.assertFalse(self.leads_of(self.wa))


@tagged("post_install", "-at_install")
class TestConcurrentDeliveries(TransactionCase):
    """Two transactions process the first two messages of one new contact at once."""

    def test_two_cursors_one_lead(self):
        registry = self.registry
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            channel = env["lead.channel"].create({"name": "WA concurrency", "channel_type": "whatsapp",
                                                  "app_secret": "x"})
            items = []
            for wamid in ("wamid.CC1", "wamid.CC2"):
                data = ChannelsCommon.wa_one(wamid, wa_id="60177770001", name="Race Condition")
                items += meta.split_delivery(data)
            ids, _dups = env["lead.channel.event"]._store(channel.id, items)
            cr.commit()
        channel_id = channel.id

        def cleanup():
            with registry.cursor() as cr:
                env = api.Environment(cr, SUPERUSER_ID, {})
                leads = env["crm.lead"].with_context(active_test=False).search([("channel_id", "=", channel_id)])
                partners = leads.partner_id
                env["lead.channel.event"].browse(ids).unlink()
                leads.unlink()
                partners.unlink()
                env["lead.channel"].browse(channel_id).unlink()
                cr.execute("DELETE FROM lead_channel_contact_key WHERE key LIKE '%%60177770001%%'")
        self.addCleanup(cleanup)

        cr_a = registry.cursor()
        self.addCleanup(cr_a.close)
        env_a = api.Environment(cr_a, SUPERUSER_ID, {})
        env_a["lead.channel.event"].browse(ids[0])._process()  # lead created, not committed

        result = {}

        def second():
            with registry.cursor() as cr_b:
                env_b = api.Environment(cr_b, SUPERUSER_ID, {})
                result["done"] = env_b["lead.channel.event"]._process_committing([ids[1]])

        thread = threading.Thread(target=second)
        thread.start()
        # wait until the second transaction is blocked on the contact key, then commit the first
        with registry.cursor() as probe:
            for _i in range(200):
                probe.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                              "AND query LIKE '%%lead_channel_contact_key%%'")
                if probe.fetchone()[0]:
                    break
                thread.join(0.05)
        cr_a.commit()
        thread.join(30)
        self.assertFalse(thread.is_alive())
        self.assertEqual(result.get("done"), 1)
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            leads = env["crm.lead"].search([("channel_id", "=", channel_id)])
            self.assertEqual(len(leads), 1)
            self.assertEqual(leads.lead_inbound_count, 2)
            self.assertEqual(sorted(leads.message_ids.mapped("wa_message_id") and
                                    [m for m in leads.message_ids.mapped("wa_message_id") if m]),
                             ["wamid.CC1", "wamid.CC2"])
            self.assertEqual(env["lead.channel.event"].browse(ids).mapped("state"), ["done", "done"])

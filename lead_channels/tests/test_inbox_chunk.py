from odoo import fields
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import ChannelsCommon


@tagged("post_install", "-at_install")
class TestInboxChunk(ChannelsCommon, TransactionCase):
    """The inbox job posts a chunk's customer messages together and notifies
    the followers through Odoo's scheduled-notification queue once the inbox
    is drained: the messages are in the chatter at once, nobody is notified
    twice and nobody is forgotten."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.owner = new_test_user(cls.env, "chunk_owner", groups="sales_team.group_sale_salesman",
                                  email="owner@example.com", name="Olivia Owner", notification_type="inbox")

    def deliver(self, wamid, wa_id, name, text):
        new_ids, _dups = self.deliver_direct(
            self.wa, self.wa_one("wamid." + wamid, wa_id=wa_id, name=name, text=text))
        return new_ids[0]

    def notifications_of(self, partner, leads):
        return self.env["mail.notification"].search([
            ("res_partner_id", "=", partner.id), ("mail_message_id.model", "=", "crm.lead"),
            ("mail_message_id.res_id", "in", leads.ids)])

    def test_chunk_posts_together_and_notifies_once_drained(self):
        self.deliver("K1", "60123460001", "Kamal", "First question")
        self.process_all()
        known = self.Lead.search([("channel_contact_ref", "=", "60123460001")])
        known.user_id = self.owner  # the owner follows the lead
        self.assertIn(self.owner.partner_id, known.message_partner_ids)
        ids = [self.deliver("K2", "60123460001", "Kamal", "Any discount?"),
               self.deliver("N1", "60123460002", "Nadia", "Hello, 2 rooms?"),
               self.deliver("N2", "60123460002", "Nadia", "And parking?"),
               self.deliver("M1", "60123460003", "Mei", "Price list please")]
        self.Event._process_chunk(ids)
        events = self.Event.browse(ids)
        self.assertEqual(set(events.mapped("state")), {"done"})

        nadia = self.Lead.search([("channel_contact_ref", "=", "60123460002")])
        messages = nadia.message_ids.filtered("wa_message_id").sorted("id")
        self.assertEqual(messages.mapped("wa_message_id"), ["wamid.N1", "wamid.N2"])
        self.assertEqual(messages.author_id, nadia.partner_id, "posted as from the customer")
        self.assertEqual(set(messages.mapped("message_type")), {"comment"})
        self.assertEqual(messages.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertEqual(set(messages.mapped("wa_state")), {"received"})
        self.assertEqual(messages[1].parent_id, messages[0], "one flat thread under the first message")
        self.assertIn("And parking?", messages[1].body)
        self.assertEqual(messages[0].record_name, nadia.display_name)
        self.assertIn(nadia.partner_id, nadia.message_partner_ids, "the customer follows the lead")
        self.assertEqual(nadia.lead_inbound_count, 2)
        self.assertFalse(nadia.message_ids.filtered(lambda m: m.message_type == "notification"
                                                     and "created" in (m.body or "")),
                         "the customer's message opens the chatter (no 'Lead created' line)")
        k2 = known.message_ids.filtered(lambda m: m.wa_message_id == "wamid.K2")
        self.assertEqual(k2.parent_id, known.message_ids.filtered("wa_message_id").sorted("id")[0])
        self.assertEqual(known.lead_inbound_count, 2)

        self.assertEqual(events[0].posted_message_id, k2, "each event knows the message it posted")
        # notifications wait in Odoo's queue until the inbox is drained...
        queued = self.env["mail.message.schedule"].search([("mail_message_id", "in", k2.ids)])
        self.assertEqual(len(queued), 1)
        self.assertGreater(queued.scheduled_datetime, fields.Datetime.now(),
                           "Odoo's own cron only sends what the inbox job could not")
        self.assertEqual(self.Event._queued_notification_count(), 4)
        self.assertFalse(self.notifications_of(self.owner.partner_id, known).filtered(
            lambda n: n.mail_message_id == k2))
        # ...then each follower is notified once, by Odoo's own notification
        self.assertGreaterEqual(self.Event._send_inbound_notifications(), 4)
        notice = self.notifications_of(self.owner.partner_id, known).filtered(lambda n: n.mail_message_id == k2)
        self.assertEqual(len(notice), 1)
        self.assertEqual(notice.notification_type, "inbox")
        self.assertFalse(self.env["mail.message.schedule"].search([("mail_message_id", "in", k2.ids)]))
        self.assertEqual(self.Event._send_inbound_notifications(), 0, "nothing is sent twice")
        self.assertEqual(self.Event._queued_notification_count(), 0)
        self.assertEqual(len(self.notifications_of(self.owner.partner_id, known).filtered(
            lambda n: n.mail_message_id == k2)), 1)

    def test_failed_event_posts_nothing_and_keeps_the_others(self):
        good = self.deliver("G1", "60123460011", "Gopal", "Is it freehold?")
        broken, _dups = self.Event.sudo()._store(self.wa.id, [("whatsapp_message", "wamid.BAD", "{}")])
        other = self.deliver("G2", "60123460012", "Grace", "Viewing on Sunday?")
        self.Event._process_chunk([good, broken[0], other])
        self.assertEqual(self.Event.browse(broken).state, "failed")
        self.assertTrue(self.Event.browse(broken).error)
        for wamid, wa_id in (("G1", "60123460011"), ("G2", "60123460012")):
            lead = self.Lead.search([("channel_contact_ref", "=", wa_id)])
            self.assertEqual(len(lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid." + wamid)), 1)
        self.assertFalse(self.env["mail.message"].search([("wa_message_id", "=", "wamid.BAD")]))

    def test_chunk_after_a_failed_attempt_posts_its_messages(self):
        """Odoo reuses a live environment whose context compares equal: the
        environment of an earlier attempt that failed before posting (still
        held by its traceback) must not swallow the next chunk's messages.
        The soak found three customer messages lost this way, their events
        done after the routing lock's serialization failures."""
        self.deliver("R1", "60123460021", "Rahim", "First question")
        self.process_all()
        lead = self.Lead.search([("channel_contact_ref", "=", "60123460021")])
        # an earlier chunk's environment, as its failed attempt left it: nothing buffered
        earlier = self.Event.with_context(lead_channels_raise_transient=True, lead_channels_prepared={},
                                          lead_channels_posts=[])
        event_id = self.deliver("R2", "60123460021", "Rahim", "Is the price negotiable?")
        self.Event._process_chunk([event_id])
        event = self.Event.browse(event_id)
        self.assertEqual(event.state, "done")
        posted = lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.R2")
        self.assertEqual(len(posted), 1, "the customer's message is in the chatter")
        self.assertEqual(event.posted_message_id, posted)
        self.assertFalse(earlier.env.context["lead_channels_posts"], "nothing went to the earlier buffer")

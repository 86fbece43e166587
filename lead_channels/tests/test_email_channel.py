import pathlib

from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon

FIXTURES = pathlib.Path(__file__).parent / "fixtures"


@tagged("post_install", "-at_install")
class TestEmailChannel(ChannelsCommon, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        domain = cls.env["mail.alias.domain"].search([], limit=1) or cls.env["mail.alias.domain"].create(
            {"name": "agency.example.my"})
        cls.env.company.alias_domain_id = domain
        cls.portal = cls.env["lead.channel"].create({
            "name": "Property portals", "channel_type": "email", "alias_name": "enquiries",
            "alias_domain_id": domain.id, "team_id": cls.team.id})
        cls.to = "enquiries@%s" % domain.name

    def receive(self, fixture):
        raw = (FIXTURES / fixture).read_text().replace("{to}", self.to)
        self.env["mail.thread"].message_process(False, raw)
        return self.process_all()

    def test_alias_routes_to_inbox(self):
        self.assertEqual(self.portal.alias_id.alias_model_id.model, "lead.channel.event")
        self.assertEqual(self.portal.alias_email, self.to)

    def test_propertyguru(self):
        event = self.receive("propertyguru_enquiry.eml")
        self.assertEqual((event.kind, event.state), ("email", "done"), event.error)
        lead = event.lead_id
        self.assertEqual(lead.channel_id, self.portal)
        self.assertEqual(lead.contact_name, "Nur Aisyah binti Ahmad")
        self.assertEqual(lead.phone_sanitized, "+60123456789")
        self.assertEqual(lead.email_normalized, "aisyah.ahmad@example.com")
        self.assertEqual(lead.channel_listing_ref, "34567890")
        self.assertIn("Residensi Harmoni", lead.name)
        customer_msg = lead.message_ids.filtered(lambda m: m.message_type == "comment")
        self.assertEqual(customer_msg.author_id, lead.partner_id)
        self.assertIn("arrange a viewing", customer_msg.body)
        self.assertEqual(lead.lead_inbound_count, 1)

    def test_iproperty(self):
        lead = self.receive("iproperty_enquiry.eml").lead_id
        self.assertEqual(lead.contact_name, "Lim Wei Jie")
        self.assertEqual(lead.phone_sanitized, "+60123456780")
        self.assertEqual(lead.channel_listing_ref, "102938475")

    def test_generic_and_redelivery(self):
        event = self.receive("generic_enquiry.eml")
        lead = event.lead_id
        self.assertEqual(lead.email_normalized, "siti.rahman@example.com")
        self.assertEqual(lead.phone_sanitized, "+60129876543")
        self.assertIn("3-room unit", lead.message_ids.filtered(lambda m: m.message_type == "comment").body)
        # the same e-mail delivered again (same Message-Id) makes no second lead
        self.receive("generic_enquiry.eml")
        self.assertEqual(len(self.leads_of(self.portal)), 1)

    def test_unknown_format_keeps_whole_body(self):
        raw = (FIXTURES / "generic_enquiry.eml").read_text().replace("{to}", self.to)
        raw = raw.replace("generic-0001", "generic-0002").split("\n\n", 1)[0] + \
            "\n\nPlease send me the brochure, thanks.\n"
        self.env["mail.thread"].message_process(False, raw)
        event = self.process_all()
        self.assertEqual(event.state, "done", event.error)
        self.assertIn("brochure", event.lead_id.message_ids.filtered(lambda m: m.message_type == "comment").body)

    def test_retention_removes_old_emails_with_their_chatter(self):
        event = self.receive("iproperty_enquiry.eml")
        lead = event.lead_id
        self.assertTrue(event.message_ids, "the raw e-mail stays on the inbox event")
        self.env.company.lead_channel_retention_days = 10
        self.env.cr.execute("UPDATE lead_channel_event SET received_at = received_at - interval '11 days' "
                            "WHERE id = %s", [event.id])
        self.Event._gc_processed_events()
        self.assertFalse(event.exists())
        self.assertFalse(self.env["mail.message"].search([("model", "=", "lead.channel.event"),
                                                           ("res_id", "=", event.id)]))
        self.assertTrue(lead.exists(), "the lead and its conversation stay")

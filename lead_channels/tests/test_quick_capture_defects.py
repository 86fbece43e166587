from odoo.exceptions import UserError
from odoo.tests import TransactionCase, new_test_user, tagged

from .common import ChannelsCommon


@tagged("post_install", "-at_install")
class TestQuickCaptureDefects(ChannelsCommon, TransactionCase):
    """Issue 17.1 / 17.11 / 11.9: Quick Capture as agents use it."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.colleague = new_test_user(cls.env, "chan_colleague", groups="sales_team.group_sale_salesman",
                                      email="mary@example.com", name="Mary Colleague")
        cls.aminah = cls.env["res.partner"].create({
            "name": "Puan Aminah", "phone": "+60123456789", "email": "aminah@example.com"})

    def capture(self, channel=None, user=None, **values):
        wizard = self.env["lead.channel.quick.capture"].with_user(user or self.salesman).create(
            dict({"channel_id": (channel or self.walk_in).id}, **values))
        return wizard.action_capture()

    def existing_lead(self, owner):
        return self.env["crm.lead"].create({
            "name": "Aminah - condo", "partner_id": self.aminah.id, "contact_name": "Puan Aminah",
            "phone": "+60123456789", "email_from": "aminah@example.com", "user_id": owner.id,
            "type": "opportunity"})

    def capture_note(self, lead):
        # lead_scoring's note of the signals it read quotes the capture: not the capture itself
        return lead.message_ids.filtered(lambda m: "enquiry from" in (m.body or "")
                                         and "Read from the customer" not in (m.body or ""))

    # ---------------------------------------------------------------- 17.1
    def test_other_persons_capture_changes_nothing_on_the_lead(self):
        lead = self.existing_lead(self.salesman)
        action = self.capture(name="Encik Rahman", phone="012-345 6789", email="rahman@example.com",
                              message="Wants a 3-room unit")
        self.assertEqual(action["res_id"], lead.id, "matching by phone still finds the lead")
        self.assertFalse(self.leads_of(self.walk_in), "no second lead")
        self.assertEqual(lead.email_from, "aminah@example.com", "the lead's e-mail is not overwritten")
        self.assertEqual(lead.partner_id, self.aminah, "the lead keeps its contact")
        self.assertEqual(self.aminah.email, "aminah@example.com", "the contact is not overwritten")
        self.assertEqual(self.aminah.name, "Puan Aminah")
        note = self.capture_note(lead)
        self.assertEqual(len(note), 1)
        self.assertEqual(note.author_id, self.salesman.partner_id, "the agent wrote the note")
        self.assertIn("Walk-in enquiry from Encik Rahman: Wants a 3-room unit", note.body)
        self.assertIn("rahman@example.com", note.body, "the different e-mail is kept in the note")

    def test_capture_on_another_agents_lead_tells_whose_it_is(self):
        lead = self.existing_lead(self.colleague)
        action = self.capture(name="Encik Rahman", phone="+60 12-345 6789", message="Asked for Mary")
        self.assertEqual(action["tag"], "display_notification", "no lead form the agent cannot open")
        self.assertIn("Mary Colleague", action["params"]["message"])
        note = self.capture_note(lead)
        self.assertEqual(note.author_id, self.salesman.partner_id)
        self.assertIn(self.colleague.partner_id, note.notified_partner_ids, "the owner is notified")
        self.assertNotIn(self.salesman.partner_id, lead.message_partner_ids,
                         "the agent does not follow a lead they cannot read")

    def test_capture_by_owner_is_a_message_to_the_customer_not_emailed(self):
        lead = self.existing_lead(self.salesman)
        lead.message_subscribe(partner_ids=self.aminah.ids)
        self.capture(name="Puan Aminah", phone="012-345 6789", message="Came back for a viewing")
        note = self.capture_note(lead)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_comment"),
                         "the owner spoke to the customer: a response, not an internal note")
        self.assertFalse(note.is_internal)
        self.assertNotIn(self.aminah, note.notified_partner_ids, "the customer gets no e-mail of the note")

    def test_capture_for_someone_elses_lead_is_an_internal_note(self):
        self.capture(name="Encik Razak", phone="013 456 7890", message="Show unit B-12-3")
        lead = self.leads_of(self.walk_in)
        note = self.capture_note(lead)
        self.assertEqual(note.author_id, self.salesman.partner_id)
        self.assertIn("Walk-in enquiry from Encik Razak: Show unit B-12-3", note.body)
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"), "nobody owns it: not a response")

    # ---------------------------------------------------------------- 17.11
    def test_local_numbers_of_the_channels_country(self):
        singapore = self.env.ref("base.sg")
        channel = self.env["lead.channel"].create({"name": "SG Walk-in", "channel_type": "walk_in",
                                                    "country_id": singapore.id})
        with self.assertRaisesRegex(UserError, r"'012-345 6789' is not a valid phone number: write it "
                                               r"with the country code, e\.g\. \+65"):
            self.capture(channel, name="Tan", phone="012-345 6789")
        lead = self.env["crm.lead"].browse(self.capture(channel, name="Tan", phone="8123 4567")["res_id"])
        self.assertEqual(lead.phone_sanitized, "+6581234567", "a local Singapore number")
        lead = self.env["crm.lead"].browse(self.capture(channel, name="Ali", phone="+60 13-456 7890")["res_id"])
        self.assertEqual(lead.phone_sanitized, "+60134567890", "a number with its country code")

    def test_channel_country_defaults_to_the_company(self):
        channel = self.env["lead.channel"].create({"name": "Counter", "channel_type": "phone"})
        self.assertEqual(channel.country_id, self.env.company.country_id)
        with self.assertRaisesRegex(UserError, r"e\.g\. \+60 12-345 6789"):
            self.capture(channel, name="X", phone="12")

    # ---------------------------------------------------------------- 11.9
    def test_manual_channels_shipped_for_every_company(self):
        main = self.env.ref("base.main_company")
        for xmlid, channel_type in (("lead_channels.lead_channel_walk_in", "walk_in"),
                                    ("lead_channels.lead_channel_phone", "phone"),
                                    ("lead_channels.lead_channel_referral", "referral")):
            channel = self.env.ref(xmlid)
            self.assertEqual((channel.channel_type, channel.company_id), (channel_type, main))
        other = self.env["res.company"].create({"name": "Cawangan Johor Sdn Bhd"})
        Channel = self.env["lead.channel"].with_context(active_test=False)
        channels = Channel.search([("company_id", "=", other.id)])
        self.assertEqual(sorted(channels.mapped("channel_type")), ["phone", "referral", "walk_in"])
        channels.filtered(lambda c: c.channel_type == "phone").active = False  # an admin archives one
        self.env["res.company"]._lead_channels_create_manual_channels()  # what an update runs
        self.assertEqual(Channel.search_count([("company_id", "=", other.id)]), 3, "nothing created twice")

    def test_wizard_defaults_to_walk_in(self):
        Wizard = self.env["lead.channel.quick.capture"].with_user(self.salesman)
        channel = self.env["lead.channel"].browse(Wizard.default_get(["channel_id"])["channel_id"])
        self.assertEqual(channel.channel_type, "walk_in")
        self.assertEqual(channel.company_id, self.env.company)

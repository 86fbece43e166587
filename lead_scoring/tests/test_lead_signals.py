from markupsafe import Markup

from odoo.tests import tagged

from .common import LeadScoringCase

EXAMPLE = "Hi, is the Mont Kiara unit still available? Budget RM 800k, can I view it this Saturday?"


@tagged("post_install", "-at_install")
class TestLeadSignals(LeadScoringCase):
    """Buying signals read from the customer's messages on a lead (issue 18)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.ref("base.MYR").active = True
        cls.company.write({"lead_read_signals": True, "currency_id": cls.env.ref("base.MYR").id})
        cls.customer = cls.env["res.partner"].create({"name": "Aisyah", "phone": "+60 12-345 6789"})

    def _lead(self, **vals):
        vals.setdefault("partner_id", self.customer.id)
        return super()._lead(**vals)

    def _from_customer(self, lead, body):
        return lead.message_post(body=body, author_id=self.customer.id, message_type="comment",
                                 subtype_xmlid="mail.mt_comment")

    def _notes(self, lead):
        return lead.message_ids.filtered(
            lambda m: m.message_type == "notification" and "Read from the customer" in m.body)

    def test_the_example_message_makes_the_lead_hot_with_a_note(self):
        lead = self._lead(phone="+60 12-345 6789")
        self.assertEqual((lead.lead_score, lead.lead_tier), (10, "cold"))
        self._from_customer(lead, EXAMPLE)
        self.assertEqual(lead.lead_budget, 800000)
        self.assertTrue(lead.lead_meeting_requested)
        self.assertEqual(lead.lead_timeline, "week", "the viewing day is this week")
        self.assertEqual(lead.lead_score, 10 + 15 + 20 + 25)
        self.assertEqual(lead.lead_tier, "hot")
        self.assertEqual(lead.priority, "3")
        note = self._notes(lead)
        self.assertEqual(len(note), 1, "one note for the fill")
        self.assertIn("Read from the customer's message: budget RM 800,000 ('Budget RM 800k'); "
                      "viewing requested ('can I view it this Saturday'); "
                      "timeline: this week ('can I view it this Saturday')", note.body)
        self.assertEqual(note.author_id, self.env.ref("base.partner_root"))
        self.assertEqual(lead._lead_signals_read(), {
            "lead_budget": 800000, "lead_meeting_requested": True, "lead_timeline": "week"})

    def test_agent_values_are_never_overwritten(self):
        lead = self._lead(lead_budget=500000, lead_timeline="later")
        self._from_customer(lead, "Budget RM 800k, we buy next month. Can I view it?")
        self.assertEqual(lead.lead_budget, 500000)
        self.assertEqual(lead.lead_timeline, "later")
        self.assertTrue(lead.lead_meeting_requested, "the empty field is filled")
        note = self._notes(lead)
        self.assertIn("viewing requested", note.body)
        self.assertNotIn("budget", note.body, "only what was filled is told")

    def test_a_read_timeline_gets_nearer_but_an_agents_does_not(self):
        lead = self._lead()
        self._from_customer(lead, "We plan to buy within 3 months")
        self.assertEqual(lead.lead_timeline, "quarter")
        self._from_customer(lead, "Actually we need it next month")
        self.assertEqual(lead.lead_timeline, "month", "nearer, and the farther one was read")
        self._from_customer(lead, "Maybe next year only")
        self.assertEqual(lead.lead_timeline, "month", "never farther")
        lead.lead_timeline = "later"  # the agent knows better
        self.assertNotIn("lead_timeline", lead._lead_signals_read())
        self._from_customer(lead, "Need it ASAP")
        self.assertEqual(lead.lead_timeline, "later", "the agent's value stays")
        self.assertEqual(len(self._notes(lead)), 2, "one note per fill, none when nothing changed")

    def test_agents_own_messages_are_not_read(self):
        lead = self._lead()
        lead.message_post(body="Customer said budget RM 900k, wants a viewing tomorrow",
                          author_id=self.salesman.partner_id.id, message_type="comment",
                          subtype_xmlid="mail.mt_note")
        lead.message_post(body="Can we view the unit tomorrow? Budget RM 900k",
                          author_id=self.salesman.partner_id.id, message_type="comment",
                          subtype_xmlid="mail.mt_comment")
        self.assertEqual(lead.lead_budget, 0)
        self.assertFalse(lead.lead_meeting_requested)
        self.assertEqual(lead.lead_timeline, "unknown")
        # a capture typed by an agent for a walk-in customer says so
        lead.with_context(lead_signals_from_customer=True).message_post(
            body="Walk-in enquiry from Encik Rahman: budget RM 900k", message_type="comment",
            author_id=self.salesman.partner_id.id, subtype_xmlid="mail.mt_note")
        self.assertEqual(lead.lead_budget, 900000)

    def test_unknown_email_sender_is_a_customer(self):
        lead = self._lead(partner_id=False, email_from="someone@example.com")
        lead.message_post(body=Markup(
                              "<p>Hello, my budget is RM 1.2 mil.</p>"
                              "<blockquote>We have units below RM 500k, can view this weekend</blockquote>"),
                          author_id=False, email_from="someone@example.com", message_type="email",
                          subtype_xmlid="mail.mt_comment")
        self.assertEqual(lead.lead_budget, 1200000)
        self.assertFalse(lead.lead_meeting_requested, "the quoted reply is not the customer's")

    def test_setting_off_reads_nothing(self):
        settings = self.env["res.config.settings"].create({})
        self.assertTrue(settings.lead_read_signals, "on by default")
        settings.lead_read_signals = False
        settings.execute()
        self.assertFalse(self.company.lead_read_signals)
        lead = self._lead()
        self._from_customer(lead, EXAMPLE)
        self.assertEqual((lead.lead_budget, lead.lead_meeting_requested), (0, False))
        self.assertFalse(self._notes(lead))

    def test_closed_leads_are_not_read(self):
        lead = self._lead()
        lead.action_set_won()
        self._from_customer(lead, EXAMPLE)
        self.assertEqual(lead.lead_budget, 0)

    def test_a_batch_of_messages_is_read_together(self):
        """Messages created together (as the inbox job does) fill each lead once."""
        first, second = self._lead(name="A"), self._lead(name="B")
        self.env.flush_all()
        queries = self.cr.sql_log_count
        self.env["mail.message"].create([
            {"model": "crm.lead", "res_id": lead.id, "message_type": "comment",
             "author_id": self.customer.id, "body": body}
            for lead, body in ((first, "budget RM 600k"), (second, "Can I view it?"),
                               (first, "within 3 months please"))])
        self.env.flush_all()
        self.assertEqual((first.lead_budget, first.lead_timeline), (600000, "quarter"))
        self.assertTrue(second.lead_meeting_requested)
        self.assertEqual(len(self._notes(first)), 1, "one note for the lead's two messages")
        self.assertLess(self.cr.sql_log_count - queries, 80)

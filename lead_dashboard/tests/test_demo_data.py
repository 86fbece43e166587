from datetime import timedelta

from odoo import fields
from odoo.tests import TransactionCase, tagged


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    """The Malaysian agency of the demo: present, coherent, and every tile of
    the dashboard alive (the test databases are installed with demo data)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.teams = cls.env.ref("lead_dashboard.demo_team_kl", raise_if_not_found=False)
        if not cls.teams:
            cls.skipTest(cls, "database without demo data")
        cls.teams |= cls.env.ref("lead_dashboard.demo_team_pg") | cls.env.ref("lead_dashboard.demo_team_jb")
        cls.leads = cls.env["crm.lead"].with_context(active_test=False).search(
            [("team_id", "in", cls.teams.ids)])

    def test_agency(self):
        self.assertEqual(len(self.teams), 3)
        members = self.env["crm.team.member"].search([("crm_team_id", "in", self.teams.ids)])
        self.assertEqual(len(members.user_id), 12)
        self.assertTrue(all(m.lead_skill_ids and m.lead_territory_ids for m in members))
        self.assertEqual(set(members.user_id.mapped("tz")), {"Asia/Kuala_Lumpur"})
        self.assertEqual(len(members.filtered(lambda m: not m.lead_available)), 1, "one agent away")
        now = fields.Datetime.now()
        leaves = self.env["resource.calendar.leaves"].search([
            ("resource_id.user_id", "in", members.user_id.ids), ("date_from", "<=", now), ("date_to", ">", now)])
        self.assertEqual(len(leaves), 1, "one agent on leave")
        self.assertTrue(self.env.ref("lead_dashboard.demo_team_kl").lead_performance_weighting)
        self.assertEqual(self.env.ref("base.main_company").currency_id.name, "MYR")

    def test_leads_came_through_the_inbox(self):
        self.assertTrue(280 <= len(self.leads) <= 320, len(self.leads))
        self.assertGreaterEqual(len(set(self.leads.channel_id.mapped("channel_type"))), 7)
        self.assertLess(min(self.leads.mapped("create_date")), fields.Datetime.now() - timedelta(days=50))
        events = self.env["lead.channel.event"].sudo().search([("lead_id", "in", self.leads.ids)])
        self.assertEqual(set(events.mapped("state")), {"done"})
        self.assertEqual(events.lead_id, self.leads, "every lead comes from a stored delivery")
        self.assertEqual(self.env["lead.channel.event"]._queued_notification_count(), 0,
                         "the inbox job, drained, notified the followers of every customer message")
        notified = self.env["mail.notification"].search_count([
            ("mail_message_id", "in", events.posted_message_id.ids), ("notification_type", "=", "inbox")])
        self.assertGreater(notified, 0, "the owners found the customers' messages in their inbox")
        owned = self.leads.filtered("user_id")
        self.assertGreater(len(owned), 200)
        logged = self.env["lead.assignment.log"].search([("lead_id", "in", owned.ids)]).lead_id
        self.assertEqual(logged, owned, "every lead with an owner has an assignment log line")
        # scores and signals read from the customers' messages
        self.assertEqual(set(self.leads.mapped("lead_tier")) >= {"hot", "warm", "cold"}, True)
        self.assertTrue(self.leads.filtered(lambda lead: lead.lead_budget > 100000))

    def test_conversations_clocks_and_outcomes(self):
        messages = self.env["mail.message"].search([
            ("model", "=", "crm.lead"), ("res_id", "in", self.leads.ids), ("message_type", "=", "comment")])
        bodies = " ".join(messages.mapped("body"))
        self.assertIn("Mont Kiara", bodies)
        self.assertIn("Bajet", bodies)  # Malay
        self.assertIn("viewing", bodies)
        agents = self.env["crm.team.member"].search([("crm_team_id", "in", self.teams.ids)]).user_id
        self.assertTrue(messages.filtered(lambda m: m.author_id in agents.partner_id), "agents replied")
        self.assertTrue(self.leads.filtered("sla_first_response_date"))
        # CRM > Conversations: the customers wrote over the 60 days, not all at load time
        wrote = self.leads.filtered("channel_last_inbound_date").mapped("channel_last_inbound_date")
        self.assertGreater(len(wrote), 250)
        self.assertLess(min(wrote), fields.Datetime.now() - timedelta(days=50))
        self.assertTrue(self.leads.filtered("channel_awaiting_reply"), "some customers wait for an answer")
        self.assertTrue(self.leads.filtered(lambda lead: lead.channel_last_message and not lead.channel_awaiting_reply))
        self.assertTrue(self.leads.filtered(lambda lead: lead.sla_breach_count > 0), "some breached")
        self.assertTrue(self.leads.filtered(lambda lead: lead.sla_status == "late"), "some answered late")
        won = self.leads.filtered(lambda lead: lead.active and lead.probability == 100)
        lost = self.leads.filtered(lambda lead: not lead.active)
        self.assertTrue(won and lost)
        self.assertTrue(all(lead.expected_revenue > 0 for lead in won), "ringgit on every won lead")
        self.assertTrue(all(lead.lost_reason_id for lead in lost), "every lost lead has a reason")
        self.assertTrue(all(lead.date_closed for lead in won | lost))

    def test_dashboard_alive(self):
        today = fields.Date.context_today(self.env["lead.dashboard"])
        data = self.env["lead.dashboard"].get_dashboard_data(
            fields.Date.to_string(today - timedelta(days=60)), fields.Date.to_string(today))
        self.assertEqual(data["currency"]["symbol"], "RM")
        self.assertGreaterEqual(data["totals"]["leads"]["value"], 280)
        self.assertGreater(data["totals"]["won"]["value"], 0)
        self.assertGreater(data["totals"]["lost"]["value"], 0)
        demo_channels = [c for c in data["channels"] if c["name"].startswith("Hartanah Demo")]
        self.assertGreaterEqual(len({c["type"] for c in demo_channels if c["leads"]["value"]}), 7)
        self.assertTrue(any(c["revenue"]["value"] > 0 for c in demo_channels))
        self.assertGreater(len([s for s in data["stages"] if s["reached"]["value"]]), 2)
        self.assertTrue(data["lost_reasons"])
        self.assertGreater(data["response"]["answered"]["value"], 0)
        self.assertGreater(data["response"]["p90"], 0)
        self.assertGreater(data["response"]["breached"]["value"] + data["response"]["late"]["value"], 0)
        self.assertGreater(data["response"]["compliance"], 0)
        demo_agents = [a for a in data["agents"] if a["team"].startswith("Hartanah Demo")]
        self.assertEqual(len(demo_agents), 12)
        self.assertTrue(any(a["open"]["value"] for a in demo_agents))
        self.assertGreaterEqual(data["away"]["value"], 1)
        self.assertGreater(data["queue"]["overdue"]["value"], 0)
        self.assertEqual(len([f for f in data["fairness"] if f["name"].startswith("Hartanah Demo")]), 3)
        kl = self.env.ref("lead_dashboard.demo_team_kl")
        team_data = self.env["lead.dashboard"].get_dashboard_data(
            fields.Date.to_string(today - timedelta(days=60)), fields.Date.to_string(today), kl.id)
        self.assertGreater(team_data["totals"]["leads"]["value"], 50)

    def test_nurture_alive_and_agrees(self):
        """The agency's own sequences enrolled, e-mailed, were answered and led
        to sales; the dashboard's nurture tile and the Nurture report agree
        with the leads and the log. The shipped sequences stay off."""
        self.assertFalse(self.env.ref("lead_sla.nurture_sequence_cold").active)
        self.assertFalse(self.env.ref("lead_sla.nurture_sequence_lost").active)
        sequences = self.env.ref("lead_dashboard.demo_nurture_sequence_cold") \
            | self.env.ref("lead_dashboard.demo_nurture_sequence_lost")
        self.assertTrue(all(sequences.mapped("active")))
        kl = self.env.ref("lead_dashboard.demo_team_kl")
        today = fields.Date.context_today(self.env["lead.dashboard"])
        tile = self.env["lead.dashboard"].get_dashboard_data(
            fields.Date.to_string(today - timedelta(days=61)), fields.Date.to_string(today), kl.id)["nurture"]
        kl_leads = self.leads.filtered(lambda lead: lead.team_id == kl)
        enrolled = kl_leads.filtered("nurture_sequence_id")
        replied = enrolled.filtered(lambda lead: lead.nurture_stop_reason == "replied")
        won = enrolled.filtered(lambda lead: lead.active and lead.probability == 100)
        self.assertEqual(tile["enrolled"]["value"], len(enrolled))
        self.assertEqual(tile["replied"]["value"], len(replied))
        self.assertEqual(tile["won"]["value"], len(won))
        self.assertTrue(enrolled and replied and won, (len(enrolled), len(replied), len(won)))
        # the Nurture report (all three teams) against the leads and the log
        nurtured = self.leads.filtered("nurture_sequence_id")
        self.assertEqual(nurtured.nurture_sequence_id, sequences, "both sequences enrolled leads")
        [(enrolled_n, sent_n, replied_n, won_n)] = [tuple(row) for row in self.env["lead.nurture.report"]._read_group(
            [("sequence_id", "in", sequences.ids)], [], ["enrolled:sum", "sent:sum", "replied:sum", "won:sum"])]
        Log = self.env["lead.nurture.log"]
        mine = [("sequence_id", "in", sequences.ids)]
        # a cold lead later lost is enrolled again, in the lost sequence
        self.assertEqual(enrolled_n, Log.search_count(mine + [("kind", "=", "enrolled")]))
        self.assertGreaterEqual(enrolled_n, len(nurtured))
        stops = Log.search(mine + [("kind", "=", "stopped"), ("stop_reason", "=", "replied")])
        self.assertEqual(replied_n, len(stops))
        self.assertGreaterEqual(replied_n, len(nurtured.filtered(lambda lead: lead.nurture_stop_reason == "replied")))
        won_enrolments = Log.search(mine + [("kind", "=", "enrolled")]).filtered(
            lambda log: log.lead_id.active and log.lead_id.probability == 100 and log.lead_id.date_closed >= log.date)
        self.assertEqual(won_n, len(won_enrolments))
        self.assertTrue(won_n and sent_n, (won_n, sent_n))
        # the steps went out as e-mails from the owner, dated over the 60 days
        mails = self.env["mail.message"].search([
            ("model", "=", "crm.lead"), ("res_id", "in", nurtured.ids), ("message_type", "=", "email_outgoing")])
        self.assertEqual(len(mails), sent_n)
        self.assertLess(min(mails.mapped("date")), fields.Datetime.now() - timedelta(days=20))
        for mail in mails:
            self.assertIn(mail.author_id.name, mail.body)
            self.assertIn("Hartanah Demo", mail.body)
            for placeholder in ("YourCompany", "Jason Lim", "Syarikat Maju"):
                self.assertNotIn(placeholder, mail.body)
        # "replied": the customer's e-mail answer to a nurture e-mail, through the mail gateway
        for stop in stops:
            answers = stop.lead_id.message_ids.filtered(
                lambda m, s=stop: m.message_type == "email" and m.author_id == s.lead_id.partner_id
                and m.parent_id.message_type == "email_outgoing" and m.date <= s.date)
            self.assertTrue(answers, stop.lead_id.name)
        # a lead of another team is not the demo's to nurture
        other = self.env["crm.lead"].create({
            "name": "Not the agency's", "type": "opportunity", "email_from": "someone@example.com",
            "team_id": self.env.ref("sales_team.team_sales_department").id,
            "user_id": self.env.ref("base.user_admin").id})
        self.assertEqual(other.lead_tier, "cold")
        other.action_lead_sla_mark_contacted("Called the customer, will send the brochure")
        self.assertFalse(other.nurture_sequence_id)

    def test_messenger_instagram_contacts_named(self):
        """The Graph name job's answer applied: no placeholder left on the
        agency's Messenger / Instagram contacts and their leads."""
        chat = self.leads.filtered(lambda lead: lead.channel_id.channel_type in ("messenger", "instagram"))
        self.assertGreater(len(chat), 20)
        for lead in chat:
            for text in (lead.partner_id.name, lead.contact_name, lead.name):
                self.assertNotRegex(text or "", r"(Messenger|Instagram) user \d{4}")
            self.assertEqual(lead.contact_name, lead.partner_id.name)
        rows = self.env["lead.channel.contact.name"].sudo().search([("channel_id", "in", chat.channel_id.ids)])
        self.assertEqual(set(rows.mapped("state")), {"done"})
        self.assertEqual(set(rows.mapped("name")), set(chat.partner_id.mapped("name")))

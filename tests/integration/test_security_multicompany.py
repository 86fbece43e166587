"""Security audit: the configuration of company A never touches a lead of company B,
and A's people never see B's figures."""
from datetime import date

from odoo.tests import new_test_user

from odoo.addons.lead_channels.core import meta

from .common import SuiteTransactionCase

HOT = {"phone": "+60 12-345 6789", "lead_budget": 5000, "lead_timeline": "week",
       "lead_meeting_requested": True}


class TestMultiCompany(SuiteTransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company_a = cls.env.company
        cls.company_a.country_id = cls.env.ref("base.my")
        cls.company_b = cls.env["res.company"].create({"name": "Company B Sdn Bhd",
                                                       "country_id": cls.env.ref("base.my").id})
        cls.env["lead.routing.rule"].search([]).active = False
        cls.agent_a = new_test_user(cls.env, "mc_agent_a", groups="sales_team.group_sale_salesman_all_leads",
                                    company_id=cls.company_a.id, company_ids=[(6, 0, cls.company_a.ids)])
        cls.manager_a = new_test_user(cls.env, "mc_manager_a", groups="sales_team.group_sale_manager",
                                      company_id=cls.company_a.id, company_ids=[(6, 0, cls.company_a.ids)])
        cls.agent_b = new_test_user(cls.env, "mc_agent_b", groups="sales_team.group_sale_salesman_all_leads",
                                    company_id=cls.company_b.id, company_ids=[(6, 0, cls.company_b.ids)])
        cls.team_a = cls.env["crm.team"].create({"name": "Team A", "company_id": cls.company_a.id,
                                                 "member_ids": [(6, 0, cls.agent_a.ids)]})
        cls.team_b = cls.env["crm.team"].create({"name": "Team B", "company_id": cls.company_b.id,
                                                 "member_ids": [(6, 0, cls.agent_b.ids)]})
        cls.Lead = cls.env["crm.lead"]

    def lead_b(self, **vals):
        return self.Lead.with_company(self.company_b).create(dict(
            {"name": "Lead of B", "type": "lead", "company_id": self.company_b.id,
             "team_id": self.team_b.id}, **vals))

    def test_scoring_rule_of_a_scores_no_lead_of_b(self):
        self.env["lead.scoring.rule"].create({"name": "Company A bonus", "points": 40, "domain": "[]",
                                              "company_id": self.company_a.id})
        lead_a = self.Lead.create({"name": "Lead of A", "type": "lead", "company_id": self.company_a.id,
                                   "team_id": self.team_a.id})
        lead_b = self.lead_b()
        self.env.flush_all()
        self.assertIn("Company A bonus", lead_a.lead_score_detail or "", "the rule works in its company")
        self.assertNotIn("Company A bonus", lead_b.lead_score_detail or "")
        self.assertEqual(lead_a.lead_score - lead_b.lead_score, 40)

    def test_routing_rule_of_a_routes_no_lead_of_b(self):
        self.company_a.lead_distribution_instant = True
        self.company_b.lead_distribution_instant = True
        self.env["lead.routing.rule"].create({"name": "A: everything", "team_id": self.team_a.id,
                                              "company_id": self.company_a.id, "domain": "[]"})
        lead_a = self.Lead.create({"name": "Lead of A", "type": "lead", "company_id": self.company_a.id})
        lead_b = self.lead_b(team_id=False, user_id=False)  # waits for B's own routing
        self.assertEqual(lead_a.user_id, self.agent_a, "A's rule routes A's lead")
        self.assertFalse(lead_b.user_id, "A's rule never gives B's lead to A's agent")
        self.assertNotEqual(lead_b.team_id, self.team_a)
        self.assertFalse(lead_b.lead_assignment_log_ids)

    def test_sla_policy_of_a_clocks_no_lead_of_b(self):
        policy_a = self.env["lead.sla.policy"].create({"name": "A: 7 minutes", "sequence": 1, "domain": "[]",
                                                       "response_minutes": 7, "warn_minutes": 3,
                                                       "company_id": self.company_a.id})
        lead_a = self.Lead.create(dict(HOT, name="Lead of A", type="opportunity", user_id=self.agent_a.id,
                                       team_id=self.team_a.id, company_id=self.company_a.id))
        lead_b = self.lead_b(user_id=self.agent_b.id, **HOT)
        self.assertEqual(lead_a.sla_policy_id, policy_a)
        self.assertNotEqual(lead_b.sla_policy_id, policy_a, "B's lead never runs on A's clock")

    def test_channel_of_a_never_posts_on_a_lead_of_b(self):
        lead_b = self.lead_b(phone="+60123456789", partner_name="Ahmad in B")
        messages_b = len(lead_b.message_ids)
        channel_a = self.env["lead.channel"].create({
            "name": "WA of A", "channel_type": "whatsapp", "company_id": self.company_a.id,
            "team_id": self.team_a.id})
        delivery = {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp", "metadata": {"phone_number_id": "P"},
                "contacts": [{"profile": {"name": "Ahmad"}, "wa_id": "60123456789"}],
                "messages": [{"from": "60123456789", "id": "wamid.MC1", "timestamp": "1763880000",
                              "type": "text", "text": {"body": "Still available?"}}]}}]}]}
        Event = self.env["lead.channel.event"].sudo()
        new_ids, _dups = Event._store(channel_a.id, meta.split_delivery(delivery))
        Event.browse(new_ids)._process()
        event = Event.browse(new_ids)
        self.assertEqual(event.state, "done")
        self.assertEqual(event.lead_id.company_id, self.company_a, "a new lead in A")
        self.assertNotEqual(event.lead_id, lead_b)
        self.assertEqual(len(lead_b.message_ids), messages_b, "B's lead got no message from A's channel")
        self.assertNotEqual(event.lead_id.partner_id.company_id, self.company_b)

    def test_people_of_a_never_see_figures_of_b(self):
        channel_b = self.env["lead.channel"].create({"name": "Form of B", "channel_type": "web_form",
                                                     "company_id": self.company_b.id})
        lead_b = self.lead_b(user_id=self.agent_b.id, channel_id=channel_b.id, **HOT)
        self.env["lead.assignment.log"].create({
            "lead_id": lead_b.id, "user_id": self.agent_b.id, "team_id": self.team_b.id,
            "company_id": self.company_b.id, "kind": "manual", "reason": "by hand"})
        self.env["lead.distribution.share"].create({
            "date": date(2026, 11, 2), "team_id": self.team_b.id, "user_id": self.agent_b.id,
            "company_id": self.company_b.id, "expected": 1.0, "received": 1})
        self.env.flush_all()
        reports = {"lead.sla.report": [("lead_id", "=", lead_b.id)],
                   "lead.channel.report": [("lead_id", "=", lead_b.id)],
                   "lead.assignment.log": [("lead_id", "=", lead_b.id)],
                   "lead.distribution.fairness": [("team_id", "=", self.team_b.id)],
                   "lead.channel": [("id", "=", channel_b.id)]}
        for model, domain in reports.items():
            self.assertTrue(self.env[model].with_user(self.agent_b).search(domain),
                            "%s shows B's row to B (else this proves nothing)" % model)
            for user in (self.agent_a, self.manager_a):
                self.assertFalse(self.env[model].with_user(user).search(domain),
                                 "%s shows B's row to %s of A" % (model, user.login))

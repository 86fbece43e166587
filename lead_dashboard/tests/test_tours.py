"""The journeys of issue 14 in a real browser (web_tour, headless Chromium),
on the demo agency of the test database: an agent on a phone, an
administrator in Settings, a Malay-speaking salesperson."""
import json
import time

from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.lead_channels.core import meta
from odoo.addons.lead_channels.tests.common import GraphServer


class DemoTourCase(HttpCase):

    def setUp(self):
        super().setUp()
        self.team_kl = self.env.ref("lead_dashboard.demo_team_kl", raise_if_not_found=False)
        if not self.team_kl:
            self.skipTest("database without demo data")


@tagged("post_install", "-at_install", "is_tour")
class TestAgentPhoneTour(DemoTourCase):
    """An agent on a phone opens a WhatsApp lead from the pipeline, replies
    through the Reply composer (sent to Graph, here a real HTTP server on
    127.0.0.1) and marks a walk-in lead contacted."""
    browser_size = "390x844"
    touch_enabled = True

    def setUp(self):
        super().setUp()
        self.graph = GraphServer()
        self.addCleanup(self.graph.stop)
        self.channel = self.env.ref("lead_dashboard.demo_channel_wa_kl")
        self.channel.write({"graph_url": self.graph.url, "access_token": "tour-token"})
        self.graph.routes[("POST", "/v21.0/%s/messages" % self.channel.wa_phone_number_id)] = (
            200, {"messaging_product": "whatsapp", "messages": [{"id": "wamid.TOUR-REPLY"}]})
        self.agent = new_test_user(self.env, login="tour_agent", name="Tour Agent Zulkifli",
                                   tz="Asia/Kuala_Lumpur", groups="sales_team.group_sale_salesman")
        self.env["crm.team.member"].create({"crm_team_id": self.team_kl.id, "user_id": self.agent.id})

    def _whatsapp_lead(self):
        """A customer writes now on the demo's WhatsApp channel (the webhook's
        storage and the inbox job's processing): the 24-hour window is open."""
        epoch = int(time.time())
        payload = {"object": "whatsapp_business_account", "entry": [{"id": "WABA-DEMO", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "60380001000",
                             "phone_number_id": self.channel.wa_phone_number_id},
                "contacts": [{"profile": {"name": "Siti Tour"}, "wa_id": "60123339876"}],
                "messages": [{"from": "60123339876", "id": "wamid.TOUR-IN", "timestamp": str(epoch),
                              "type": "text", "text": {"body": "Salam, unit Mont Kiara masih ada?"}}]}}]}]}
        Event = self.env["lead.channel.event"].sudo()
        ids, _dup = Event._store(self.channel.id, meta.split_delivery(payload))
        Event._process_chunk(ids)
        lead = Event.browse(ids).lead_id
        self.assertEqual(len(lead), 1)
        lead.write({"user_id": self.agent.id, "team_id": self.team_kl.id})
        return lead

    def test_agent_replies_and_marks_contacted_on_a_phone(self):
        chat = self._whatsapp_lead()
        self.assertTrue(chat.wa_window_open)
        walk_in = self.env["crm.lead"].create({
            "name": "Walk-in: Encik Rahim, Bangsar South", "type": "opportunity",
            "user_id": self.agent.id, "team_id": self.team_kl.id, "phone": "+60123334444"})
        self.assertFalse(walk_in.sla_first_response_date)
        self.env.flush_all()

        self.start_tour("/odoo/crm", "lead_dashboard_agent_phone_tour", login="tour_agent")

        sent = [r for r in self.graph.requests if r["method"] == "POST"]
        self.assertEqual(len(sent), 1, "one message sent to WhatsApp")
        body = json.loads(sent[0]["body"])
        self.assertEqual(body["to"], "60123339876")
        self.assertEqual(body["text"]["body"], "Boleh, unit masih ada. Viewing Sabtu ini?")
        self.assertEqual(sent[0]["headers"].get("Authorization"), "Bearer tour-token")
        reply = chat.message_ids.filtered(lambda m: m.wa_message_id == "wamid.TOUR-REPLY")
        self.assertEqual(reply.author_id, self.agent.partner_id, "posted as the agent's reply")
        self.assertTrue(chat.sla_first_response_date, "the reply is the first response")
        self.assertFalse(chat.channel_awaiting_reply)
        self.assertTrue(walk_in.sla_first_response_date, "marked contacted")
        self.assertIn("Called, viewing on Saturday at 11am", " ".join(walk_in.message_ids.mapped("body")))


@tagged("post_install", "-at_install", "is_tour")
class TestAdminSettingsTour(DemoTourCase):
    """An administrator opens CRM's Settings, edits a routing rule and an SLA
    policy of the demo agency."""

    def test_admin_edits_a_routing_rule_and_an_sla_policy(self):
        rule = self.env["lead.routing.rule"].search([("name", "=", "Hartanah Demo Penang: round robin")])
        policy = self.env["lead.sla.policy"].search([("name", "=", "Hartanah Demo Hot")])
        self.assertEqual((rule.strategy, policy.response_minutes), ("round_robin", 5))

        self.start_tour("/odoo/action-crm.crm_config_settings_action", "lead_dashboard_admin_settings_tour",
                        login="admin")

        self.assertEqual(rule.strategy, "least_loaded")
        self.assertEqual(policy.response_minutes, 10)


@tagged("post_install", "-at_install", "is_tour")
class TestMalayPipelineTour(DemoTourCase):
    """A salesperson whose language is Malay sees the pipeline in Malay."""

    def setUp(self):
        super().setUp()
        # the activation is rolled back with the test, but the registry's language
        # caches would keep ms_MY for the tests that follow (crm's query counts)
        self.addCleanup(self.registry.clear_cache)
        self.env["res.lang"]._activate_lang("ms_MY")
        self.env["ir.module.module"].search([
            ("name", "in", ("lead_scoring", "lead_distribution", "lead_sla", "lead_channels", "lead_dashboard")),
            ("state", "=", "installed")])._update_translations(["ms_MY"], overwrite=True)
        self.user = new_test_user(self.env, login="tour_malay", name="Nurul Tour", lang="ms_MY",
                                  tz="Asia/Kuala_Lumpur", groups="sales_team.group_sale_salesman")
        self.env["crm.team.member"].create({"crm_team_id": self.team_kl.id, "user_id": self.user.id})
        self.lead = self.env["crm.lead"].create({
            "name": "Rumah teres Shah Alam", "type": "opportunity", "user_id": self.user.id,
            "team_id": self.team_kl.id})

    def test_malay_user_sees_the_pipeline_in_malay(self):
        self.assertEqual(self.lead.lead_tier, "cold", "shown as 'Sejuk' on the card")
        self.start_tour("/odoo/crm", "lead_dashboard_malay_pipeline_tour", login="tour_malay")

"""One lead's journey through the four addons, over real HTTP.

WhatsApp delivery (signed, over HTTP) -> inbox -> lead found or created ->
scored -> routed by the first matching rule -> SLA clock for the owner ->
the owner's WhatsApp reply stops the clock; a silent owner breaches and the
lead is rerouted with a fresh clock.
"""
import json
import time
from datetime import timedelta

from odoo.tests import new_test_user, tagged

from odoo.addons.lead_channels.core.signature import compute_signature
from odoo.addons.lead_channels.tests.common import GraphServer

from .common import SuiteHttpCase

SECRET = "journey-secret"


@tagged("post_install", "-at_install", "lead_suite")
class TestLeadJourney(SuiteHttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        # this journey is about routing rules: leads no rule matches stay unassigned
        # (not shared in their team, the out-of-box fallback)
        env.company.write({"country_id": env.ref("base.my").id, "lead_distribution_fallback": "unassigned",
                           "lead_hot_threshold": 20, "lead_warm_threshold": 5})
        env["lead.routing.rule"].search([]).active = False
        cls.leader = new_test_user(env, "journey_leader", name="Lina Leader",
                                   groups="sales_team.group_sale_manager", email="lina@example.com")
        cls.ali = new_test_user(env, "journey_ali", name="Ali", tz="UTC",
                                groups="sales_team.group_sale_salesman", email="ali@example.com")
        cls.siti = new_test_user(env, "journey_siti", name="Siti", tz="UTC",
                                 groups="sales_team.group_sale_salesman", email="siti@example.com")
        cls.team = env["crm.team"].create({"name": "WhatsApp Sales", "user_id": cls.leader.id})
        for user in (cls.ali, cls.siti):
            env["crm.team.member"].create({"crm_team_id": cls.team.id, "user_id": user.id})
        cls.rule = env["lead.routing.rule"].create({
            "name": "Hot to the team", "sequence": 1, "team_id": cls.team.id,
            "domain": "[('lead_tier', '=', 'hot')]", "strategy": "round_robin",
            "fallback": "unassigned"})
        hot = env.ref("lead_sla.sla_policy_hot")
        hot.write({"reassign_on_breach": True, "max_reassign": 1, "calendar_id": False})
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        cls.channel = env["lead.channel"].create({
            "name": "WhatsApp", "channel_type": "whatsapp", "app_secret": SECRET,
            "verify_token": "v", "access_token": "token", "wa_phone_number_id": "PNID1",
            "graph_url": cls.graph.url, "team_id": cls.team.id})

    def _deliver(self, wamid, wa_id, text, name="Customer"):
        payload = {"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{
            "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "60380001000", "phone_number_id": "PNID1"},
                "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                "messages": [{"from": wa_id, "id": wamid, "timestamp": str(int(time.time())),
                              "type": "text", "text": {"body": text}}]}}]}]}
        body = json.dumps(payload, ensure_ascii=False).encode()
        response = self.url_open(
            "/lead_channels/meta/%s" % self.channel.token, data=body,
            headers={"Content-Type": "application/json",
                     "X-Hub-Signature-256": compute_signature(SECRET, body)})
        self.assertEqual(response.status_code, 200, response.text)
        events = self.env["lead.channel.event"].sudo().search([("state", "=", "new")])
        events._process()
        return events

    def _lead_of(self, wa_id):
        return self.env["crm.lead"].search([("channel_contact_ref", "=", wa_id)])

    def test_whatsapp_enquiry_to_first_response(self):
        self._deliver("wamid.A1", "60123456789", "Hi, is the condo still available?", "Aisyah")
        lead = self._lead_of("60123456789")
        self.assertEqual(len(lead), 1)
        self.assertEqual(lead.phone_sanitized, "+60123456789")
        self.assertEqual(lead.lead_inbound_count, 1)
        self.assertEqual((lead.lead_score, lead.lead_tier), (10, "warm"))

        # replying twice is a signal of its own (hot threshold is 20 here)
        self._deliver("wamid.A2", "60123456789", "Can I view it this Saturday?", "Aisyah")
        lead.invalidate_recordset()
        self.assertEqual(len(self._lead_of("60123456789")), 1, "same sender, same lead")
        self.assertEqual(lead.lead_inbound_count, 2)
        self.assertEqual(lead.lead_tier, "hot")
        # unassigned (no rule matched the warm first message) and hot before any
        # answer: the hot rule takes it at once (issues 11 and 18)
        self.assertIn(lead.user_id, self.ali | self.siti)
        self.assertEqual(lead.lead_assignment_log_ids.kind, "auto")

        # a new hot enquiry is routed at creation and its clock starts
        self._deliver("wamid.B1", "60198765432", "Price please", "Ben")
        self.env.company.lead_hot_threshold = 10
        self._deliver("wamid.C1", "60123334444", "Viewing tomorrow?", "Chong")
        chong = self._lead_of("60123334444")
        self.assertEqual(chong.lead_tier, "hot")
        self.assertIn(chong.user_id, self.ali | self.siti)
        self.assertEqual(chong.team_id, self.team)
        log = self.env["lead.assignment.log"].search([("lead_id", "=", chong.id)])
        self.assertEqual(log.kind, "auto")
        self.assertEqual(log.rule_id, self.rule)
        self.assertEqual(chong.sla_policy_id, self.env.ref("lead_sla.sla_policy_hot"))
        self.assertEqual(chong.sla_status, "running")
        self.assertEqual(chong.sla_deadline - chong.sla_start, timedelta(minutes=5))

        # the owner answers on WhatsApp from Odoo: the clock stops
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (
            200, {"messages": [{"id": "wamid.OUT1"}]})
        composer = self.env["lead.channel.whatsapp.composer"].with_user(chong.user_id).create({
            "lead_id": chong.id, "body": "Hello Chong, yes: 10am works?"})
        composer.action_send()
        chong.invalidate_recordset()
        self.assertEqual(chong.sla_status, "met")
        self.assertTrue(chong.sla_first_response_date)
        sent = self.graph.requests[-1]
        self.assertEqual(json.loads(sent["body"])["to"], "60123334444")

        # a delivery Meta retries changes nothing
        self._deliver("wamid.C1", "60123334444", "Viewing tomorrow?", "Chong")
        self.assertEqual(len(self._lead_of("60123334444")), 1)
        events = self.env["lead.channel.event"].sudo().search([("external_id", "=", "wamid.C1")])
        self.assertEqual(sorted(events.mapped("state")), ["done", "duplicate"])
        chong.invalidate_recordset()
        self.assertEqual(chong.lead_inbound_count, 1)

    def test_silent_owner_breaches_and_the_lead_is_rerouted(self):
        self.env.company.lead_hot_threshold = 10
        self._deliver("wamid.D1", "60122222222", "Is delivery free?", "Devi")
        lead = self._lead_of("60122222222")
        first_owner = lead.user_id
        self.assertTrue(first_owner)
        deadline = lead.sla_deadline
        warned, breached = self.env["crm.lead"]._lead_sla_sweep(now=deadline - timedelta(minutes=1))
        self.assertIn(lead, warned)
        self.assertEqual(lead.sla_status, "warning")
        warned, breached = self.env["crm.lead"]._lead_sla_sweep(now=deadline + timedelta(seconds=30))
        self.assertIn(lead, breached)
        lead.invalidate_recordset()
        self.assertNotEqual(lead.user_id, first_owner, "rerouted away from the silent owner")
        self.assertIn(lead.user_id, self.ali | self.siti)
        self.assertEqual(lead.sla_breach_count, 1)
        self.assertEqual(lead.sla_status, "running", "a fresh clock for the new owner")
        logs = self.env["lead.assignment.log"].search([("lead_id", "=", lead.id)], order="id")
        self.assertEqual(logs.mapped("kind"), ["auto", "sla"])
        self.assertEqual(logs[-1].previous_user_id, first_owner)

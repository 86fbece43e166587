"""Buying signals read from WhatsApp messages, end to end (issue 18).

Signed WhatsApp delivery over HTTP -> inbox (its chunk path) -> lead created
and the message posted -> the reader fills budget / timeline / viewing ->
scored hot, and the chatter note.
"""
import json
import time
from odoo.tests import new_test_user, tagged

from odoo.addons.lead_channels.core.signature import compute_signature

from .common import SuiteHttpCase

SECRET = "signals-secret"
EXAMPLE = "Hi, is the Mont Kiara unit still available? Budget RM 800k, can I view it this Saturday?"


@tagged("post_install", "-at_install", "lead_suite")
class TestSignalsOverWhatsApp(SuiteHttpCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.ref("base.MYR").active = True
        env.company.write({"country_id": env.ref("base.my").id, "lead_read_signals": True,
                           "currency_id": env.ref("base.MYR").id,
                           "lead_hot_threshold": 60, "lead_warm_threshold": 30,
                           "lead_budget_fit_min": 0})
        env["lead.routing.rule"].search([]).active = False
        cls.senior = new_test_user(env, "signals_senior", name="Sofia Senior", tz="UTC",
                                   groups="sales_team.group_sale_salesman", email="sofia@example.com")
        cls.team = env["crm.team"].create({"name": "Senior team"})
        env["crm.team.member"].create({"crm_team_id": cls.team.id, "user_id": cls.senior.id})
        cls.rule = env["lead.routing.rule"].create({
            "name": "Hot leads to the senior team", "sequence": 1, "team_id": cls.team.id,
            "domain": "[('lead_tier', '=', 'hot')]", "strategy": "round_robin",
            "fallback": "unassigned"})
        env.ref("lead_sla.sla_policy_hot").calendar_id = False
        cls.channel = env["lead.channel"].create({
            "name": "WhatsApp", "channel_type": "whatsapp", "app_secret": SECRET,
            "verify_token": "v", "access_token": "token", "wa_phone_number_id": "PNID1"})

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
        # the inbox job's own path: a chunk, its messages posted together, and
        # the new leads routed as the chunk commits (a flush runs that here)
        events = self.env["lead.channel.event"].sudo().search([("state", "=", "new")])
        self.env["lead.channel.event"].sudo()._process_chunk(events.ids)
        self.env.cr.flush()
        lead = self.env["crm.lead"].search([("channel_contact_ref", "=", wa_id)])
        lead.invalidate_recordset()
        return lead

    def _note(self, lead):
        return lead.message_ids.filtered(lambda m: "Read from the customer" in (m.body or ""))

    def test_the_hot_first_message_is_read_scored_and_noted(self):
        lead = self._deliver("wamid.S1", "60123456789", EXAMPLE, "Aisyah")
        self.assertEqual(len(lead), 1)
        self.assertEqual(lead.lead_budget, 800000)
        self.assertTrue(lead.lead_meeting_requested)
        self.assertEqual(lead.lead_timeline, "week")
        self.assertEqual((lead.lead_score, lead.lead_tier), (70, "hot"))
        # the hot-lead rule and the 5-minute clock follow at once: the lead,
        # created before its first message was read, is routed when it turns hot
        self.assertEqual(lead.user_id, self.senior)
        log = self.env["lead.assignment.log"].search([("lead_id", "=", lead.id)])
        self.assertEqual((log.rule_id, log.kind), (self.rule, "auto"))
        self.assertEqual(lead.sla_policy_id, self.env.ref("lead_sla.sla_policy_hot"))
        self.assertAlmostEqual((lead.sla_deadline - lead.sla_start).total_seconds(), 300, delta=1)
        self.assertIn("budget RM 800,000 ('Budget RM 800k'); viewing requested "
                      "('can I view it this Saturday')", self._note(lead).body)

    def test_malay_manglish_and_chinese_messages(self):
        cases = [
            ("60111111111", "Salam, bajet saya 650 ribu je. Boleh tengok rumah tu esok?",
             {"lead_budget": 650000, "lead_meeting_requested": True, "lead_timeline": "week"}),
            ("60122222222", "boss got unit below rm500k? nk beli bln dpn",
             {"lead_budget": 500000, "lead_meeting_requested": False, "lead_timeline": "month"}),
            ("60133333333", "预算80万，下个月想看房",
             {"lead_budget": 800000, "lead_meeting_requested": True, "lead_timeline": "month"}),
            ("60144444444", "Is unit 12-3A (1,200 sqft) still available? Call 012-345 6789",
             {"lead_budget": 0, "lead_meeting_requested": False, "lead_timeline": "unknown"}),
        ]
        for index, (wa_id, text, expected) in enumerate(cases):
            lead = self._deliver("wamid.M%d" % index, wa_id, text)
            for field, value in expected.items():
                self.assertEqual(lead[field], value, "%s of %r" % (field, text))
            self.assertEqual(bool(self._note(lead)), expected["lead_budget"] > 0, text)

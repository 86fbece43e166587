"""Issue 17.1: a walk-in captured by the agent who ends up owning the lead is
that lead's first response (lead_channels posts it as a message lead_sla counts)."""
from odoo.tests import new_test_user, tagged

from .common import SuiteTransactionCase


@tagged("post_install", "-at_install", "lead_suite")
class TestCaptureFirstResponse(SuiteTransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.company.country_id = env.ref("base.my")
        env["lead.routing.rule"].search([]).active = False
        cls.ali = new_test_user(env, "capture_ali", name="Ali", tz="UTC",
                                groups="sales_team.group_sale_salesman", email="ali@example.com")
        cls.siti = new_test_user(env, "capture_siti", name="Siti", tz="UTC",
                                 groups="sales_team.group_sale_salesman", email="siti@example.com")
        cls.team = env["crm.team"].create({"name": "Showroom"})
        env["crm.team.member"].create({"crm_team_id": cls.team.id, "user_id": cls.ali.id})
        env["lead.routing.rule"].create({
            "name": "Walk-ins to the showroom", "sequence": 1, "team_id": cls.team.id,
            "domain": "[('channel_id.channel_type', '=', 'walk_in')]", "strategy": "round_robin",
            "fallback": "unassigned"})
        cls.walk_in = env["lead.channel"].create({"name": "Showroom", "channel_type": "walk_in",
                                                  "team_id": cls.team.id})

    def capture(self, user, **values):
        wizard = self.env["lead.channel.quick.capture"].with_user(user).create(
            dict({"channel_id": self.walk_in.id}, **values))
        wizard.action_capture()
        return self.env["crm.lead"].search([("channel_id", "=", self.walk_in.id)], order="id desc", limit=1)

    def test_owner_capturing_a_walk_in_has_responded(self):
        lead = self.capture(self.ali, name="Encik Rahman", phone="012-345 6789", message="3-room unit")
        self.assertEqual(lead.user_id, self.ali, "routed to the only showroom agent")
        self.assertTrue(lead.sla_first_response_date, "Ali spoke to the customer: the clock stops")
        self.assertEqual(lead.sla_first_response_kind, "message")

    def test_capture_for_a_colleague_is_no_response(self):
        lead = self.capture(self.siti, name="Encik Rahman", phone="012-345 6789", message="3-room unit")
        self.assertEqual(lead.user_id, self.ali)
        self.assertFalse(lead.sla_first_response_date, "Siti's note does not answer for Ali")

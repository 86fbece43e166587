from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import HOT, LeadDistributionCase


@tagged("post_install", "-at_install")
class TestAgentAvailability(LeadDistributionCase):
    """Issue 11.6: agents switch themselves away and back."""

    def test_salesperson_switches_themselves_from_the_pipeline(self):
        action = self.Lead.with_user(self.ali).action_lead_toggle_my_availability()
        self.assertFalse(self.m_ali.lead_available)
        self.assertIn("You are now away", action["params"]["message"])
        self.assertTrue(self.m_siti.lead_available and self.m_bo.lead_available)
        self._rule()
        self.assertNotIn(self.ali, self._owners(self._leads(4)), "away: no lead routed to Ali")
        action = self.Lead.with_user(self.ali).action_lead_toggle_my_availability()
        self.assertTrue(self.m_ali.lead_available)
        self.assertIn("You are back", action["params"]["message"])

    def test_salesperson_switches_their_own_membership(self):
        self.m_ali.with_user(self.ali).action_lead_toggle_available()
        self.assertFalse(self.m_ali.lead_available)

    def test_salesperson_cannot_switch_a_colleague(self):
        with self.assertRaisesRegex(AccessError, "Only a sales manager can switch the availability "
                                                 "of a colleague: Siti must do it themselves"):
            self.m_siti.with_user(self.ali).action_lead_toggle_available()
        self.assertTrue(self.m_siti.lead_available, "nothing changed")
        # not even mixed with their own membership
        with self.assertRaises(AccessError):
            (self.m_ali | self.m_siti).with_user(self.ali).action_lead_toggle_available()
        self.assertTrue(self.m_ali.lead_available and self.m_siti.lead_available)
        # nor by writing the switch directly (sales_team's access rights)
        with self.assertRaises(AccessError):
            self.m_siti.with_user(self.ali).write({"lead_available": False})

    def test_manager_switches_a_colleague(self):
        action = self.m_siti.with_user(self.manager).action_lead_toggle_available()
        self.assertFalse(self.m_siti.lead_available)
        self.assertIn("Siti is now away", action["params"]["message"])

    def test_user_without_team_is_told_what_to_do(self):
        loner = new_test_user(self.env, login="ld_loner", name="Loner",
                              groups="sales_team.group_sale_salesman,base.group_user")
        self.env["crm.team.member"].search([("user_id", "=", loner.id)]).unlink()
        with self.assertRaisesRegex(UserError, "not a member of any sales team"):
            self.Lead.with_user(loner).action_lead_toggle_my_availability()

    def test_going_away_offers_unanswered_hot_leads_to_the_pool(self):
        rule = self._rule()
        Lead = self.Lead.with_context(lead_distribution_no_route=True)
        hot = Lead.create(dict(HOT, name="Hot one", user_id=self.ali.id, team_id=self.team.id))
        warm = Lead.create({"name": "Warm one", "user_id": self.ali.id, "team_id": self.team.id,
                            "phone": "+60123456789", "email_from": "warm@example.com"})
        self.assertEqual(hot.lead_tier, "hot")
        self.assertNotEqual(warm.lead_tier, "hot")
        action = self.Lead.with_user(self.ali).action_lead_toggle_my_availability()
        self.assertIn(hot.user_id, self.siti | self.bo, "the hot lead went to someone available")
        self.assertEqual(warm.user_id, self.ali, "other leads wait for Ali's clock as today")
        log = hot.lead_assignment_log_ids[:1]
        self.assertEqual((log.kind, log.previous_user_id, log.rule_id), ("sla", self.ali, rule))
        self.assertIn("Ali went away", log.reason)
        self.assertIn("1 unanswered hot lead(s) offered", action["params"]["message"])
        # coming back does not take leads back
        self.Lead.with_user(self.ali).action_lead_toggle_my_availability()
        self.assertNotEqual(hot.user_id, self.ali)

    def test_managers_see_who_is_away_in_the_members_list(self):
        self.m_bo.with_user(self.bo).action_lead_toggle_available()
        view = self.env["crm.team"].with_user(self.manager).get_views([(False, "form")])
        arch = view["views"]["form"]["arch"]
        self.assertIn('decoration-muted="not lead_available"', arch)
        self.assertEqual(self.team.crm_team_member_ids.filtered(lambda m: not m.lead_available), self.m_bo)
        away = self.env["crm.team.member"].with_user(self.manager).search(
            [("crm_team_id", "=", self.team.id), ("lead_available", "=", False)])
        self.assertEqual(away, self.m_bo)

    def test_pipeline_has_the_button_for_salespeople(self):
        action = self.env.ref("crm.crm_lead_action_pipeline")
        arch = self.Lead.with_user(self.ali).get_views(
            [(action.view_id.id or False, "kanban")])["views"]["kanban"]["arch"]
        self.assertIn('name="action_lead_toggle_my_availability"', arch)
        self.assertIn('display="always"', arch)
        # one header only: the kanban keeps the last one's buttons
        self.assertEqual(arch.count("<header"), 1)

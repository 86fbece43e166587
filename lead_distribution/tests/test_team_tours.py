from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestTeamTours(HttpCase):
    """In the browser: the members list of the team form (17.8) and the
    pipeline's away button (11.6) work without debug mode."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, login="ld_tour_manager", name="Mona Manager",
                                    groups="sales_team.group_sale_manager,base.group_user")
        cls.siti = new_test_user(cls.env, login="ld_tour_siti", name="Siti",
                                 groups="sales_team.group_sale_salesman,base.group_user")
        cls.team = cls.env["crm.team"].create({"name": "Tour Team", "user_id": cls.manager.id})
        cls.member = cls.env["crm.team.member"].create({"crm_team_id": cls.team.id, "user_id": cls.siti.id})

    def test_manager_edits_member_settings_in_team_form(self):
        action = self.env.ref("sales_team.crm_team_action_config")
        self.start_tour("/odoo/action-%s/%s" % (action.id, self.team.id),
                        "lead_distribution_team_members", login="ld_tour_manager")
        self.assertEqual(self.member.lead_max_open, 7)

    def test_agent_goes_away_from_the_pipeline(self):
        self.start_tour("/odoo/action-crm.crm_lead_action_pipeline",
                        "lead_distribution_pipeline_away", login="ld_tour_siti")
        self.assertFalse(self.member.lead_available)

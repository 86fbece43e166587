from lxml import etree

from odoo.tests import Form, tagged

from .common import LeadDistributionCase

ROUTING_COLUMNS = ("lead_weight", "lead_max_open", "lead_available", "lead_skill_ids", "lead_territory_ids")


@tagged("post_install", "-at_install")
class TestTeamFormRouting(LeadDistributionCase):
    """Issue 17.8: per-agent routing settings from the Sales Team form,
    without debug mode."""

    def _members_list(self, user):
        arch = self.env["crm.team"].with_user(user).get_views([(False, "form")])["views"]["form"]["arch"]
        page = etree.fromstring(arch).xpath("//page[@name='lead_distribution']")
        self.assertTrue(page, "the Lead Distribution tab is in the team form")
        return page[0].xpath(".//field[@name='crm_team_member_ids']/list")[0]

    def test_members_list_shows_routing_columns_without_debug_mode(self):
        # get_views drops what the user's groups do not allow; debug mode
        # (base.group_no_one) is not among the manager's groups here
        self.assertFalse(self.manager.has_group("base.group_no_one"))
        members = self._members_list(self.manager)
        self.assertEqual(members.get("editable"), "bottom")
        columns = {f.get("name") for f in members.xpath("./field")}
        for name in ROUTING_COLUMNS + ("lead_performance_tier",):
            self.assertIn(name, columns)
        # agents read the same list (tiers visible to the whole team)
        self.assertIn("lead_performance_tier", {f.get("name") for f in self._members_list(self.ali).xpath("./field")})

    def test_manager_edits_routing_settings_in_the_team_form(self):
        territory = self.env["lead.territory"].create(
            {"name": "Klang Valley", "country_id": self.env.ref("base.my").id})
        with Form(self.team.with_user(self.manager)) as form:
            with form.crm_team_member_ids.edit(1) as row:  # Siti
                row.lead_weight = 1.5
                row.lead_max_open = 12
                row.lead_skill_ids.add(self.mandarin)
                row.lead_territory_ids.add(territory)
        self.assertEqual((self.m_siti.lead_weight, self.m_siti.lead_max_open), (1.5, 12))
        self.assertEqual(self.m_siti.lead_skill_ids, self.mandarin)
        self.assertEqual(self.m_siti.lead_territory_ids, territory)

    def test_weight_is_read_only_with_performance_weighting(self):
        self.team.lead_performance_weighting = True
        with Form(self.team.with_user(self.manager)) as form:
            with form.crm_team_member_ids.edit(0) as row:
                with self.assertRaises(AssertionError):  # read-only in the form
                    row.lead_weight = 3.0
                self.assertIn("Performance not computed yet", row.lead_weight_reason) \
                    if not self.m_ali.lead_performance_tier else self.assertIn("Tier", row.lead_weight_reason)

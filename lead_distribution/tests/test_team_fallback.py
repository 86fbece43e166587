from datetime import datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .common import LeadDistributionCase


@tagged("post_install", "-at_install")
class TestTeamFallback(LeadDistributionCase):
    """Out of the box (no routing rule written), a new lead of a sales team
    without salesperson is shared among the team's available members."""

    def setUp(self):
        super().setUp()
        self.company.lead_distribution_fallback = "team"
        # the inbox creates leads like this: nobody chose a salesperson
        self.Inbox = self.Lead.with_context(default_user_id=False)

    def _captured(self, n, **vals):
        return self.Inbox.create([dict({"name": "Enquiry %s" % i, "type": "lead",
                                        "team_id": self.team.id}, **vals) for i in range(n)])

    def test_new_and_existing_companies_share_in_the_team_by_default(self):
        self.assertEqual(self.env["res.company"].create({"name": "New Co"}).lead_distribution_fallback, "team")
        old = self.env["res.company"].create({"name": "Old Co", "lead_distribution_fallback": "unassigned"})
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("lead_distribution.team_fallback_default", False)  # before the upgrade
        self.env["res.company"]._lead_distribution_share_in_team_by_default()
        self.assertEqual(old.lead_distribution_fallback, "team")
        old.lead_distribution_fallback = "unassigned"  # the admin's later choice is kept
        self.env["res.company"]._lead_distribution_share_in_team_by_default()
        self.assertEqual(old.lead_distribution_fallback, "unassigned")

    def test_no_rule_the_team_shares_by_round_robin(self):
        leads = self._captured(4)
        self.assertEqual(self._owners(leads), [self.ali, self.siti, self.bo, self.ali])
        log = leads[0].lead_assignment_log_ids
        self.assertRecordValues(log, [{"user_id": self.ali.id, "team_id": self.team.id, "rule_id": False,
                                       "kind": "auto", "strategy": "round_robin"}])
        self.assertEqual(log.reason, "Round robin in 'Routing Team' pool: Ali")
        self.assertTrue(leads[0].message_ids.filtered(
            lambda m: "shared in the sales team" in (m.body or "")))
        # the rotation goes on in the next transaction's create
        self.assertEqual(self._owners(self._captured(1)), [self.siti])

    def test_availability_leave_and_capacity_are_checked(self):
        self.m_siti.lead_available = False
        self.m_bo.lead_max_open = 1
        self._leads(1, user_id=self.bo.id)
        resource = self.env["resource.resource"].create({
            "name": "Ali", "user_id": self.ali.id, "tz": "UTC",
            "calendar_id": self.env.ref("resource.resource_calendar_std").id})
        self.env["resource.calendar.leaves"].create({
            "name": "Holiday", "resource_id": resource.id, "calendar_id": resource.calendar_id.id,
            "date_from": datetime(2026, 3, 2), "date_to": datetime(2026, 3, 3)})
        with freeze_time("2026-03-02 10:00:00"):
            lead = self._captured(1)
        self.assertFalse(lead.user_id)
        self.assertTrue(lead.lead_routing_pending, "waits for the next available agent")
        self.assertEqual(lead.lead_assignment_log_ids.reason,
                         "Left unassigned in team Routing Team: nobody available. Round robin in "
                         "'Routing Team' pool; skipped Ali (on leave), Siti (away), Bo (at capacity 1/1)")
        self.m_siti.lead_available = True
        with freeze_time("2026-03-02 10:05:00"):
            self.env["crm.lead"]._cron_lead_distribution_backlog()
        self.assertEqual(lead.user_id, self.siti)

    def test_a_rule_still_wins(self):
        rule = self._rule(domain="[('lead_tier', '=', 'cold')]", member_ids=[(6, 0, self.m_bo.ids)])
        lead = self._captured(1)
        self.assertEqual(lead.user_id, self.bo)
        self.assertEqual(lead.lead_assignment_log_ids.rule_id, rule)

    def test_lead_without_team_stays_unassigned(self):
        lead = self.Inbox.create({"name": "No team", "type": "lead", "team_id": False})
        self.assertFalse(lead.user_id)
        self.assertFalse(lead.lead_assignment_log_ids)

    def test_salesperson_chosen_or_explicitly_none_is_kept(self):
        mine = self.Lead.with_user(self.manager).create({"name": "Typed by the manager", "team_id": self.team.id})
        self.assertEqual(mine.user_id, self.manager, "Odoo's default salesperson: the creator")
        nobody = self.Lead.create({"name": "Left to Odoo's assignment", "team_id": self.team.id,
                                   "user_id": False})
        self.assertFalse(nobody.user_id, "user_id False written on purpose")
        self.assertFalse((mine | nobody).lead_assignment_log_ids)

    def test_other_fallbacks_keep_todays_behaviour(self):
        self.company.lead_distribution_fallback = "unassigned"
        lead = self._captured(1)
        self.assertFalse(lead.user_id)
        self.assertFalse(lead.lead_assignment_log_ids)
        settings = self.env["res.config.settings"].create({"lead_distribution_fallback": "team"})
        settings.execute()
        self.assertEqual(self.company.lead_distribution_fallback, "team")
        self.assertEqual(self._owners(self._captured(1)), [self.ali])
        # a new rule cannot "share in the team": it falls back to leaving the lead unassigned
        self.assertEqual(self.env["lead.routing.rule"].create(
            {"name": "Default", "team_id": self.team.id}).fallback, "unassigned")

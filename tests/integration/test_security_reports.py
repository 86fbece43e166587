"""Security audit: the suite's reports show a salesperson no lead that Odoo's
crm rules hide from them.

A salesperson with "own documents only" reads their own and the unassigned
leads (crm's "Personal Leads" rule); one with "all documents", a manager and
an administrator read every lead. A report row that names a lead the user
cannot open leaks it (its name comes along with the row), so each per-lead
report must show exactly the leads the user can read.
"""
from datetime import date

from odoo.tests import new_test_user

from .test_security_access import SecurityCase

HOT = {"phone": "+60 12-345 6789", "lead_budget": 5000, "lead_timeline": "week",
       "lead_meeting_requested": True}
PER_LEAD_REPORTS = ("lead.sla.report", "lead.channel.report", "lead.assignment.log")


class TestReportsFollowCrmRules(SecurityCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["lead.routing.rule"].search([]).active = False  # owners set by hand here
        cls.stranger = new_test_user(cls.env, "sec_stranger", name="Other Team",
                                     groups="sales_team.group_sale_salesman")
        cls.team = cls.env["crm.team"].create({
            "name": "Own Team", "member_ids": [(6, 0, (cls.own | cls.mate).ids)]})
        cls.other_team = cls.env["crm.team"].create({
            "name": "Other Team", "member_ids": [(6, 0, cls.stranger.ids)]})
        cls.channel = cls.env["lead.channel"].create({"name": "Site", "channel_type": "web_form"})
        Lead = cls.env["crm.lead"]
        cls.leads = {
            key: Lead.create(dict(HOT, name="Lead of %s" % key, type="opportunity",
                                  user_id=user.id if user else False, team_id=team.id,
                                  channel_id=cls.channel.id))
            for key, user, team in (("own", cls.own, cls.team), ("mate", cls.mate, cls.team),
                                    ("free", None, cls.team), ("other", cls.stranger, cls.other_team))
        }
        Log = cls.env["lead.assignment.log"]
        for lead in cls.leads.values():
            Log.create({"lead_id": lead.id, "user_id": lead.user_id.id, "team_id": lead.team_id.id,
                        "kind": "manual", "reason": "set by hand"})
        Share = cls.env["lead.distribution.share"]
        for user, team in ((cls.own, cls.team), (cls.mate, cls.team), (cls.stranger, cls.other_team)):
            Share.create({"date": date(2026, 11, 2), "team_id": team.id, "user_id": user.id,
                          "company_id": cls.env.company.id, "expected": 1.0, "received": 1})
        cls.ids = {lead.id: key for key, lead in cls.leads.items()}
        cls.env.flush_all()

    def visible_leads(self, user, report):
        rows = self.env[report].with_user(user).search([("lead_id", "in", list(self.ids))])
        return {self.ids[lead_id] for lead_id in rows.mapped("lead_id").ids}

    def readable_leads(self, user):
        leads = self.env["crm.lead"].with_user(user).with_context(active_test=False).search(
            [("id", "in", list(self.ids))])
        return {self.ids[lead_id] for lead_id in leads.ids}

    def test_the_reports_have_rows_for_the_leads(self):
        for report in PER_LEAD_REPORTS:
            self.assertGreaterEqual(self.visible_leads(self.admin, report), {"own", "mate", "other"},
                                    "%s has a row per owned lead (else this audit proves nothing)" % report)

    def test_own_documents_salesperson_sees_own_and_unassigned_leads_only(self):
        self.assertEqual(self.readable_leads(self.own), {"own", "free"}, "Odoo's crm rule")
        for report in PER_LEAD_REPORTS:
            # an unowned lead has no response clock: the SLA report has no row for it
            expected = {"own", "free"} & self.visible_leads(self.admin, report)
            self.assertEqual(self.visible_leads(self.own, report), expected,
                             "%s shows a salesperson the leads crm lets them read, no other" % report)
            names = str(self.env[report].with_user(self.own).search_read(
                [("lead_id", "in", list(self.ids))], ["lead_id"]))
            for hidden in ("Lead of mate", "Lead of other"):
                self.assertNotIn(hidden, names, "%s leaks a lead's name" % report)

    def test_all_documents_manager_and_administrator_see_every_lead(self):
        for user in (self.all_docs, self.manager, self.admin):
            self.assertEqual(self.readable_leads(user), set(self.leads))
            for report in PER_LEAD_REPORTS:
                if report == "lead.assignment.log" and user == self.all_docs:
                    continue  # the distribution of their own teams: see below
                self.assertEqual(self.visible_leads(user, report), self.visible_leads(self.admin, report),
                                 "%s for %s" % (report, user.login))

    def test_all_documents_salesperson_sees_the_distribution_of_their_teams(self):
        self.team.member_ids |= self.all_docs
        self.assertEqual(self.visible_leads(self.all_docs, "lead.assignment.log"),
                         {"own", "mate", "free"}, "their team's lines, not another team's")

    def test_fairness_shows_own_teams_only(self):
        Fairness = self.env["lead.distribution.fairness"]
        mine = Fairness.with_user(self.own).search([("team_id", "in", (self.team | self.other_team).ids)])
        self.assertEqual(set(mine.mapped("user_id").ids), {self.own.id, self.mate.id},
                         "the team's distribution, never another team's agents")
        everyone = Fairness.with_user(self.manager).search([("team_id", "in", (self.team | self.other_team).ids)])
        self.assertEqual(set(everyone.mapped("user_id").ids), {self.own.id, self.mate.id, self.stranger.id})

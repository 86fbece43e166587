from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestLeadScoring(LeadScoringCase):

    def test_default_table(self):
        """Each default signal earns exactly the points of the published table."""
        referral = self.env.ref("lead_scoring.utm_medium_referral")
        paid = self.env.ref("lead_scoring.utm_medium_paid")
        self.company.lead_budget_fit_min = 10000
        cases = [
            ({"phone": "+60 12-345 6789"}, 10),
            ({"lead_budget": 500}, 15),
            ({"lead_timeline": "month"}, 20),
            ({"lead_inbound_count": 2}, 10),
            ({"lead_inbound_count": 1}, 0),
            ({"lead_meeting_requested": True}, 25),
            ({"medium_id": referral.id}, 15),
            ({"medium_id": paid.id}, 5),
            ({"lead_budget": 10000}, 15 + 15),
            ({"lead_is_decision_maker": True}, 10),
            ({"lead_used_competitor": True}, 10),
            ({}, 0),
        ]
        leads = self.Lead.create([dict(vals, name="case %s" % i) for i, (vals, _) in enumerate(cases)])
        for lead, (vals, points) in zip(leads, cases):
            self.assertEqual(lead.lead_score, points, "signal %s" % vals)

    def test_guide_example_is_hot_with_three_stars(self):
        lead = self._lead(phone="0123456789", lead_budget=2000, lead_timeline="week",
                          lead_meeting_requested=True)
        self.assertEqual(lead.lead_score, 70)
        self.assertEqual(lead.lead_tier, "hot")
        self.assertEqual(lead.priority, "3", "hot leads get the highest priority")
        self.assertIn("Meeting / demo / viewing requested: +25", lead.lead_score_detail)
        self.assertTrue(lead.lead_score_date)

    def test_tiers_follow_thresholds(self):
        warm = self._lead(lead_timeline="week", phone="012")      # 30
        cold = self._lead(lead_timeline="week", lead_inbound_count=1)  # 20
        self.assertEqual((warm.lead_score, warm.lead_tier), (30, "warm"))
        self.assertEqual((cold.lead_score, cold.lead_tier), (20, "cold"))
        self.assertEqual(cold.priority, "0")

    def test_score_updates_when_a_signal_changes(self):
        lead = self._lead(phone="012")
        self.assertEqual(lead.lead_score, 10)
        lead.write({"lead_meeting_requested": True, "lead_timeline": "week"})
        self.assertEqual(lead.lead_score, 55)
        self.assertEqual(lead.lead_tier, "warm")
        lead.lead_inbound_count += 2
        self.assertEqual(lead.lead_score, 65)
        self.assertEqual(lead.lead_tier, "hot")
        self.assertEqual(lead.priority, "3")

    def test_lowered_stars_of_a_hot_lead_stay_lowered(self):
        lead = self._lead(phone="012", lead_budget=10, lead_timeline="week",
                          lead_meeting_requested=True)
        lead.priority = "1"
        lead.lead_is_decision_maker = True  # rescored, still hot
        self.assertEqual(lead.lead_score, 80)
        self.assertEqual(lead.priority, "1")

    def test_negative_points(self):
        self.Rule.create({"name": "Student", "points": -40,
                          "domain": "[('lead_used_competitor', '=', False), ('phone', '!=', False)]"})
        lead = self._lead(phone="012", lead_timeline="week")
        self.assertEqual(lead.lead_score, 10 + 20 - 40)
        self.assertEqual(lead.lead_tier, "cold")
        self.assertIn("Student: -40", lead.lead_score_detail)

    def test_custom_rule_on_other_field_rescores_on_write(self):
        tag = self.env["crm.tag"].create({"name": "VIP"})
        self.Rule.create({"name": "Big deal", "points": 30,
                          "domain": "[('expected_revenue', '>=', 100000)]"})
        self.Rule.create({"name": "Priority tag", "points": 7,
                          "domain": "[('tag_ids', 'in', %d)]" % tag.id})
        self.Rule.create({"name": "Named", "points": 3, "domain": "[('contact_name', '=', 'Ali')]"})
        lead = self._lead()
        lead.expected_revenue = 150000
        self.assertEqual(lead.lead_score, 30)
        lead.tag_ids = tag
        self.assertEqual(lead.lead_score, 37)
        lead.contact_name = "Ali"  # not a static trigger: handled through the rules' fields
        self.assertEqual(lead.lead_score, 40)

    def test_rule_edit_rescores_open_leads_by_cron(self):
        open_lead = self._lead(phone="012")
        won_lead = self._lead(phone="013")
        won_lead.action_set_won()
        self.assertEqual(open_lead.lead_score, 10)
        cron = self.env.ref("lead_scoring.ir_cron_lead_rescore")
        triggers = self.env["ir.cron.trigger"].search([("cron_id", "=", cron.id)])
        self.env.ref("lead_scoring.rule_phone").points = 25
        self.assertGreater(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), len(triggers),
            "a rule change triggers the rescoring cron at once")
        self.env["crm.lead"]._cron_lead_scoring_rescore()
        self.assertEqual(open_lead.lead_score, 25)
        self.assertEqual(won_lead.lead_score, 10, "closed leads keep the score they closed with")

    def test_threshold_edit_retiers_open_leads(self):
        lead = self._lead(phone="012", lead_timeline="week")  # 30: warm
        self.assertEqual(lead.lead_tier, "warm")
        settings = self.env["res.config.settings"].create({"lead_hot_threshold": 30,
                                                           "lead_warm_threshold": 10})
        settings.execute()
        self.env["crm.lead"]._cron_lead_scoring_rescore()
        self.assertEqual(lead.lead_tier, "hot")

    def test_rescore_cron_works_in_batches_and_reports_progress(self):
        leads = self.Lead.create([{"name": "L%s" % i, "phone": "01%s" % i} for i in range(5)])
        self.env.ref("lead_scoring.rule_phone").points = 11
        open_count = self.Lead.search_count([("probability", "<", 100)])
        ICP = self.env["ir.config_parameter"]
        runs = 0
        while ICP.get_param("lead_scoring.rescore_from_id") and runs < open_count:
            self.env["crm.lead"]._cron_lead_scoring_rescore(batch_size=2)
            runs += 1
        self.assertEqual(runs, (open_count + 1) // 2, "batches of two, each lead once")
        self.assertEqual(set(leads.mapped("lead_score")), {11})
        self.assertFalse(ICP.get_param("lead_scoring.rescore_from_id"), "the walk is over")

    def test_company_isolation(self):
        other = self.env["res.company"].create({"name": "Other Co", "lead_hot_threshold": 20,
                                                "lead_warm_threshold": 5})
        self.Rule.create({"name": "Other only", "points": 50, "domain": "[]",
                          "company_id": other.id})
        mine = self._lead(phone="012", lead_timeline="week")
        theirs = self._lead(phone="012", lead_timeline="week", company_id=other.id)
        self.assertEqual(mine.lead_score, 30)
        self.assertEqual(mine.lead_tier, "warm")
        self.assertEqual(theirs.lead_score, 80)
        self.assertEqual(theirs.lead_tier, "hot", "tiers use the lead's company thresholds")
        user = self.salesman
        self.assertNotIn("Other only",
                         self.Rule.with_user(user).search([]).mapped("name"),
                         "rules of another company are invisible")

    def test_budget_fit_uses_the_company_minimum(self):
        lead = self._lead(lead_budget=5000)
        self.assertEqual(lead.lead_score, 15, "no minimum set: budget stated only")
        self.company.lead_budget_fit_min = 4000
        self.env["crm.lead"]._cron_lead_scoring_rescore()
        self.assertEqual(lead.lead_score, 30)
        self.assertTrue(lead.lead_budget_fit)
        self.assertIn(lead, self.Lead.search([("lead_budget_fit", "=", True)]))
        self.assertNotIn(lead, self.Lead.search([("lead_budget_fit", "=", False)]))

    def test_budget_fit_of_a_lead_without_company(self):
        """A lead without a company fits against the current company's minimum,
        in the computed field and in the search the scoring rule runs alike."""
        self.company.lead_budget_fit_min = 4000
        lead = self._lead(lead_budget=5000, company_id=False)
        self.assertFalse(lead.company_id)
        self.assertTrue(lead.lead_budget_fit)
        self.assertIn(lead, self.Lead.search([("lead_budget_fit", "=", True)]))
        self.assertNotIn(lead, self.Lead.search([("lead_budget_fit", "=", False)]))
        self.assertEqual(lead.lead_score, 15 + 15, "budget stated and budget fits")
        self.assertIn("Budget fits pricing tier: +15", lead.lead_score_detail)
        small = self._lead(lead_budget=3000, company_id=False)
        self.assertFalse(small.lead_budget_fit)
        self.assertIn(small, self.Lead.search([("lead_budget_fit", "=", False)]))
        self.assertEqual(small.lead_score, 15)

    def test_invalid_domain_is_refused_with_the_problem(self):
        with self.assertRaisesRegex(ValidationError, "invalid.*no_such_field"):
            self.Rule.create({"name": "Broken", "points": 5, "domain": "[('no_such_field', '=', 1)]"})
        with self.assertRaisesRegex(ValidationError, "invalid"):
            self.Rule.create({"name": "Syntax", "points": 5, "domain": "[('phone', '=', "})
        with self.assertRaisesRegex(ValidationError, "invalid"):
            self.Rule.create({"name": "Operator", "points": 5, "domain": "[('phone', 'resembles', 'x')]"})
        rule = self.env.ref("lead_scoring.rule_phone")
        with self.assertRaises(ValidationError):
            rule.domain = "{'not': 'a list'}"

    def test_invalid_thresholds_are_refused(self):
        with self.assertRaisesRegex(ValidationError, "must be lower than the hot threshold"):
            self.company.write({"lead_warm_threshold": 60})
        settings = self.env["res.config.settings"].create({"lead_hot_threshold": 20,
                                                           "lead_warm_threshold": 40})
        with self.assertRaises(ValidationError):
            settings.execute()
        self.assertEqual(self.company.lead_hot_threshold, 60, "nothing saved")

    def test_access_rights(self):
        rule = self.env.ref("lead_scoring.rule_phone")
        self.assertEqual(rule.with_user(self.salesman).points, 10, "salespeople read the rules")
        with self.assertRaises(AccessError):
            rule.with_user(self.salesman).points = 99
        with self.assertRaises(AccessError):
            self.Rule.with_user(self.salesman).create({"name": "x", "points": 1, "domain": "[]"})
        rule.with_user(self.manager).points = 12
        self.assertEqual(rule.points, 12)
        with self.assertRaises(AccessError):
            self.company.with_user(self.salesman).lead_hot_threshold = 10
        # a salesperson's own lead gets scored even though they cannot read every rule's leads
        lead = self.Lead.with_user(self.salesman).create({"name": "Mine", "phone": "012",
                                                          "user_id": self.salesman.id})
        self.assertEqual(lead.lead_score, 12)

    def test_onchange_previews_the_score(self):
        from odoo.tests import Form
        with Form(self.Lead) as form:
            form.name = "Walk-in"
            form.phone = "0123"
            self.assertEqual(form.lead_score, 10)
            form.lead_meeting_requested = True
            self.assertEqual(form.lead_score, 35)
            self.assertEqual(form.lead_tier, "warm")

    @mute_logger("odoo.models")
    def test_query_count_is_bounded_per_batch(self):
        """Scoring costs one query per rule for a whole batch, not per lead."""
        rules = self.Rule.search_count([])

        def count(n):
            leads = self.Lead.create([{"name": "Q%s" % i} for i in range(n)])
            self.env.flush_all()
            before = self.cr.sql_log_count
            leads.write({"phone": "0123", "lead_timeline": "month"})
            self.env.flush_all()
            return self.cr.sql_log_count - before, leads

        small, _leads = count(10)
        big, leads = count(1000)
        # the write itself, its flush and mail tracking are Odoo's; scoring adds one per rule
        self.assertEqual(set(leads.mapped("lead_score")), {30})
        # Odoo flushes updates by chunks of 100 rows: the write and the new
        # scores each cost one UPDATE per 100 leads; the rest does not grow
        flush_chunks = 2 * (1000 // 100)
        self.assertLessEqual(big, rules + 12 + flush_chunks, "bounded: %d queries for 1000 leads" % big)
        self.assertLessEqual(big - small, flush_chunks - 2 + 2,
                             "1000 leads cost %d queries, 10 leads %d" % (big, small))

    def test_rescore_of_1000_leads_is_one_query_per_rule(self):
        leads = self.Lead.create([{"name": "R%s" % i, "phone": "01"} for i in range(1000)])
        self.env.flush_all()
        rules = self.Rule.search_count([])
        before = self.cr.sql_log_count
        leads.action_lead_rescore()
        queries = self.cr.sql_log_count - before
        # one query per rule, the rules, the old tiers, the company minimum,
        # and Odoo's flush of the new scores by chunks of 100 rows
        self.assertLessEqual(queries, rules + 4 + 1000 // 100,
                             "%d queries for %d rules" % (queries, rules))


@tagged("post_install", "-at_install")
class TestRecommendedPipeline(LeadScoringCase):
    """res.config.settings.action_lead_recommended_pipeline (issue 11.7)."""

    RECOMMENDED = ["New Lead", "Contacted", "Qualified", "Proposal / Presentation",
                   "Negotiation", "Won"]

    def _shared(self):
        return self.env["crm.stage"].search([("team_id", "=", False)])

    def test_sets_the_seeds_pipeline_and_keeps_every_lead_in_its_stage(self):
        Stage = self.env["crm.stage"]
        new, proposition = self.env.ref("crm.stage_lead1"), self.env.ref("crm.stage_lead3")
        won_stage = self.env.ref("crm.stage_lead4")
        empty = Stage.create({"name": "Old idea", "sequence": 4})
        busy = Stage.create({"name": "On hold", "sequence": 5})
        leads = self.Lead.create([{"name": "In New", "stage_id": new.id},
                                  {"name": "In Proposition", "stage_id": proposition.id},
                                  {"name": "On hold", "stage_id": busy.id}])
        team_stage = Stage.create({"name": "Team only", "team_id": self.env["crm.team"].search([], limit=1).id})
        settings = self.env["res.config.settings"].create({})
        action = settings.action_lead_recommended_pipeline()
        shared = self._shared()
        self.assertEqual(shared.mapped("name"), self.RECOMMENDED + ["On hold"])
        self.assertEqual(shared.filtered("is_won"), won_stage, "Won is the won stage")
        self.assertEqual(new.name, "New Lead")
        self.assertEqual(proposition.name, "Proposal / Presentation")
        self.assertEqual(leads.mapped("stage_id"), new | proposition | busy, "no lead moved")
        self.assertFalse(empty.exists(), "an empty unmatched stage is removed")
        self.assertIn("On hold", action["params"]["message"], "the admin is told what stayed")
        self.assertEqual(team_stage.name, "Team only", "team stages are not shared ones")
        # running it twice changes nothing
        before = [(s.id, s.name, s.sequence, s.is_won) for s in self._shared()]
        settings.action_lead_recommended_pipeline()
        self.assertEqual([(s.id, s.name, s.sequence, s.is_won) for s in self._shared()], before)

from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged
from odoo.tools import SQL

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestScoringHealth(LeadScoringCase):
    """The health report measures every closed lead of a company: the test's
    leads live in a company of their own, so other closed leads of the
    database (e.g. a demo's) are not measured with them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.health_company = cls.env["res.company"].create({"name": "Scoring Health Co"})
        cls.health_team = cls.env["crm.team"].create({
            "name": "Scoring Health Team", "company_id": cls.health_company.id})

    def _health(self, date_from, date_to):
        return self.env["lead.scoring.health"].create({
            "date_from": date_from, "date_to": date_to, "company_id": self.health_company.id})

    def _close(self, vals_list, won, when):
        leads = self.Lead.create([dict(vals, team_id=self.health_team.id, user_id=False)
                                  for vals in vals_list])
        self.assertEqual(leads.company_id, self.health_company)
        with freeze_time(when):
            if won:
                leads.action_set_won()
            else:
                reason = self.env["crm.lost.reason"].create({"name": "Too expensive"})
                leads.action_set_lost(lost_reason_id=reason.id)
        leads.date_closed = when
        return leads

    def test_calibration_on_a_constructed_set(self):
        # current period: meeting requested predicts wins, "decision maker" is noise
        when = datetime(2026, 10, 15, 10, 0)
        # 40 won and 40 lost: above the 30 + 30 a measure needs (issue 17.6)
        self._close([{"name": "W%s" % i, "lead_meeting_requested": i < 30,
                      "lead_is_decision_maker": i % 2 == 0} for i in range(40)], True, when)
        self._close([{"name": "L%s" % i, "lead_meeting_requested": i < 10,
                      "lead_is_decision_maker": i % 2 == 0} for i in range(40)], False, when)
        # lost without a reason is not a closed outcome we learn from
        self.Lead.create({"name": "Archived", "team_id": self.health_team.id}).action_archive()
        health = self._health("2026-10-01", "2026-10-31")
        health.action_compute()
        self.assertEqual((health.won_count, health.lost_count), (40, 40))
        self.assertTrue(health.enough_data)
        self.assertFalse(health.data_warning)
        # won average: 30*25 + 20*10 / 40 = 23.75 ; lost: 10*25 + 20*10 / 40 = 11.25
        self.assertAlmostEqual(health.avg_score_won, 23.75, delta=0.01)
        self.assertAlmostEqual(health.avg_score_lost, 11.25, delta=0.01)
        self.assertAlmostEqual(health.score_gap, 12.5)
        meeting = health.line_ids.filtered(
            lambda l: l.rule_id == self.env.ref("lead_scoring.rule_meeting"))
        self.assertEqual(meeting.matched_count, 40)
        self.assertAlmostEqual(meeting.win_rate_with, 75.0)
        self.assertAlmostEqual(meeting.win_rate_without, 25.0)
        self.assertAlmostEqual(meeting.lift, 3.0, delta=0.01)
        # 20 * log2(((30 + .5) / 41) / ((10 + .5) / 41)) = 30.8
        self.assertEqual(meeting.suggested_points, 31)
        maker = health.line_ids.filtered(
            lambda l: l.rule_id == self.env.ref("lead_scoring.rule_decision_maker"))
        self.assertAlmostEqual(maker.lift, 1.0)
        self.assertEqual(maker.suggested_points, 0)
        phone = health.line_ids.filtered(lambda l: l.rule_id == self.env.ref("lead_scoring.rule_phone"))
        self.assertEqual(phone.suggested_points, 10, "no lead has a phone: too little data, kept")

        health.action_apply_suggestions()
        rule = self.env.ref("lead_scoring.rule_meeting")
        self.assertEqual(rule.points, 31)
        self.assertEqual(self.env.ref("lead_scoring.rule_decision_maker").points, 0)
        self.assertIn("recalibrated from 25 to 31", rule.message_ids[0].body)

    def test_warns_when_the_gap_narrows(self):
        previous = datetime(2026, 9, 15, 10, 0)
        current = datetime(2026, 10, 15, 10, 0)
        self._close([{"name": "PW%s" % i, "lead_meeting_requested": True} for i in range(6)], True, previous)
        self._close([{"name": "PL%s" % i} for i in range(6)], False, previous)
        self._close([{"name": "CW%s" % i, "lead_meeting_requested": i < 3} for i in range(6)], True, current)
        self._close([{"name": "CL%s" % i, "lead_meeting_requested": i < 2} for i in range(6)], False, current)
        health = self._health("2026-10-01", "2026-10-30")
        health.action_compute()
        self.assertAlmostEqual(health.previous_score_gap, 25.0)
        self.assertAlmostEqual(health.score_gap, 25 * 3 / 6 - 25 * 2 / 6, delta=0.01)
        self.assertIn("narrowed", health.gap_warning)

    def test_no_warning_when_the_gap_holds(self):
        # the previous period had the same gap: nothing narrowed, so no warning
        # (without a previous period the warning could never show)
        previous = datetime(2026, 9, 15, 10, 0)
        self._close([{"name": "PW", "lead_meeting_requested": True}], True, previous)
        self._close([{"name": "PL"}], False, previous)
        when = datetime(2026, 10, 15, 10, 0)
        self._close([{"name": "W", "lead_meeting_requested": True}], True, when)
        self._close([{"name": "L"}], False, when)
        health = self._health("2026-10-01", "2026-10-31")
        health.action_compute()
        self.assertAlmostEqual(health.previous_score_gap, 25.0, msg="a previous period to compare")
        self.assertFalse(health.gap_warning)
        self.assertEqual(health.score_gap, 25)

    def test_too_few_closed_leads_say_not_enough_data_yet(self):
        """12 won and 12 lost: no 100 % rates, no suggestions, no recalibration."""
        when = datetime(2026, 10, 15, 10, 0)
        self._close([{"name": "W%s" % i, "lead_meeting_requested": True} for i in range(12)], True, when)
        self._close([{"name": "L%s" % i} for i in range(12)], False, when)
        health = self._health("2026-10-01", "2026-10-31")
        health.action_compute()
        self.assertFalse(health.enough_data)
        self.assertIn("Not enough data yet: 12 won and 12 lost", health.data_warning)
        meeting = health.line_ids.filtered(
            lambda l: l.rule_id == self.env.ref("lead_scoring.rule_meeting"))
        self.assertEqual(meeting.suggested_points, 25, "no suggestion: the current points")
        with self.assertRaisesRegex(UserError, "Not enough data yet"):
            health.action_apply_suggestions()
        self.assertEqual(self.env.ref("lead_scoring.rule_meeting").points, 25)


@tagged("post_install", "-at_install")
class TestClosedLeadsScored(LeadScoringCase):
    """Closed leads are scored too: once at install, and after rule changes (issue 17.6)."""

    def _run_cron(self):
        ICP = self.env["ir.config_parameter"]
        for _run in range(100):
            if not (ICP.get_param("lead_scoring.rescore_from_id")
                    or ICP.get_param("lead_scoring.rescore_closed_from_id")):
                return
            self.env["crm.lead"]._cron_lead_scoring_rescore()
        self.fail("the rescoring walks never end")

    def test_leads_closed_before_install_get_their_score(self):
        won = self._lead(phone="012", lead_meeting_requested=True)
        won.action_set_won()
        lost = self._lead(phone="013")
        lost.action_set_lost()
        # as closed before the module: the stored score is 0
        self.env.flush_all()
        self.env.cr.execute(SQL("UPDATE crm_lead SET lead_score = 0, lead_tier = 'cold' "
                                "WHERE id = ANY(%s)", [won.id, lost.id]))
        self.env.invalidate_all()
        self.env["ir.config_parameter"].set_param("lead_scoring.closed_scored", False)
        self.env["crm.lead"]._lead_scoring_rescore_closed_once()
        self._run_cron()
        self.assertEqual((won.lead_score, lost.lead_score), (35, 10))
        self.assertEqual(won.priority, "0", "closed leads get no stars from rescoring")
        # once: an upgrade does not start the walk again
        self.env["crm.lead"]._lead_scoring_rescore_closed_once()
        self.assertFalse(self.env["ir.config_parameter"].get_param(
            "lead_scoring.rescore_closed_from_id"))

    def test_a_rule_change_rescores_open_leads_first_then_closed_ones(self):
        open_lead = self._lead(phone="012")
        won = self._lead(phone="013")
        won.action_set_won()
        self.env.ref("lead_scoring.rule_phone").points = 25
        self.env["crm.lead"]._cron_lead_scoring_rescore()
        self.assertEqual((open_lead.lead_score, won.lead_score), (25, 10),
                         "the first batches walk open leads only")
        self._run_cron()
        self.assertEqual(won.lead_score, 25, "then the closed leads follow the rules too")

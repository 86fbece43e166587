from datetime import datetime

from freezegun import freeze_time

from odoo.tests import tagged

from .common import LeadScoringCase


@tagged("post_install", "-at_install")
class TestScoringHealth(LeadScoringCase):

    def _close(self, vals_list, won, when):
        leads = self.Lead.create(vals_list)
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
        self._close([{"name": "W%s" % i, "lead_meeting_requested": i < 15,
                      "lead_is_decision_maker": i % 2 == 0} for i in range(20)], True, when)
        self._close([{"name": "L%s" % i, "lead_meeting_requested": i < 5,
                      "lead_is_decision_maker": i % 2 == 0} for i in range(20)], False, when)
        # lost without a reason is not a closed outcome we learn from
        self.Lead.create({"name": "Archived"}).action_archive()
        health = self.env["lead.scoring.health"].create({
            "date_from": "2026-10-01", "date_to": "2026-10-31"})
        health.action_compute()
        self.assertEqual((health.won_count, health.lost_count), (20, 20))
        # won average: 15*25 + 10*10 / 20 = 23.75 ; lost: 5*25 + 10*10 / 20 = 11.25
        self.assertAlmostEqual(health.avg_score_won, 23.75, delta=0.01)
        self.assertAlmostEqual(health.avg_score_lost, 11.25, delta=0.01)
        self.assertAlmostEqual(health.score_gap, 12.5)
        meeting = health.line_ids.filtered(
            lambda l: l.rule_id == self.env.ref("lead_scoring.rule_meeting"))
        self.assertEqual(meeting.matched_count, 20)
        self.assertAlmostEqual(meeting.win_rate_with, 75.0)
        self.assertAlmostEqual(meeting.win_rate_without, 25.0)
        self.assertAlmostEqual(meeting.lift, 3.0, delta=0.01)
        self.assertEqual(meeting.suggested_points, 30)
        maker = health.line_ids.filtered(
            lambda l: l.rule_id == self.env.ref("lead_scoring.rule_decision_maker"))
        self.assertAlmostEqual(maker.lift, 1.0)
        self.assertEqual(maker.suggested_points, 0)
        phone = health.line_ids.filtered(lambda l: l.rule_id == self.env.ref("lead_scoring.rule_phone"))
        self.assertEqual(phone.suggested_points, 10, "no lead has a phone: too little data, kept")

        health.action_apply_suggestions()
        rule = self.env.ref("lead_scoring.rule_meeting")
        self.assertEqual(rule.points, 30)
        self.assertEqual(self.env.ref("lead_scoring.rule_decision_maker").points, 0)
        self.assertIn("recalibrated from 25 to 30", rule.message_ids[0].body)

    def test_warns_when_the_gap_narrows(self):
        previous = datetime(2026, 9, 15, 10, 0)
        current = datetime(2026, 10, 15, 10, 0)
        self._close([{"name": "PW%s" % i, "lead_meeting_requested": True} for i in range(6)], True, previous)
        self._close([{"name": "PL%s" % i} for i in range(6)], False, previous)
        self._close([{"name": "CW%s" % i, "lead_meeting_requested": i < 3} for i in range(6)], True, current)
        self._close([{"name": "CL%s" % i, "lead_meeting_requested": i < 2} for i in range(6)], False, current)
        health = self.env["lead.scoring.health"].create({
            "date_from": "2026-10-01", "date_to": "2026-10-30"})
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
        health = self.env["lead.scoring.health"].create({
            "date_from": "2026-10-01", "date_to": "2026-10-31"})
        health.action_compute()
        self.assertAlmostEqual(health.previous_score_gap, 25.0, msg="a previous period to compare")
        self.assertFalse(health.gap_warning)
        self.assertEqual(health.score_gap, 25)

from collections import Counter
from datetime import datetime, timedelta

from unittest.mock import patch

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.sql_db import Cursor
from odoo.tests import tagged
from odoo.tools import SQL

from .common import LeadDistributionCase

NOW = datetime(2026, 6, 1, 12, 0)


@tagged("post_install", "-at_install")
class TestTeamPerformance(LeadDistributionCase):
    """Issue 13: tiers from conversion data, weights set by the system and
    published in the team's chatter."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.won_stage = cls.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        cls.team.write({"lead_performance_min_closed": 10, "lead_performance_days": 90,
                        "lead_performance_bonus": 25})

    def _close(self, user, won=0, lost=0, at=NOW - timedelta(days=1), team=None):
        """Leads of ``user`` won / lost (Odoo's own actions) at ``at``."""
        team = team or self.team
        with freeze_time(at):
            leads = self.Lead.with_context(lead_distribution_no_route=True).create([{
                "name": "Closed %s %s" % (user.name, i), "type": "opportunity",
                "user_id": user.id, "team_id": team.id} for i in range(won + lost)])
            if won:
                leads[:won].action_set_won()
            if lost:
                leads[won:].action_set_lost()
            self.env.flush_all()
        return leads

    def _update(self, now=NOW):
        self.team._lead_update_performance(now=now)

    def _tiers(self):
        return {m.user_id.name: m.lead_performance_tier for m in self.team.crm_team_member_ids}

    # ------------------------------------------------------------------
    # Tiers
    # ------------------------------------------------------------------
    def test_exactly_the_team_rate_is_tier_1(self):
        # team: 40 closed, 12 won = 30 %. Bo is exactly at 30 % (6 of 20).
        self._close(self.ali, won=4, lost=6)     # 40 %
        self._close(self.siti, won=2, lost=8)    # 20 %
        self._close(self.bo, won=6, lost=14)     # 30 % = the team
        self._update()
        self.assertEqual(self._tiers(), {"Ali": "1", "Siti": "2", "Bo": "1"})
        self.assertAlmostEqual(self.team.lead_performance_rate, 30.0)
        self.assertEqual((self.m_bo.lead_closed_count, self.m_bo.lead_won_count), (20, 6))
        self.assertAlmostEqual(self.m_bo.lead_conversion_rate, 30.0)
        self.assertAlmostEqual(self.m_siti.lead_conversion_rate, 20.0)

    def test_one_closed_lead_short_of_the_minimum(self):
        self._close(self.ali, won=9)             # 100 % but 9 closed
        self._close(self.siti, won=1, lost=9)
        self._update()
        self.assertEqual(self._tiers()["Ali"], "2", "9 closed leads, 10 needed")
        self._close(self.ali, lost=1)            # the tenth closed lead
        self._update()
        self.assertEqual(self._tiers()["Ali"], "1")
        self.assertEqual(self.m_ali.lead_closed_count, 10)

    def test_window_edge(self):
        """Closed exactly 90 days ago counts; a minute earlier does not."""
        self._close(self.ali, won=1, at=NOW - timedelta(days=90))
        self._close(self.ali, won=1, at=NOW - timedelta(days=90, minutes=1))
        self._close(self.ali, lost=1, at=NOW + timedelta(minutes=1))  # not yet closed at NOW
        self._update()
        self.assertEqual((self.m_ali.lead_closed_count, self.m_ali.lead_won_count), (1, 1))

    def test_only_this_teams_leads_and_real_outcomes_count(self):
        other = self.env["crm.team"].create({"name": "Other Team"})
        self._close(self.ali, won=3, team=other)
        open_lead = self.Lead.create({"name": "Open", "user_id": self.ali.id, "team_id": self.team.id})
        # archived without being lost (probability kept): not a lost lead
        self.Lead.create({"name": "Archived", "user_id": self.ali.id, "team_id": self.team.id,
                          "probability": 40}).action_archive()
        self._close(self.ali, won=1, lost=1)
        self._update()
        self.assertEqual((self.m_ali.lead_closed_count, self.m_ali.lead_won_count), (2, 1))
        self.assertTrue(open_lead.active)

    # ------------------------------------------------------------------
    # Weights
    # ------------------------------------------------------------------
    def test_weights_applied_and_published(self):
        self.m_ali.lead_weight = 1.5  # typed by hand before weighting
        self._close(self.ali, won=6, lost=4)
        self._close(self.siti, won=2, lost=8)
        with freeze_time(NOW):
            self.team.lead_performance_weighting = True  # computes at once
        self.assertEqual(self._tiers(), {"Ali": "1", "Siti": "2", "Bo": "2"})
        self.assertEqual([m.lead_weight for m in (self.m_ali, self.m_siti, self.m_bo)], [1.25, 1.0, 1.0])
        self.assertIn("Tier 1", self.m_ali.lead_weight_reason)
        note = self.team.message_ids[0]
        body = str(note.body)
        for text in ("Performance tiers updated", "90 days", "at least 10 closed leads",
                     "40.0%", "8 won of 20 closed", "1.25 (1 + 25% bonus)", "Ali", "60.0%"):
            self.assertIn(text, body)
        self.assertIn("weight was 1.50", body, "the change since the last run is marked")
        self.assertEqual(note.subtype_id, self.env.ref("mail.mt_note"))

        # next run: Siti closes a lot and overtakes; the changes are marked
        self._close(self.siti, won=10)
        self._update(now=NOW + timedelta(days=1))
        self.assertEqual(self._tiers(), {"Ali": "1", "Siti": "1", "Bo": "2"})
        body = str(self.team.message_ids[0].body)
        self.assertIn("tier was Tier 2", body)
        self.assertIn("weight was 1.00", body)
        self.assertEqual(self.m_siti.lead_weight, 1.25)

        # a weight set by the system cannot be typed over
        with self.assertRaisesRegex(UserError, "performance weighting of team Routing Team"):
            self.m_bo.lead_weight = 2.0
        # switching weighting off gives back the manual weights
        self.team.lead_performance_weighting = False
        self.assertEqual([m.lead_weight for m in (self.m_ali, self.m_siti, self.m_bo)], [1.5, 1.0, 1.0])
        self.m_bo.lead_weight = 2.0  # manual again
        self.assertFalse(self.m_bo.lead_weight_reason)

    @freeze_time(NOW)
    def test_new_member_of_a_weighted_team_starts_at_tier_2_weight(self):
        self.team.lead_performance_weighting = True
        dan = self._agent("ld_dan", "Dan")
        member = self.env["crm.team.member"].create(
            {"crm_team_id": self.team.id, "user_id": dan.id, "lead_weight": 3.0})
        self.assertEqual(member.lead_weight, 1.0)
        self.assertEqual(member.lead_manual_weight, 3.0)

    @freeze_time(NOW)
    def test_bonus_change_recomputes_weights(self):
        self._close(self.ali, won=10)
        self._close(self.siti, lost=10)
        self.team.lead_performance_weighting = True
        self.team.lead_performance_bonus = 50
        self.assertEqual(self.m_ali.lead_weight, 1.5)

    @freeze_time(NOW)
    def test_weighted_strategy_shares_85_leads_25_20_20_20(self):
        """Weights 1.25 / 1 / 1 / 1 from performance share 85 leads exactly
        25 / 20 / 20 / 20 through the routing engine, and the fairness report
        shows each agent's tier and weight beside the shares."""
        dan = self._agent("ld_dan", "Dan")
        self.env["crm.team.member"].create({"crm_team_id": self.team.id, "user_id": dan.id})
        self._close(self.ali, won=5, lost=5)
        self._close(self.siti, won=1, lost=9)
        self.team.lead_performance_weighting = True
        self.assertEqual(sorted(self.team.crm_team_member_ids.mapped("lead_weight")), [1.0, 1.0, 1.0, 1.25])
        self._rule(strategy="weighted")
        leads = self._leads(85)
        self.assertEqual(Counter(u.name for u in self._owners(leads)),
                         {"Ali": 25, "Siti": 20, "Bo": 20, "Dan": 20})
        self.env.flush_all()
        rows = self.env["lead.distribution.fairness"].search([("team_id", "=", self.team.id)])
        ali = rows.filtered(lambda r: r.user_id == self.ali)
        self.assertEqual((ali.lead_performance_tier, ali.lead_weight, ali.received), ("1", 1.25, 25))
        self.assertAlmostEqual(ali.expected, 25.0)
        bo = rows.filtered(lambda r: r.user_id == self.bo)
        self.assertEqual((bo.lead_performance_tier, bo.lead_weight, bo.received), ("2", 1.0, 20))

    # ------------------------------------------------------------------
    # Runs, rights and bad input
    # ------------------------------------------------------------------
    @freeze_time(NOW)
    def test_daily_cron_updates_weighted_teams_only(self):
        cron = self.env.ref("lead_distribution.ir_cron_lead_performance")
        self.assertEqual(cron.interval_type, "days")
        other = self.env["crm.team"].create({"name": "Manual Team"})
        self._close(self.ali, won=10)
        self.team.with_context(lead_distribution_performance=True).write(
            {"lead_performance_weighting": True})
        before = len(other.message_ids)
        self.m_ali.with_context(lead_distribution_performance=True).lead_performance_tier = False
        cron.method_direct_trigger()
        self.assertEqual(self.m_ali.lead_performance_tier, "1")
        self.assertEqual(len(other.message_ids), before, "no note on a team without weighting")

    def test_one_grouped_query_for_all_teams(self):
        teams = self.team | self.env["crm.team"].create([{"name": "T%s" % i} for i in range(5)])
        for team in teams[1:]:
            self.env["crm.team.member"].create({"crm_team_id": team.id, "user_id": self.manager.id})
        self._close(self.ali, won=2, lost=1)
        self.env.invalidate_all()
        statements = []
        execute = Cursor.execute

        def spy(cr, query, params=None, log_exceptions=None):
            statements.append(str(query.code if isinstance(query, SQL) else query))
            return execute(cr, query, params, log_exceptions)

        with patch("odoo.sql_db.Cursor.execute", spy):
            teams._lead_update_performance(now=NOW)
            self.env.flush_all()
        on_leads = [s for s in statements if 'FROM "crm_lead"' in s]
        self.assertEqual(len(on_leads), 1, "one grouped query on leads for the 6 teams:\n%s" % on_leads)
        self.assertEqual(self.m_ali.lead_closed_count, 3)

    @freeze_time(NOW)
    def test_salesperson_cannot_update_performance(self):
        with self.assertRaisesRegex(AccessError, "Only sales managers"):
            self.team.with_user(self.ali).action_lead_update_performance()
        self.team.with_user(self.manager).action_lead_update_performance()
        self.assertTrue(self.team.lead_performance_date)

    def test_bad_settings_are_refused_with_a_clear_error(self):
        Team = self.env["crm.team"]
        with self.assertRaisesRegex(ValidationError, "window of team Bad must be at least 1 day"):
            Team.create({"name": "Bad", "lead_performance_days": 0})
        with self.assertRaisesRegex(ValidationError, "minimum of closed leads for tier 1 must be at least 1"):
            Team.create({"name": "Bad", "lead_performance_min_closed": 0})
        with self.assertRaisesRegex(ValidationError, "percentage between 0 and 1000"):
            Team.create({"name": "Bad", "lead_performance_bonus": -5})


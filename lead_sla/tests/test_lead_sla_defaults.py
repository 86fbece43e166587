"""Issue 11: a clock for every enquiry out of the box, tier rises tighten the
clock, notes before stage moves."""
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import COLD, HOT, T0, WARM, LeadSlaCase


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaShippedDefaults(LeadSlaCase):
    """11.1: every assigned open lead gets a clock, in working hours."""

    def test_shipped_policies_follow_the_company_working_hours(self):
        calendar = self.company.resource_calendar_id
        for policy in (self.hot_policy, self.warm_policy, self.cold_policy):
            self.assertEqual(policy.calendar_id, calendar)
        self.assertEqual((self.cold_policy.response_minutes, self.cold_policy.warn_minutes),
                         (60, 15))
        self.assertEqual((self.hot_policy.response_minutes, self.warm_policy.response_minutes),
                         (5, 60))
        calendar.tz = "UTC"  # Mon-Fri 8-12, 13-17
        # a message at 23:00 is due the next working morning
        with freeze_time(datetime(2026, 11, 24, 23, 0)):
            lead = self._lead(COLD)
        self.assertEqual(lead.sla_deadline, datetime(2026, 11, 25, 9, 0))
        # clearing the calendar makes the clock run 24/7
        self.cold_policy.calendar_id = False
        with freeze_time(datetime(2026, 11, 24, 23, 0)):
            lead = self._lead(COLD)
        self.assertEqual(lead.sla_deadline, datetime(2026, 11, 25, 0, 0))

    def test_a_new_public_holiday_moves_the_next_clocks(self):
        calendar = self.company.resource_calendar_id
        calendar.tz = "UTC"
        with freeze_time(datetime(2026, 11, 24, 16, 30)):
            before = self._lead(WARM)
        self.assertEqual(before.sla_deadline, datetime(2026, 11, 25, 8, 30))
        # the working intervals are cached: the holiday must clear them
        self.env["resource.calendar.leaves"].create({
            "name": "Holiday", "calendar_id": calendar.id, "resource_id": False,
            "date_from": datetime(2026, 11, 25, 0, 0), "date_to": datetime(2026, 11, 25, 23, 59)})
        with freeze_time(datetime(2026, 11, 24, 16, 30)):
            after = self._lead(WARM)
        self.assertEqual(after.sla_deadline, datetime(2026, 11, 26, 8, 30))

    def test_new_working_hours_move_the_next_clocks(self):
        calendar = self.company.resource_calendar_id
        calendar.tz = "UTC"
        with freeze_time(datetime(2026, 11, 24, 16, 30)):
            before = self._lead(WARM)
        self.assertEqual(before.sla_deadline, datetime(2026, 11, 25, 8, 30))
        # the working intervals are cached: Wednesday opening at 10:00 must clear them
        wednesday_morning = calendar.attendance_ids.filtered(
            lambda attendance: attendance.dayofweek == "2" and attendance.hour_from == 8)
        self.assertTrue(wednesday_morning)
        wednesday_morning.hour_from = 10
        with freeze_time(datetime(2026, 11, 24, 16, 30)):
            after = self._lead(WARM)
        self.assertEqual(after.sla_deadline, datetime(2026, 11, 25, 10, 30))

    def _as_before_the_update(self):
        """The shipped policies and an assigned cold lead as version 1 left them."""
        self.env["ir.config_parameter"].set_param("lead_sla.shipped_defaults", "1")
        self.cold_policy.write({"response_minutes": 0, "warn_minutes": 0, "calendar_id": False})
        self.warm_policy.calendar_id = False
        self.hot_policy.write({"calendar_id": False, "response_minutes": 10})  # admin's change
        with freeze_time(T0):
            cold = self._lead(COLD, name="Cold Colin")
            answered = self._lead(COLD, name="Answered Anna")
            answered._lead_sla_first_response("contacted")
            unassigned = self._lead(COLD, name="Nobody's", user_id=False)
        self.assertEqual(cold.sla_status, "none")
        return cold, answered, unassigned

    def test_update_starts_clocks_from_the_update_time(self):
        cold, answered, unassigned = self._as_before_the_update()
        self.company.resource_calendar_id.tz = "UTC"
        upgrade_at = T0 + timedelta(days=20, hours=1)  # Monday 11:00
        with freeze_time(upgrade_at):
            self.assertTrue(self.env["lead.sla.policy"]._lead_sla_apply_shipped_defaults())
        calendar = self.company.resource_calendar_id
        self.assertEqual((self.cold_policy.response_minutes, self.cold_policy.warn_minutes,
                          self.cold_policy.calendar_id), (60, 15, calendar))
        self.assertEqual(self.warm_policy.calendar_id, calendar)
        # the policy the admin changed is left as it is
        self.assertEqual((self.hot_policy.response_minutes, self.hot_policy.calendar_id.id),
                         (10, False))
        self.assertEqual(cold.sla_status, "running")
        self.assertEqual(cold.sla_start, upgrade_at)
        self.assertEqual(cold.sla_deadline, upgrade_at + timedelta(hours=1))
        # answered already (without a clock then): no clock now
        self.assertEqual(answered.sla_status, "none")
        self.assertFalse(answered.sla_deadline)
        self.assertEqual(unassigned.sla_status, "none")
        # run again by the next update: changes nothing
        self.cold_policy.calendar_id = False  # the admin wants 24/7
        with freeze_time(upgrade_at + timedelta(days=1)):
            self.assertFalse(self.env["lead.sla.policy"]._lead_sla_apply_shipped_defaults())
        self.assertFalse(self.cold_policy.calendar_id)
        self.assertEqual(cold.sla_start, upgrade_at)


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaTierRise(LeadSlaCase):
    """11.2: a tier rise before the first response tightens the clock."""

    def setUp(self):
        super().setUp()
        (self.hot_policy | self.warm_policy | self.cold_policy).calendar_id = False
        with freeze_time(T0):
            self.lead = self._lead(WARM, name="Rising Rita")
        self.assertEqual((self.lead.sla_policy_id, self.lead.sla_deadline),
                         (self.warm_policy, T0 + timedelta(minutes=60)))

    def _rise(self, at):
        with freeze_time(at):
            self.lead.write(dict(HOT))
            self.lead.flush_recordset()
        self.assertEqual(self.lead.lead_tier, "hot")

    def test_rise_at_10_minutes_is_due_5_minutes_later(self):
        now = T0 + timedelta(minutes=10)
        self._rise(now)
        self.assertEqual(self.lead.sla_policy_id, self.hot_policy)
        self.assertEqual(self.lead.sla_deadline, now + timedelta(minutes=5))
        self.assertEqual(self.lead.sla_warn_at, now + timedelta(minutes=3))
        self.assertEqual(self.lead.sla_start, T0)
        self.assertEqual(self.lead.sla_status, "running")
        warned, breached = self._sweep(now + timedelta(minutes=5))
        self.assertEqual(breached, self.lead)

    def test_rise_at_58_minutes_keeps_the_earlier_deadline(self):
        self._sweep(T0 + timedelta(minutes=45))
        self.assertEqual(self.lead.sla_status, "warning")
        self._rise(T0 + timedelta(minutes=58))
        self.assertEqual(self.lead.sla_deadline, T0 + timedelta(minutes=60))
        self.assertEqual(self.lead.sla_warn_at, T0 + timedelta(minutes=45))
        self.assertEqual(self.lead.sla_status, "warning")

    def test_fall_keeps_the_clock(self):
        self._rise(T0 + timedelta(minutes=10))
        with freeze_time(T0 + timedelta(minutes=11)):
            self.lead.write({"lead_budget": 0, "lead_meeting_requested": False,
                             "lead_timeline": "month"})
            self.lead.flush_recordset()
        self.assertNotEqual(self.lead.lead_tier, "hot")
        self.assertEqual(self.lead.sla_policy_id, self.hot_policy)
        self.assertEqual(self.lead.sla_deadline, T0 + timedelta(minutes=15))

    def test_no_change_after_the_first_response(self):
        with freeze_time(T0 + timedelta(minutes=5)):
            self.lead._lead_sla_first_response("contacted")
        self._rise(T0 + timedelta(minutes=10))
        self.assertEqual(self.lead.sla_policy_id, self.warm_policy)
        self.assertEqual(self.lead.sla_deadline, T0 + timedelta(minutes=60))
        self.assertEqual(self.lead.sla_status, "met")

    def test_rise_of_many_leads_costs_no_query_per_lead(self):
        with freeze_time(T0):
            leads = self.env["crm.lead"].create([dict(
                WARM, name="Batch %s" % i, type="opportunity", user_id=self.alice.id,
                team_id=self.team.id) for i in range(20)])
            self.env.flush_all()
        with freeze_time(T0 + timedelta(minutes=10)):
            counts = []
            # a warm-up batch, then a small and a large one: same queries
            for batch in (leads[:2], leads[2:5], leads[5:]):
                before = self.env.cr.sql_log_count
                batch.write({"lead_budget": 5000, "lead_meeting_requested": True,
                             "lead_timeline": "week"})
                self.env.flush_all()
                counts.append(self.env.cr.sql_log_count - before)
        self.assertEqual(set(leads.mapped("sla_policy_id")), {self.hot_policy})
        self.assertEqual(counts[1], counts[2], counts)


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadStageNote(LeadSlaCase):
    """11.8: notes before stage moves, when the company asks for them."""

    NOW = datetime(2030, 3, 5, 10, 0)  # after the test's transaction start

    def setUp(self):
        super().setUp()
        self.company.lead_stage_note_required = True
        self.env["ir.config_parameter"].set_param("lead_sla.contacted_note_min_length", "20")
        with freeze_time(self.NOW):
            self.lead = self._lead(HOT)
        self.won = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        self.open_stages = self.stages.filtered(lambda s: not s.is_won)

    def _move(self, user, stage, minutes):
        with freeze_time(self.NOW + timedelta(minutes=minutes)):
            self.lead.with_user(user).write({"stage_id": stage.id})

    def _note(self, text, minutes):
        with freeze_time(self.NOW + timedelta(minutes=minutes)):
            self.lead.with_user(self.alice).message_post(
                body=text, message_type="comment", subtype_xmlid="mail.mt_note")

    def test_move_needs_a_note_since_the_last_move(self):
        with self.assertRaisesRegex(UserError, "Add a note of at least 20 characters"):
            self._move(self.alice, self.open_stages[1], 1)
        self.assertEqual(self.lead.stage_id, self.open_stages[0])
        self._note("too short", 2)
        with self.assertRaisesRegex(UserError, "note"):
            self._move(self.alice, self.open_stages[1], 3)
        self._note("Called: they want a quote for 20 seats.", 4)
        self._move(self.alice, self.open_stages[1], 5)
        self.assertEqual(self.lead.stage_id, self.open_stages[1])
        # the note served that move: the next one needs a new note
        with self.assertRaisesRegex(UserError, "note"):
            self._move(self.alice, self.open_stages[2], 6)

    def test_a_message_to_the_customer_counts_and_managers_are_not_exempt(self):
        with self.assertRaises(UserError):
            self._move(self.manager, self.open_stages[1], 1)
        with freeze_time(self.NOW + timedelta(minutes=2)):
            self.lead.with_user(self.alice).message_post(
                body="Hello Carl, here is the quote you asked for.", message_type="comment",
                subtype_xmlid="mail.mt_comment", partner_ids=self.customer.ids)
        self._move(self.manager, self.open_stages[1], 3)
        self.assertEqual(self.lead.stage_id, self.open_stages[1])

    def test_won_and_lost_are_not_blocked(self):
        with freeze_time(self.NOW + timedelta(minutes=1)):
            self.lead.with_user(self.alice).action_set_lost()
        self.assertFalse(self.lead.active)
        self.lead.action_unarchive()
        self._move(self.alice, self.won, 2)
        self.assertEqual(self.lead.stage_id, self.won)

    def test_off_by_default_and_in_settings(self):
        other = self.env["res.company"].create({"name": "No notes Co"})
        self.assertFalse(other.lead_stage_note_required)
        self.company.lead_stage_note_required = False
        self._move(self.alice, self.open_stages[1], 1)
        self.assertEqual(self.lead.stage_id, self.open_stages[1])
        settings = self.env["res.config.settings"].create({"lead_stage_note_required": True})
        settings.execute()
        self.assertTrue(self.company.lead_stage_note_required)

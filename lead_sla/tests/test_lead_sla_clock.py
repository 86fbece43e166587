from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import COLD, HOT, T0, WARM, LeadSlaCase


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaClock(LeadSlaCase):

    def test_hot_lead_clock_starts_on_create(self):
        with freeze_time(T0):
            lead = self._lead(HOT)
            self.assertEqual(lead.lead_tier, "hot")
        self.assertEqual(lead.sla_policy_id, self.hot_policy)
        self.assertEqual(lead.sla_status, "running")
        self.assertEqual(lead.sla_start, T0)
        self.assertEqual(lead.sla_warn_at, T0 + timedelta(minutes=3))
        self.assertEqual(lead.sla_deadline, T0 + timedelta(minutes=5))
        self.assertEqual(lead.sla_user_id, self.alice)

    def test_warm_lead_gets_60_minutes(self):
        with freeze_time(T0):
            lead = self._lead(WARM)
        self.assertEqual(lead.sla_policy_id, self.warm_policy)
        self.assertEqual(lead.sla_warn_at, T0 + timedelta(minutes=45))
        self.assertEqual(lead.sla_deadline, T0 + timedelta(minutes=60))

    def test_cold_lead_gets_a_60_minute_clock(self):
        # issue 11.1 (was: the cold policy started no clock)
        with freeze_time(T0):
            lead = self._lead(COLD)
        self.assertEqual(lead.lead_tier, "cold")
        self.assertEqual(lead.sla_policy_id, self.cold_policy)
        self.assertEqual(lead.sla_status, "running")
        self.assertEqual(lead.sla_warn_at, T0 + timedelta(minutes=45))
        self.assertEqual(lead.sla_deadline, T0 + timedelta(minutes=60))
        self.assertEqual(self.cold_policy.nurture_days, 7)

    def test_unassigned_lead_has_no_clock_until_assigned(self):
        with freeze_time(T0):
            lead = self._lead(HOT, user_id=False)
        self.assertEqual(lead.sla_status, "none")
        self.assertFalse(lead.sla_deadline)
        later = T0 + timedelta(minutes=7)
        with freeze_time(later):
            lead.write({"user_id": self.bob.id})
            lead.flush_recordset()
        self.assertEqual(lead.sla_status, "running")
        self.assertEqual(lead.sla_start, later)
        self.assertEqual(lead.sla_deadline, later + timedelta(minutes=5))

    def test_clock_restarts_for_new_owner(self):
        with freeze_time(T0):
            lead = self._lead(HOT)
        later = T0 + timedelta(minutes=4)
        with freeze_time(later):
            lead.user_id = self.bob
            lead.flush_recordset()
        self.assertEqual(lead.sla_user_id, self.bob)
        self.assertEqual(lead.sla_start, later)
        self.assertEqual(lead.sla_deadline, later + timedelta(minutes=5))
        # writing the same owner again does not restart it
        with freeze_time(later + timedelta(minutes=1)):
            lead.write({"user_id": self.bob.id, "description": "x"})
            lead.flush_recordset()
        self.assertEqual(lead.sla_start, later)

    def test_answered_lead_keeps_met_on_reassignment(self):
        with freeze_time(T0):
            lead = self._lead(HOT)
            lead._lead_sla_first_response("contacted")
            lead.user_id = self.bob
            lead.flush_recordset()
        self.assertEqual(lead.sla_status, "met")

    def test_first_matching_policy_applies(self):
        special = self.env["lead.sla.policy"].create({
            "name": "VIP team", "sequence": 1, "response_minutes": 2, "warn_minutes": 1,
            "domain": repr([("team_id", "=", self.team.id)]),
        })
        with freeze_time(T0):
            lead = self._lead(HOT)
        self.assertEqual(lead.sla_policy_id, special)
        self.assertEqual(lead.sla_deadline, T0 + timedelta(minutes=2))
        special.active = False
        with freeze_time(T0):
            lead2 = self._lead(HOT)
        self.assertEqual(lead2.sla_policy_id, self.hot_policy)

    def test_company_specific_policy(self):
        other = self.env["res.company"].create({"name": "Other SLA Co"})
        self.env["lead.sla.policy"].create({
            "name": "Other company only", "sequence": 1, "response_minutes": 1,
            "warn_minutes": 0, "company_id": other.id})
        with freeze_time(T0):
            lead = self._lead(HOT)
        self.assertEqual(lead.sla_policy_id, self.hot_policy)

    def _calendar(self, tz):
        return self.env["resource.calendar"].create({
            "name": "SLA office %s" % tz, "tz": tz,
            "attendance_ids": [(5, 0, 0)] + [
                (0, 0, {"name": "day %s %s" % (day, period), "dayofweek": str(day),
                        "hour_from": hour_from, "hour_to": hour_to, "day_period": period})
                for day in range(5)
                for period, hour_from, hour_to in (("morning", 9, 12), ("afternoon", 13, 17))
            ],
        })

    def test_calendar_night_enquiry_due_next_morning(self):
        self.warm_policy.calendar_id = self._calendar("UTC")
        # Tuesday 23:00 UTC -> Wednesday 09:00 + 60 working minutes
        with freeze_time(datetime(2026, 11, 24, 23, 0)):
            lead = self._lead(WARM)
        self.assertEqual(lead.sla_deadline, datetime(2026, 11, 25, 10, 0))
        self.assertEqual(lead.sla_warn_at, datetime(2026, 11, 25, 9, 45))

    def test_calendar_weekend_and_lunch(self):
        self.warm_policy.calendar_id = self._calendar("UTC")
        # Friday 16:30: 30 min on Friday, 30 more on Monday morning
        with freeze_time(datetime(2026, 11, 27, 16, 30)):
            lead = self._lead(WARM)
        self.assertEqual(lead.sla_deadline, datetime(2026, 11, 30, 9, 30))
        # Monday 11:30: 30 min before lunch, 30 after
        with freeze_time(datetime(2026, 11, 30, 11, 30)):
            lead2 = self._lead(WARM)
        self.assertEqual(lead2.sla_deadline, datetime(2026, 11, 30, 13, 30))

    def test_calendar_public_holiday_is_skipped(self):
        calendar = self._calendar("UTC")
        self.warm_policy.calendar_id = calendar
        self.env["resource.calendar.leaves"].create({
            "name": "Public holiday", "calendar_id": calendar.id, "resource_id": False,
            "date_from": datetime(2026, 11, 25, 0, 0), "date_to": datetime(2026, 11, 25, 23, 59)})
        # Tuesday 16:30: 30 min on Tuesday, Wednesday off, 30 min on Thursday
        with freeze_time(datetime(2026, 11, 24, 16, 30)):
            lead = self._lead(WARM)
        self.assertEqual(lead.sla_deadline, datetime(2026, 11, 26, 9, 30))

    def test_calendar_time_zone(self):
        # 09:00-12:00 in New York is 14:00-17:00 UTC in winter
        self.warm_policy.calendar_id = self._calendar("America/New_York")
        with freeze_time(datetime(2026, 11, 24, 12, 0)):  # 07:00 in New York
            lead = self._lead(WARM)
        self.assertEqual(lead.sla_deadline, datetime(2026, 11, 24, 15, 0))

    def test_response_minutes_count_working_time(self):
        self.warm_policy.calendar_id = self._calendar("UTC")
        with freeze_time(datetime(2026, 11, 27, 16, 30)):  # Friday
            lead = self._lead(WARM)
        with freeze_time(datetime(2026, 11, 30, 9, 10)):  # Monday
            lead._lead_sla_first_response("contacted")
            lead.flush_recordset()
        self.assertEqual(lead.sla_status, "met")
        self.assertEqual(lead.sla_response_minutes, 40)

    def test_invalid_policies_are_refused(self):
        Policy = self.env["lead.sla.policy"]
        from odoo.exceptions import ValidationError
        with self.assertRaises(ValidationError):
            Policy.create({"name": "bad domain", "domain": "[('no_such_field', '=', 1)]"})
        with self.assertRaises(ValidationError):
            Policy.create({"name": "warn too long", "response_minutes": 5, "warn_minutes": 5})
        with self.assertRaises(ValidationError):
            Policy.create({"name": "reassign no clock", "response_minutes": 0,
                           "warn_minutes": 0, "reassign_on_breach": True})

    def test_lost_lead_stops_clock(self):
        with freeze_time(T0):
            lead = self._lead(HOT)
            lead.action_set_lost()
        self.assertEqual(lead.sla_status, "none")
        warned, breached = self._sweep(T0 + timedelta(hours=1))
        self.assertNotIn(lead, breached)

    def test_install_did_not_start_clocks_on_existing_leads(self):
        """Leads that existed before the addon was installed (crm's demo
        leads, created with crm) got no clock, although they have owners."""
        installed = self.hot_policy.create_date
        # crm's own demo leads (other demo data may build leads with clocks)
        crm_demo = self.env["ir.model.data"].search([("module", "=", "crm"), ("model", "=", "crm.lead")])
        old = self.env["crm.lead"].with_context(active_test=False).search(
            [("id", "in", crm_demo.mapped("res_id")), ("create_date", "<", installed),
             ("user_id", "!=", False)])
        self.assertTrue(old, "crm's demo leads exist before lead_sla's data")
        self.assertEqual(set(old.mapped("sla_status")), {"none"})
        self.assertFalse(old.filtered("sla_start") | old.filtered("sla_deadline"))

    def test_old_leads_get_no_clock_from_the_install_data(self):
        """A lead assigned before the install (its columns filled by the
        pre-init hook only) is not given a clock by the data run at install
        and update, nor by a later change of its tier."""
        with freeze_time(T0):
            lead = self._lead(WARM, name="Before the addon", user_id=False)
            self.env.flush_all()
        # as an existing row looks right after install: owner, no SLA values
        self.env.cr.execute(
            "UPDATE crm_lead SET user_id = %s, sla_user_id = NULL, sla_policy_id = NULL, "
            "sla_status = 'none', create_date = %s WHERE id = %s",
            [self.alice.id, datetime(2015, 6, 1), lead.id])
        lead.invalidate_recordset()
        self.env.cr.precommit.clear()  # as in a later transaction
        with freeze_time(T0 + timedelta(hours=1)):
            started = self.env["crm.lead"]._lead_sla_start_missing_clocks()
            lead.write(dict(HOT))
            lead.flush_recordset()
        self.assertNotIn(lead, started)
        self.assertEqual(lead.lead_tier, "hot")
        self.assertEqual(lead.sla_status, "none")
        self.assertFalse(lead.sla_deadline)

    def _assignment_queries(self, lead, user):
        # warm every cache first (ours and the other addons'), as in production
        warmup = self._lead(HOT, user_id=False, name="warm-up")
        self.env.flush_all()
        warmup.write({"user_id": user.id})
        warmup.flush_recordset()
        lead.read(["user_id", "lead_tier", "sla_status"])
        before = self.env.cr.sql_log_count
        lead.write({"user_id": user.id})
        lead.flush_recordset()
        return self.env.cr.sql_log_count - before

    def test_starting_a_clock_costs_no_query(self):
        """Assigning a hot lead (policy matched, clock started) costs exactly
        the queries of assigning a lead no policy matches."""
        with freeze_time(T0):
            hot1, hot2 = self._lead(HOT, user_id=False), self._lead(HOT, user_id=False)
            self.env.flush_all()
            with_clock = self._assignment_queries(hot1, self.bob)
            self.assertEqual(hot1.sla_status, "running")
            (self.hot_policy | self.warm_policy | self.cold_policy).active = False
            self.env.flush_all()
            without_clock = self._assignment_queries(hot2, self.bob)
            self.assertEqual(hot2.sla_status, "none")
        self.assertEqual(with_clock, without_clock)

    def test_clock_is_written_by_the_assignment_update(self):
        """No policy lookup and no second UPDATE: the clock values travel in
        the UPDATE that writes user_id."""
        with freeze_time(T0):
            lead = self._lead(HOT, user_id=False)
            warmup = self._lead(HOT, user_id=False, name="warm-up")
            self.env.flush_all()
            warmup.write({"user_id": self.alice.id})
            self.env.flush_all()
            lead.read(["user_id", "lead_tier", "sla_status"])
            with self.assertLogs("odoo.sql_db", "DEBUG") as logs:
                lead.write({"user_id": self.bob.id})
                lead.flush_recordset()
        queries = [line for line in logs.output if "query:" in line]
        self.assertFalse([q for q in queries if "lead_sla_policy" in q or "resource_" in q])
        updates = [q for q in queries if 'UPDATE "crm_lead"' in q]
        self.assertEqual(len(updates), 1, updates)
        self.assertIn('"sla_deadline"', updates[0])
        self.assertIn('"user_id"', updates[0])
        self.assertEqual(lead.sla_deadline, T0 + timedelta(minutes=5))

from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .common import COLD, HOT, T0, WARM, LeadSlaCase


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaExceptionReport(LeadSlaCase):

    def _sent_reports(self):
        return self.env["mail.mail"].search([("subject", "ilike", "Overdue leads")])

    def test_report_lists_overdue_leads_for_managers(self):
        with freeze_time(T0):
            late = self._lead(HOT, name="Late Lucy")
            on_time = self._lead(HOT, name="Quick Quentin")
        with freeze_time(T0 + timedelta(minutes=1)):
            on_time._lead_sla_first_response("contacted")
        self._sweep(T0 + timedelta(minutes=20))
        self.assertEqual(late.sla_status, "breached")
        now = T0 + timedelta(minutes=65)
        sent = self.env["crm.lead"]._cron_lead_sla_exception_report(now=now, force=True)
        # other overdue leads of the database (e.g. a demo's) go to their own managers
        self.assertEqual(sent, len(self._sent_reports()))
        mails = self._sent_reports().filtered(lambda m: "Late Lucy" in m.body_html)
        self.assertEqual(len(mails), 2)  # the team leader and the escalation user
        self.assertEqual(mails.recipient_ids, (self.manager | self.leader).partner_id)
        body = mails[0].body_html
        self.assertIn("Late Lucy", body)
        self.assertIn("Sla Alice", body)
        self.assertIn("Hot", body)  # policy
        self.assertIn("1 h 5 min", body)  # age
        self.assertNotIn("Quick Quentin", body)

    def test_report_waits_for_working_hours_interval(self):
        with freeze_time(T0):
            self._lead(HOT, name="Late Lucy")
        self._sweep(T0 + timedelta(minutes=20))
        Lead = self.env["crm.lead"]
        self.env["ir.config_parameter"].set_param("lead_sla.report_interval_hours", "2")
        calendar = self.company.resource_calendar_id
        calendar.tz = "UTC"  # Mon-Fri 8-12, 13-17
        Lead._cron_lead_sla_exception_report(now=T0 + timedelta(hours=1), force=True)  # 11:00
        count = len(self._sent_reports())
        self.assertFalse(Lead._cron_lead_sla_exception_report(now=T0 + timedelta(hours=2)))
        # 11:00 -> 13:00 is two hours, but 12-13 is lunch: one working hour only
        self.assertFalse(Lead._cron_lead_sla_exception_report(now=T0 + timedelta(hours=3)))
        self.assertEqual(len(self._sent_reports()), count)
        self.assertTrue(Lead._cron_lead_sla_exception_report(now=T0 + timedelta(hours=4)))
        self.assertGreater(len(self._sent_reports()), count)

    def test_overdue_menu_action(self):
        with freeze_time(T0):
            late = self._lead(HOT, name="Late Lucy")
        self._sweep(T0 + timedelta(minutes=20))
        action = self.env.ref("lead_sla.crm_lead_action_overdue")
        from ast import literal_eval
        leads = self.env["crm.lead"].search(literal_eval(action.domain))
        self.assertIn(late, leads)


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaFollowUp(LeadSlaCase):

    def test_cadence_plans_next_step_for_contacted_leads(self):
        with freeze_time(T0):
            lead = self._lead(WARM, name="Followed Fiona")
            lead._lead_sla_first_response("contacted")
        Lead = self.env["crm.lead"]
        self.assertIn(lead, Lead.search([("activity_ids", "=", False),
                                         ("id", "=", lead.id)]))  # "No next step"
        acts = Lead._cron_lead_sla_followup(now=T0 + timedelta(hours=2))
        mine = acts.filtered(lambda a: a.res_id == lead.id)
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine.date_deadline, (T0 + timedelta(days=1)).date())
        self.assertEqual(mine.user_id, self.alice)
        # a lead with a next step is left alone
        acts = Lead._cron_lead_sla_followup(now=T0 + timedelta(hours=3))
        self.assertFalse(acts.filtered(lambda a: a.res_id == lead.id))
        # that step done on day 2: the next one is day 3
        mine.action_done()
        acts = Lead._cron_lead_sla_followup(now=T0 + timedelta(days=2))
        self.assertEqual(acts.filtered(lambda a: a.res_id == lead.id).date_deadline,
                         (T0 + timedelta(days=3)).date())

    def test_custom_cadence(self):
        self.env["ir.config_parameter"].set_param("lead_sla.followup_cadence", "2, 5")
        with freeze_time(T0):
            lead = self._lead(WARM)
            lead._lead_sla_first_response("contacted")
        acts = self.env["crm.lead"]._cron_lead_sla_followup(now=T0 + timedelta(days=3))
        self.assertEqual(acts.filtered(lambda a: a.res_id == lead.id).date_deadline,
                         (T0 + timedelta(days=5)).date())

    def test_cold_lead_nurtured_every_7_days(self):
        with freeze_time(T0):
            lead = self._lead(COLD)
        acts = self.env["crm.lead"]._cron_lead_sla_followup(now=T0)
        act = acts.filtered(lambda a: a.res_id == lead.id)
        self.assertEqual(act.date_deadline, (T0 + timedelta(days=7)).date())
        self.assertEqual(act.summary, "Nurture follow-up")

    def test_running_clock_gets_no_followup(self):
        with freeze_time(T0):
            lead = self._lead(HOT)
        acts = self.env["crm.lead"]._cron_lead_sla_followup(now=T0)
        self.assertFalse(acts.filtered(lambda a: a.res_id == lead.id))


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaSettingsAndAccess(LeadSlaCase):

    def test_settings_saved(self):
        settings = self.env["res.config.settings"].create({
            "lead_sla_report_interval_hours": 4,
            "lead_sla_contacted_note_min_length": 10,
            "lead_sla_followup_cadence": "2,4 ,8",
        })
        settings.execute()
        ICP = self.env["ir.config_parameter"]
        self.assertEqual(ICP.get_param("lead_sla.report_interval_hours"), "4")
        self.assertEqual(ICP.get_param("lead_sla.contacted_note_min_length"), "10")
        self.assertEqual(ICP.get_param("lead_sla.followup_cadence"), "2, 4, 8")
        self.assertEqual(self.env["crm.lead"]._lead_sla_cadence(), (2, 4, 8))

    def test_invalid_settings_refused(self):
        ICP = self.env["ir.config_parameter"]
        before = ICP.get_param("lead_sla.followup_cadence")
        for vals, message in (
                ({"lead_sla_followup_cadence": "7, 3"}, "increase"),
                ({"lead_sla_followup_cadence": "soon"}, "whole days"),
                ({"lead_sla_followup_cadence": ""}, "empty"),
                ({"lead_sla_contacted_note_min_length": 0}, "between 1 and 2000"),
                ({"lead_sla_report_interval_hours": 0}, "working hours"),
        ):
            with self.subTest(vals=vals), self.assertRaisesRegex(ValidationError, message):
                self.env["res.config.settings"].create(vals).execute()
        self.assertEqual(ICP.get_param("lead_sla.followup_cadence"), before)

    def test_salesman_reads_but_cannot_edit_policies(self):
        policy = self.hot_policy.with_user(self.alice)
        self.assertEqual(policy.response_minutes, 5)
        with self.assertRaises(AccessError):
            policy.write({"response_minutes": 60})
        with self.assertRaises(AccessError):
            self.env["lead.sla.policy"].with_user(self.alice).create({"name": "mine"})
        self.hot_policy.with_user(self.manager).write({"response_minutes": 10})
        self.assertEqual(self.hot_policy.response_minutes, 10)

    def test_policy_multi_company(self):
        other = self.env["res.company"].create({"name": "SLA Other Co"})
        foreign = self.env["lead.sla.policy"].create({
            "name": "Foreign", "company_id": other.id, "response_minutes": 5,
            "warn_minutes": 1})
        visible = self.env["lead.sla.policy"].with_user(self.alice).search([])
        self.assertNotIn(foreign, visible)
        self.assertIn(self.hot_policy, visible)

    def test_salesman_marks_own_lead_contacted(self):
        with freeze_time(T0):
            lead = self._lead(HOT)
            lead.with_user(self.alice)._lead_sla_mark_contacted(
                "Called, agreed to send the brochure today.")
        self.assertEqual(lead.sla_status, "met")


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaReporting(LeadSlaCase):

    def test_compliance_and_percentiles(self):
        # a 15-minute clock: every answer below is on time (since issue 17.4
        # an answer after the deadline is late even before a sweep ran)
        self.hot_policy.response_minutes = 15
        leads = self.env["crm.lead"]
        with freeze_time(T0):
            for i in range(10):
                leads |= self._lead(HOT, name="R%s" % i)
        for i, lead in enumerate(leads):
            with freeze_time(T0 + timedelta(minutes=i + 1)):
                lead._lead_sla_first_response("contacted")
        self.env.flush_all()
        # minutes 1..10: breach count stays 0 (no sweep), median 5.5, p90 9.1
        Report = self.env["lead.sla.report"]
        groups = Report._read_group(
            [("lead_id", "in", leads.ids)], ["user_id"],
            ["response_median:avg", "response_p90:avg", "compliance_rate:avg", "__count"])
        (user, median, p90, rate, count), = groups
        self.assertEqual(user, self.alice)
        self.assertAlmostEqual(median, 5.5)
        self.assertAlmostEqual(p90, 9.1)
        self.assertEqual(rate, 100)
        self.assertEqual(count, 10)

    def test_breached_leads_lower_compliance(self):
        with freeze_time(T0):
            quick = self._lead(HOT, name="quick")
            slow = self._lead(HOT, name="slow")
        with freeze_time(T0 + timedelta(minutes=1)):
            quick._lead_sla_first_response("contacted")
        self._sweep(T0 + timedelta(minutes=6))
        self.env.flush_all()
        data = self.env["lead.sla.report"].web_read_group(
            [("lead_id", "in", (quick | slow).ids)], ["compliance_rate:avg"], ["lead_tier"])
        self.assertEqual(data["groups"][0]["compliance_rate"], 50)


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaViews(LeadSlaCase):

    def test_views_load_with_sla_widgets(self):
        views = self.env["crm.lead"].with_user(self.alice).get_views(
            [(False, "kanban"), (False, "form"), (False, "list"), (False, "search")])["views"]
        self.assertIn("o_lead_sla_badge", views["kanban"]["arch"])
        self.assertIn("action_lead_sla_mark_contacted", views["form"]["arch"])
        self.assertIn("sla_status", views["list"]["arch"])
        self.assertIn("sla_no_next_step", views["search"]["arch"])
        report = self.env["lead.sla.report"].with_user(self.alice).get_views(
            [(False, "graph"), (False, "pivot")])["views"]
        self.assertIn("response_p90", report["pivot"]["arch"])
        settings = self.env["res.config.settings"].get_views([(False, "form")])["views"]
        self.assertIn("lead_sla_followup_cadence", settings["form"]["arch"])
        for xmlid in ("lead_sla.lead_sla_overdue_menu", "lead_sla.lead_sla_report_menu",
                      "lead_sla.lead_sla_policy_menu"):
            self.assertTrue(self.env.ref(xmlid).action)

    def test_kanban_time_left_label(self):
        with freeze_time(T0):
            lead = self._lead(HOT)
        with freeze_time(T0 + timedelta(minutes=1)):
            lead.invalidate_recordset(["sla_time_left"])
            self.assertEqual(lead.sla_time_left, "4 min left")
        with freeze_time(T0 + timedelta(minutes=8)):
            lead.invalidate_recordset(["sla_time_left"])
            self.assertEqual(lead.sla_time_left, "3 min overdue")

    def test_policy_and_settings_actions(self):
        before = self.hot_policy.lead_count
        with freeze_time(T0):
            lead = self._lead(HOT)
        self.hot_policy.invalidate_recordset(["lead_count"])
        self.assertEqual(self.hot_policy.lead_count, before + 1)
        action = self.hot_policy.action_view_leads()
        self.assertIn(lead, self.env["crm.lead"].search(action["domain"]))
        action = self.env["res.config.settings"].create({}).action_lead_sla_policies()
        self.assertEqual(action["res_model"], "lead.sla.policy")

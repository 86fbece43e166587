"""Regression tests of issue 17 (defects found in the first hour of use)."""
from ast import literal_eval
from datetime import timedelta

from freezegun import freeze_time
from lxml import etree

from odoo.tests import new_test_user, tagged

from .common import HOT, T0, LeadSlaCase


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaAnsweredLate(LeadSlaCase):
    """17.4: answered after the deadline shows "Answered late", not "Met"."""

    def _late_lead(self):
        with freeze_time(T0):
            lead = self._lead(HOT, name="Late Larry")
        self._sweep(T0 + timedelta(minutes=6))
        with freeze_time(T0 + timedelta(minutes=18)):
            lead._lead_sla_first_response("contacted")
        lead.flush_recordset()
        return lead

    def test_answer_after_deadline_is_late_and_on_time_is_met(self):
        lead = self._late_lead()
        self.assertEqual(lead.sla_status, "late")
        self.assertEqual(lead.sla_time_left, "Answered late")
        self.assertEqual(dict(lead._fields["sla_status"]._description_selection(self.env))
                         ["late"], "Answered late")
        with freeze_time(T0):
            quick = self._lead(HOT, name="Quick Quinn")
        with freeze_time(T0 + timedelta(minutes=2)):
            quick._lead_sla_first_response("contacted")
        self.assertEqual(quick.sla_status, "met")

    def test_answer_after_deadline_without_sweep_is_late(self):
        # the sweep did not run yet (e.g. the cron was late): still late
        with freeze_time(T0):
            lead = self._lead(HOT)
        with freeze_time(T0 + timedelta(minutes=7)):
            lead.with_user(self.alice).message_post(
                body="Sorry for the wait", message_type="comment",
                subtype_xmlid="mail.mt_comment")
        self.assertEqual(lead.sla_status, "late")

    def test_existing_met_rows_answered_after_deadline_are_migrated(self):
        lead = self._late_lead()
        lead2 = self._lead(HOT, name="On time")
        lead2._lead_sla_first_response("contacted")
        # rows as the previous version stored them
        self.env.cr.execute("UPDATE crm_lead SET sla_status = 'met' WHERE id IN %s",
                            [(lead.id, lead2.id)])
        lead.invalidate_recordset()
        self.env["crm.lead"].init()  # what install and update run
        lead.invalidate_recordset()
        lead2.invalidate_recordset()
        self.assertEqual(lead.sla_status, "late")
        self.assertEqual(lead2.sla_status, "met")
        self.env["crm.lead"].init()  # idempotent
        lead.invalidate_recordset()
        self.assertEqual(lead.sla_status, "late")

    def test_overdue_leads_lists_unanswered_open_leads_only(self):
        late = self._late_lead()
        with freeze_time(T0):
            silent = self._lead(HOT, name="Silent Sam")
            won = self._lead(HOT, name="Won Wendy")
        self._sweep(T0 + timedelta(minutes=30))
        self.assertEqual(silent.sla_status, "breached")
        # a breached lead closed as won without an answer row stored as breached
        self.env.cr.execute("UPDATE crm_lead SET probability = 100 WHERE id = %s", [won.id])
        won.invalidate_recordset()
        action = self.env.ref("lead_sla.crm_lead_action_overdue")
        listed = self.env["crm.lead"].search(literal_eval(action.domain))
        self.assertIn(silent, listed)
        self.assertNotIn(late, listed)
        self.assertNotIn(won, listed)
        overdue = self.env["crm.lead"].search(self.env["crm.lead"]._lead_sla_overdue_domain())
        self.assertEqual(overdue & (late | silent | won), silent)

    def test_report_counts_late_as_answered_not_on_time(self):
        late = self._late_lead()
        self.env.flush_all()
        row = self.env["lead.sla.report"].search([("lead_id", "=", late.id)])
        self.assertEqual((row.responded, row.on_time, row.compliance_rate, row.outcome),
                         (1, 0, 0.0, "late"))
        self.assertEqual(row.sla_status, "late")
        views = self.env["crm.lead"].get_views([(False, "search")])["views"]
        self.assertIn('name="sla_late"', views["search"]["arch"])


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaBreachTellsSomebody(LeadSlaCase):
    """17.5: with no team leader and no escalation users, the breach goes to
    the team's sales managers, else the company's."""

    def setUp(self):
        super().setUp()
        self.hot_policy.escalate_user_ids = False
        self.team.user_id = False

    def _breach_note_recipients(self, lead):
        self._sweep(T0 + timedelta(minutes=6))
        note = lead.message_ids.filtered(lambda m: "Response SLA breached" in (m.body or ""))
        self.assertEqual(len(note), 1)
        return self.env["mail.notification"].search(
            [("mail_message_id", "=", note.id)]).res_partner_id

    def test_company_sales_managers_are_told(self):
        with freeze_time(T0):
            lead = self._lead(HOT)
        told = self._breach_note_recipients(lead)
        company_managers = self.env["res.users"].search([
            ("groups_id", "in", self.env.ref("sales_team.group_sale_manager").id),
            ("share", "=", False), ("company_ids", "in", self.company.id)])
        self.assertIn(self.manager.partner_id, told)
        self.assertEqual(told, company_managers.partner_id)
        self.assertNotIn(self.alice.partner_id, told)

    def test_team_sales_manager_is_told_first(self):
        team_manager = new_test_user(
            self.env, login="sla_team_manager", name="Team Manager Tina",
            groups="sales_team.group_sale_manager,base.group_user")
        self.team.member_ids = [(4, team_manager.id)]
        with freeze_time(T0):
            lead = self._lead(HOT)
        self.assertEqual(self._breach_note_recipients(lead), team_manager.partner_id)

    def test_policy_form_says_who_is_told(self):
        self.assertIn("sales managers", self.hot_policy.breach_recipients)
        self.assertIn(self.manager.name, self.hot_policy.breach_recipients)
        self.hot_policy.escalate_user_ids = self.manager
        self.assertIn("Sla Manager and the lead's team leader",
                      self.hot_policy.breach_recipients)
        form = self.env["lead.sla.policy"].get_views([(False, "form")])["views"]["form"]
        self.assertIn('name="breach_recipients"', form["arch"])


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaEmptyStates(LeadSlaCase):
    """17.7: empty and zero states."""

    def _arch(self, model, view_type):
        arch = self.env[model].get_views([(False, view_type)])["views"][view_type]["arch"]
        return etree.fromstring(arch)

    def test_response_list_hides_response_of_unanswered_leads(self):
        node, = self._arch("lead.sla.report", "list").xpath("//field[@name='response_minutes']")
        self.assertEqual(node.get("invisible"), "not first_response_date")

    def test_response_chart_shows_leads_at_zero_compliance(self):
        with freeze_time(T0):
            lead = self._lead(HOT)
        self._sweep(T0 + timedelta(minutes=10))
        self.env.flush_all()
        graph = self._arch("lead.sla.report", "graph")
        measure, = graph.xpath("//field[@type='measure']")
        self.assertEqual(measure.get("name"), "nbr")
        self.assertIn("outcome", graph.xpath("//field[not(@type)]/@name"))
        groups = self.env["lead.sla.report"]._read_group(
            [("lead_id", "=", lead.id)], ["outcome"], ["nbr:sum", "compliance_rate:avg"])
        self.assertEqual(groups, [("overdue", 1, 0.0)])

    def test_contacted_wizard_states_the_real_minimum(self):
        self.env["ir.config_parameter"].set_param("lead_sla.contacted_note_min_length", "30")
        Wizard = self.env["lead.sla.contacted"].with_user(self.alice)
        # what the web client asks when it opens the form
        result = Wizard.onchange({}, [], {"min_length": {}, "note": {}, "lead_ids": {}})
        self.assertEqual(result["value"]["min_length"], 30)


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaPhoneForm(LeadSlaCase):
    """17.10: at phone size the header buttons go to the gear menu and the tab
    strip hides the Response SLA tab."""

    def test_sla_state_and_mark_contacted_near_the_top_of_the_form(self):
        arch = etree.fromstring(self.env["crm.lead"].with_user(self.alice).get_views(
            [(False, "form")])["views"]["form"]["arch"])
        top, = arch.xpath("//sheet//div[contains(@class, 'o_lead_sla_state')]")
        self.assertFalse(top.xpath("ancestor::notebook"))
        self.assertTrue(top.xpath(".//field[@name='sla_status'][@widget='badge']"))
        self.assertTrue(top.xpath(".//field[@name='sla_time_left']"))
        button, = top.xpath(".//button[@name='action_lead_sla_mark_contacted']")
        self.assertFalse(button.xpath("ancestor::header"))
        self.assertIn("d-md-none", button.get("class"))

from ast import literal_eval
from datetime import timedelta

from freezegun import freeze_time
from lxml import etree

from odoo.tests import tagged

from .common import HOT, T0, LeadSlaCase

WARN = T0 + timedelta(minutes=3)  # the hot policy warns at minute 3


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaWarningsClosed(LeadSlaCase):
    """The "First response due within ..." to-do goes away once it is moot:
    the lead is answered, won, lost or archived. The owner's own activities
    stay."""

    def setUp(self):
        super().setUp()
        with freeze_time(T0):
            self.lead = self._lead(HOT, name="Warned Wendy")
            self.other = self._lead(HOT, name="Warned Walter")
        warned, _breached = self._sweep(WARN)
        self.assertEqual(warned, self.lead | self.other)
        self.own_todo = self.lead.activity_schedule(
            "mail.mail_activity_data_todo", summary="Send the price list", user_id=self.alice.id)

    def _warnings(self, lead):
        return lead.activity_ids.filtered(
            lambda a: (a.summary or "").startswith("First response due"))

    def assertWarningGone(self, lead):
        lead.invalidate_recordset(["activity_ids"])
        self.assertFalse(self._warnings(lead), "the SLA warning is still on the lead")
        self.assertTrue(self._warnings(self.other), "another lead's warning was removed")

    def test_warning_planned_and_flagged(self):
        warning = self._warnings(self.lead)
        self.assertEqual(len(warning), 1)
        self.assertTrue(warning.lead_sla_warning)
        self.assertFalse(self.own_todo.lead_sla_warning)

    def test_answered_by_mark_contacted(self):
        with freeze_time(WARN + timedelta(minutes=1)):
            self.lead.with_user(self.alice).action_lead_sla_mark_contacted(
                "Called, she wants a quote by Friday")
        self.assertEqual(self.lead.sla_status, "met")
        self.assertWarningGone(self.lead)
        self.assertTrue(self.own_todo.exists(), "the owner's own to-do must stay")

    def test_answered_by_message_after_breach(self):
        self._sweep(T0 + timedelta(minutes=6))
        self.assertEqual(self.lead.sla_status, "breached")
        with freeze_time(T0 + timedelta(minutes=7)):
            self.lead.with_user(self.alice).message_post(
                body="Hello, here is our offer", message_type="comment",
                subtype_xmlid="mail.mt_comment")
        self.assertEqual(self.lead.sla_status, "late")
        self.assertWarningGone(self.lead)
        self.assertTrue(self.own_todo.exists())

    def test_answered_by_stage_move(self):
        with freeze_time(WARN + timedelta(minutes=1)):
            self.lead.with_user(self.alice).stage_id = self.stages[1]
        self.assertTrue(self.lead.sla_first_response_date)
        self.assertWarningGone(self.lead)
        self.assertTrue(self.own_todo.exists())

    def test_won(self):
        with freeze_time(WARN + timedelta(minutes=1)):
            self.lead.with_user(self.alice).action_set_won()
        self.assertEqual(self.lead.probability, 100)
        self.assertWarningGone(self.lead)

    def test_lost(self):
        with freeze_time(WARN + timedelta(minutes=1)):
            self.lead.with_user(self.alice).action_set_lost()
        self.assertFalse(self.lead.active)
        self.assertFalse(self.env["mail.activity"].search([
            ("res_model", "=", "crm.lead"), ("res_id", "=", self.lead.id),
            ("lead_sla_warning", "=", True)]))
        self.assertTrue(self._warnings(self.other))

    def test_archived(self):
        self.lead.with_user(self.alice).action_archive()
        self.assertFalse(self.env["mail.activity"].search([
            ("res_model", "=", "crm.lead"), ("res_id", "=", self.lead.id),
            ("lead_sla_warning", "=", True)]))
        self.assertTrue(self._warnings(self.other))

    def test_update_cleans_warnings_of_older_versions(self):
        """An existing database: warnings planned before the flag existed
        are flagged, and those of leads answered since are removed."""
        old = self._warnings(self.lead) | self._warnings(self.other)
        old.write({"lead_sla_warning": False})
        self.lead._lead_sla_first_response("contacted", now=WARN + timedelta(minutes=1))
        self.assertTrue(self._warnings(self.lead), "unflagged: not recognised before the update")
        self.env["crm.lead"]._lead_sla_migrate_warnings()
        self.env["crm.lead"]._lead_sla_migrate_warnings()  # idempotent
        self.assertWarningGone(self.lead)
        self.assertTrue(self._warnings(self.other).lead_sla_warning)
        self.assertTrue(self.own_todo.exists())


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaNoNextStepFilter(LeadSlaCase):
    """The "No Next Step" filter of both lead search views."""

    def _filter_domain(self, xmlid):
        view = self.env.ref(xmlid)
        arch = self.env["crm.lead"].get_views([(view.id, "search")])["views"]["search"]["arch"]
        node = etree.fromstring(arch).xpath("//filter[@name='sla_no_next_step']")[0]
        return literal_eval(node.get("domain"))

    def test_same_leads_as_before_and_one_query(self):
        with freeze_time(T0):
            idle = self._lead(HOT, name="Idle Ivan")
            busy = self._lead(HOT, name="Busy Bella")
            won = self._lead(HOT, name="Won Wanda")
        busy.activity_schedule("mail.mail_activity_data_call", user_id=self.alice.id)
        won.action_set_won()
        # the definition the filter had: every open lead without an activity
        reference = [("activity_ids", "=", False), ("active", "=", True),
                     "|", ("probability", "=", False), ("probability", "<", 100)]
        Lead = self.env["crm.lead"].with_user(self.alice)
        expected = Lead.search(reference)
        self.assertIn(idle, expected)
        for xmlid in ("crm.view_crm_case_opportunities_filter", "crm.view_crm_case_leads_filter"):
            domain = self._filter_domain(xmlid)
            found = Lead.search(domain)
            self.assertEqual(found, expected, xmlid)
            self.assertIn(idle, found)
            self.assertNotIn(busy, found)
            self.assertNotIn(won, found)
            # one SQL query: the activities are tested in a subquery, not
            # read into Python first (which cost a query per search and a
            # read of every lead's activities)
            Lead.search(domain)
            with self.assertQueryCount(1):
                Lead.search(domain)

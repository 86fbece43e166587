"""Issue 10: one validation for rule domains, one selection per idea, and the
first-response write under the owner rule."""
from datetime import timedelta

from freezegun import freeze_time

from odoo.addons.lead_scoring.vocabulary import TIER_SELECTION
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import new_test_user, tagged

from ..vocabulary import SLA_STATUS
from .common import HOT, T0, LeadSlaCase


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaStructure(LeadSlaCase):

    def test_invalid_policy_domain_is_refused_with_a_clear_error(self):
        Policy = self.env["lead.sla.policy"]
        with self.assertRaisesRegex(
                ValidationError, r"filter of the SLA policy 'Bad' is invalid: "
                r"the condition \('no_such_field', '=', 1\)"):
            Policy.create({"name": "Bad", "domain": "[('no_such_field', '=', 1)]"})
        with self.assertRaisesRegex(ValidationError, "is not a condition"):
            Policy.create({"name": "Bad 2", "domain": "[('lead_tier', '=', 'hot'), 'oops']"})
        with self.assertRaisesRegex(ValidationError, "not a list of conditions"):
            self.hot_policy.domain = "lead_tier == 'hot'"
        self.assertTrue(Policy._fields["domain"].required)

    def test_selections_are_declared_once(self):
        Report = self.env["lead.sla.report"]
        self.assertEqual(Report._fields["lead_tier"].selection, TIER_SELECTION)
        self.assertEqual(Report._fields["sla_status"].selection, SLA_STATUS)
        self.assertEqual(self.env["crm.lead"]._fields["sla_status"].selection, SLA_STATUS)

    def test_mark_contacted_respects_the_owner_rule(self):
        """A salesperson who may read every lead but edit only their own (or
        unassigned) ones cannot stop a colleague's clock with Mark Contacted."""
        carol = new_test_user(
            self.env, login="sla_carol", name="Sla Carol",
            groups="sales_team.group_sale_salesman_all_leads,base.group_user")
        with freeze_time(T0):
            lead = self._lead(HOT, user=self.alice)
        with freeze_time(T0 + timedelta(minutes=1)), self.assertRaises(AccessError):
            lead.with_user(carol).action_lead_sla_mark_contacted(
                note="I called the customer myself, all good.")
        lead.invalidate_recordset()
        self.assertEqual(lead.sla_status, "running")
        self.assertFalse(lead.sla_first_response_date)
        # the owner can
        with freeze_time(T0 + timedelta(minutes=2)):
            lead.with_user(self.alice).action_lead_sla_mark_contacted(
                note="Called the customer: visit booked on Friday.")
        self.assertEqual(lead.sla_status, "met")

    def test_first_response_writes_only_the_response_fields(self):
        with freeze_time(T0):
            lead = self._lead(HOT, user=self.alice)
        with self.assertLogs("odoo.sql_db", "DEBUG") as logs, \
                freeze_time(T0 + timedelta(minutes=1)):
            lead.with_user(self.leader).message_post(
                body="Hello Carl, we can help.", message_type="comment",
                subtype_xmlid="mail.mt_comment")
            lead.flush_recordset()
        updates = [line for line in logs.output if 'UPDATE "crm_lead"' in line]
        self.assertTrue(updates)
        for update in updates:
            self.assertNotIn('"user_id"', update)
            self.assertNotIn('"stage_id"', update)
        self.assertEqual(lead.user_id, self.alice)
        self.assertEqual(lead.sla_status, "met")

    def test_answered_leads_are_not_rerouted(self):
        with freeze_time(T0):
            lead = self._lead(HOT)
        self.assertFalse(lead._lead_distribution_is_answered())
        lead._lead_sla_first_response("contacted")
        self.assertTrue(lead._lead_distribution_is_answered())

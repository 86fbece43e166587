from datetime import timedelta
from unittest import skipUnless

from freezegun import freeze_time

from odoo.tests import tagged

from .common import HOT, T0, LeadSlaCase


def _has_distribution(env):
    return hasattr(env["crm.lead"], "_lead_distribution_route")


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaSweep(LeadSlaCase):

    def setUp(self):
        super().setUp()
        with freeze_time(T0):
            self.lead = self._lead(HOT, name="Hot Harry")

    def _breach_notes(self, lead):
        return lead.message_ids.filtered(lambda m: "Response SLA breached" in (m.body or ""))

    def _warning_activities(self, lead):
        return lead.activity_ids.filtered(
            lambda a: (a.summary or "").startswith("First response due"))

    def test_warning_at_minute_3(self):
        warned, breached = self._sweep(T0 + timedelta(minutes=2, seconds=59))
        self.assertFalse(warned | breached)
        self.assertEqual(self.lead.sla_status, "running")

        warned, breached = self._sweep(T0 + timedelta(minutes=3))
        self.assertEqual(warned, self.lead)
        self.assertEqual(self.lead.sla_status, "warning")
        activity = self._warning_activities(self.lead)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.alice)
        self.assertIn("within 2 min", activity.summary)
        self.assertIn("Hot Harry", activity.note)
        notice = self.env["mail.notification"].search([
            ("res_partner_id", "=", self.alice.partner_id.id),
            ("mail_message_id.model", "=", "crm.lead"),
            ("mail_message_id.res_id", "=", self.lead.id)])
        self.assertEqual(len(notice), 1)
        self.assertIn("needs a first response within 2 min", notice.mail_message_id.body)

        # a second sweep warns no one again
        warned, breached = self._sweep(T0 + timedelta(minutes=4))
        self.assertFalse(warned | breached)
        self.assertEqual(len(self._warning_activities(self.lead)), 1)

    def test_owner_with_several_warnings_gets_one_digest(self):
        with freeze_time(T0):
            other = self._lead(HOT, name="Hot Hannah")
        warned, breached = self._sweep(T0 + timedelta(minutes=3))
        self.assertEqual(warned, self.lead | other)
        self.assertEqual(len(self._warning_activities(self.lead | other)), 2)
        digest = self.env["mail.message"].search([
            ("partner_ids", "in", self.alice.partner_id.id),
            ("subject", "=", "Response SLA: 2 leads need a first response")])
        self.assertEqual(len(digest), 1)
        self.assertIn("Hot Harry", digest.body)
        self.assertIn("Hot Hannah", digest.body)

    def test_breach_at_minute_5_notifies_managers(self):
        self._sweep(T0 + timedelta(minutes=3))
        warned, breached = self._sweep(T0 + timedelta(minutes=5))
        self.assertEqual(breached, self.lead)
        self.assertEqual(self.lead.sla_status, "breached")
        self.assertEqual(self.lead.sla_breach_count, 1)
        note = self._breach_notes(self.lead)
        self.assertEqual(len(note), 1)
        self.assertTrue(note.subtype_id.internal)
        self.assertIn("Sla Alice", note.body)
        inbox = self.env["mail.notification"].search([("mail_message_id", "=", note.id)])
        self.assertEqual(inbox.res_partner_id, (self.manager | self.leader).partner_id)
        self.assertTrue(all(n.notification_type == "inbox" and not n.is_read for n in inbox))
        # idempotent
        self._sweep(T0 + timedelta(minutes=6))
        self.assertEqual(self.lead.sla_breach_count, 1)
        self.assertEqual(len(self._breach_notes(self.lead)), 1)

    def test_late_sweep_breaches_without_warning(self):
        warned, breached = self._sweep(T0 + timedelta(minutes=30))
        self.assertFalse(warned)
        self.assertEqual(breached, self.lead)
        self.assertFalse(self._warning_activities(self.lead))

    def test_met_clock_is_never_swept(self):
        with freeze_time(T0 + timedelta(minutes=1)):
            self.lead._lead_sla_first_response("contacted")
        warned, breached = self._sweep(T0 + timedelta(minutes=30))
        self.assertFalse(warned | breached)
        self.assertEqual(self.lead.sla_status, "met")

    def test_trigger_scheduled_at_next_warning(self):
        Trigger = self.env["ir.cron.trigger"]
        cron = self.env.ref("lead_sla.ir_cron_lead_sla_sweep")
        self.env.cr.precommit.clear()  # as after a commit
        later = T0 + timedelta(minutes=10)
        with freeze_time(later):
            self._lead(HOT, name="Hot Henry")
            self.env.flush_all()
            self.env.cr.precommit.run()  # what the commit runs
        triggers = Trigger.search([("cron_id", "=", cron.id)])
        self.assertIn(later + timedelta(minutes=3), triggers.mapped("call_at"))
        self.assertNotIn("lead_sla.cron_at_commit:lead_sla.ir_cron_lead_sla_sweep",
                         self.env.cr.precommit.data)
        # a later clock needs no new trigger: the pending one wakes the sweep
        # first, and the sweep reschedules itself
        count = len(triggers)
        with freeze_time(later + timedelta(minutes=1)):
            self._lead(HOT, name="Hot Hugo")
            self.env.flush_all()
            self.env.cr.precommit.run()
        self.assertEqual(Trigger.search_count([("cron_id", "=", cron.id)]), count)

    def test_cron_reschedules_itself_for_the_deadline(self):
        Trigger = self.env["ir.cron.trigger"]
        cron = self.env.ref("lead_sla.ir_cron_lead_sla_sweep")
        with freeze_time(T0 + timedelta(minutes=3)):
            self.env["crm.lead"]._cron_lead_sla_sweep()
        self.assertEqual(self.lead.sla_status, "warning")
        calls = Trigger.search([("cron_id", "=", cron.id)]).mapped("call_at")
        self.assertIn(T0 + timedelta(minutes=5), calls)
        with freeze_time(T0 + timedelta(minutes=5)):
            self.env["crm.lead"]._cron_lead_sla_sweep()
        self.assertEqual(self.lead.sla_status, "breached")

    def test_no_reassignment_without_policy_flag(self):
        self._sweep(T0 + timedelta(minutes=6))
        self.assertEqual(self.lead.user_id, self.alice)
        self.assertEqual(self.lead.sla_reassign_count, 0)


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaReassign(LeadSlaCase):
    """Reassignment on breach goes through lead_distribution's routing rules."""

    def setUp(self):
        super().setUp()
        if not _has_distribution(self.env):
            self.skipTest("lead_distribution does not provide _lead_distribution_route yet")
        self.hot_policy.write({"reassign_on_breach": True, "max_reassign": 1})
        self._setup_routing()

    def _setup_routing(self):
        """Only one rule: the team's members in round robin."""
        Rule = self.env["lead.routing.rule"]
        Rule.search([]).write({"active": False})
        self.rule = Rule.create({
            "name": "SLA test rule", "team_id": self.team.id, "sequence": 1,
            "strategy": "round_robin", "fallback": "unassigned"})

    def test_breach_reassigns_once_with_fresh_clock(self):
        with freeze_time(T0):
            lead = self._lead(HOT, user=self.alice)
        self.assertEqual(lead.user_id, self.alice)
        breach1 = T0 + timedelta(minutes=5)
        with freeze_time(breach1):
            self._sweep(breach1)
            lead.flush_recordset()
        self.assertEqual(lead.user_id, self.bob)
        self.assertEqual(lead.sla_reassign_count, 1)
        self.assertEqual(lead.sla_breach_count, 1)
        self.assertEqual(lead.sla_status, "running")
        self.assertEqual(lead.sla_start, breach1)
        self.assertEqual(lead.sla_deadline, breach1 + timedelta(minutes=5))
        log = self.env["lead.assignment.log"].search(
            [("lead_id", "=", lead.id), ("kind", "=", "sla")])
        self.assertTrue(log)
        # max_reassign = 1: the second breach escalates but keeps the owner
        breach2 = breach1 + timedelta(minutes=5)
        with freeze_time(breach2):
            self._sweep(breach2)
        self.assertEqual(lead.user_id, self.bob)
        self.assertEqual(lead.sla_status, "breached")
        self.assertEqual(lead.sla_breach_count, 2)
        self.assertEqual(lead.sla_reassign_count, 1)

    def test_max_reassign_zero_never_reassigns(self):
        self.hot_policy.max_reassign = 0
        with freeze_time(T0):
            lead = self._lead(HOT, user=self.alice)
        self._sweep(T0 + timedelta(minutes=5))
        self.assertEqual(lead.user_id, self.alice)
        self.assertEqual(lead.sla_status, "breached")

    def test_clock_starts_for_lead_routed_at_creation(self):
        with freeze_time(T0):
            lead = self.env["crm.lead"].create(dict(
                HOT, name="Routed Rita", type="opportunity", partner_id=self.customer.id))
            lead.flush_recordset()
        self.assertIn(lead.user_id, self.alice | self.bob)
        self.assertEqual(lead.sla_user_id, lead.user_id)
        self.assertEqual(lead.sla_status, "running")
        self.assertEqual(lead.sla_start, T0)
        self.assertEqual(lead.sla_deadline, T0 + timedelta(minutes=5))

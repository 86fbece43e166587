"""The follow-up planner at scale (issue 16): it plans what it planned before,
in the same order and batches, through searches PostgreSQL serves from the
planner's partial indexes instead of reading every open lead."""
import json
from datetime import timedelta

from odoo.tests import freeze_time, tagged
from odoo.tools import SQL

from .common import COLD, T0, WARM, LeadSlaCase


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaFollowUpScale(LeadSlaCase):

    def _mine(self, activities, lead):
        return activities.filtered(lambda a: a.res_id == lead.id)

    def test_plans_first_response_nurture_and_nothing_else(self):
        self.assertEqual(self.cold_policy.nurture_days, 7)
        with freeze_time(T0):
            answered = self._lead(COLD, name="Answered Cold Ann")
            answered._lead_sla_first_response("contacted")
            nurtured = self._lead(COLD, name="Nurtured Nina")
            busy = self._lead(COLD, name="Busy Ben")
            busy.activity_schedule("mail.mail_activity_data_todo", user_id=self.alice.id)
            won = self._lead(COLD, name="Won Will")
            won.action_set_won()
            unowned = self._lead(COLD, name="Nobody's Nora")
            unowned.user_id = False
        self.assertEqual(answered.sla_policy_id, self.cold_policy)
        acts = self.env["crm.lead"]._cron_lead_sla_followup(now=T0 + timedelta(hours=2))
        # first response: the cadence's day-1 step only, even with a nurture policy
        mine = self._mine(acts, answered)
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine.summary, "Follow-up (day 1 after first contact)")
        self.assertEqual(mine.date_deadline, (T0 + timedelta(days=1)).date())
        self.assertEqual(mine.user_id, self.alice)
        # no response, nurture policy: the nurture step in 7 days
        mine = self._mine(acts, nurtured)
        self.assertEqual(len(mine), 1)
        self.assertEqual(mine.summary, "Nurture follow-up")
        self.assertEqual(mine.date_deadline, (T0 + timedelta(days=7)).date())
        # a next step already, won, or nobody's: nothing
        for lead in (busy, won, unowned):
            self.assertFalse(self._mine(acts, lead), lead.name)
        self.assertEqual(len(busy.activity_ids), 1)
        # step done, policy archived since: still nurtured, as before
        self._mine(acts, nurtured).action_done()
        self.cold_policy.active = False
        acts = self.env["crm.lead"]._cron_lead_sla_followup(now=T0 + timedelta(hours=3))
        self.assertEqual(self._mine(acts, nurtured).summary, "Nurture follow-up")

    def test_batches_follow_the_single_domain(self):
        with freeze_time(T0):
            leads = self._lead(COLD, name="Nurture 1") | self._lead(WARM, name="Answered 2") \
                | self._lead(COLD, name="Nurture 3") | self._lead(WARM, name="Answered 4")
            leads[1]._lead_sla_first_response("contacted")
            leads[3]._lead_sla_first_response("contacted")
        Lead = self.env["crm.lead"]
        due = Lead.search(Lead._lead_sla_followup_domain(), order="id")
        self.assertTrue(leads <= due)
        cron = self.env.ref("lead_sla.ir_cron_lead_sla_followup")
        progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
        Lead = Lead.with_context(ir_cron_progress_id=progress.id)
        planned = self.env["mail.activity"]
        for start in range(0, len(due), 3):
            acts = Lead._cron_lead_sla_followup(now=T0 + timedelta(hours=2), batch_size=3)
            # the lowest ids still due, across both kinds, as one search gave
            self.assertEqual(sorted(acts.mapped("res_id")), due[start:start + 3].ids)
            self.assertEqual(progress.done, len(acts))
            self.assertEqual(progress.remaining,
                             len(due) - start - 3 if len(acts) == 3 else 0)
            planned |= acts
        self.assertEqual(sorted(planned.mapped("res_id")), due.ids)
        self.assertFalse(Lead._cron_lead_sla_followup(now=T0 + timedelta(hours=2)))

    def test_searches_use_the_partial_indexes(self):
        """Each search of the planner is served by its partial index, so its
        cost follows the answered / nurtured open leads, not all open ones."""
        Lead = self.env["crm.lead"].sudo()
        domains = Lead._lead_sla_followup_domains()
        self.assertEqual(len(domains), 2)  # the shipped cold policy nurtures
        indexes = ["crm_lead_sla_followup_answered_idx", "crm_lead_sla_followup_nurture_idx"]
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        try:
            for domain, index in zip(domains, indexes):
                query = Lead._search(domain, order="id", limit=1000)
                self.env.cr.execute(SQL("EXPLAIN (FORMAT JSON) %s", query.select()))
                plan = json.dumps(self.env.cr.fetchone()[0])
                self.assertIn(index, plan)
        finally:
            self.env.cr.execute("RESET enable_seqscan")

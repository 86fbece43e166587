from unittest.mock import patch

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL, mute_logger

from ..models.lead_distribution_open_count import BULK
from .common import LeadDistributionCase


@tagged("post_install", "-at_install")
class TestKeptOpenCounts(LeadDistributionCase):
    """The open-lead counts kept per salesperson equal a recount of crm_lead
    after every change of ownership or openness, and routing's caps follow."""

    def setUp(self):
        super().setUp()
        self.Counts = self.env["lead.distribution.open.count"]
        self.won_stage = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        self.open_stage = self.env["crm.stage"].search([("is_won", "=", False)], limit=1)

    def _kept(self):
        counts = self.Counts._open_counts((self.ali | self.siti | self.bo).ids)
        return {user.name: counts.get(user.id, 0) for user in self.ali | self.siti | self.bo}

    def _recounted(self):
        Lead = self.Lead.with_context(active_test=False)
        domain = [("user_id", "in", (self.ali | self.siti | self.bo).ids)] + Lead._lead_open_domain()
        counts = {user.id: n for user, n in Lead._read_group(domain, ["user_id"], ["__count"])}
        return {user.name: counts.get(user.id, 0) for user in self.ali | self.siti | self.bo}

    def assertCounts(self, expected, msg=None):
        self.env.cr.flush()  # what a commit runs: the transaction's changes settled
        self.assertEqual(self._recounted(), expected, msg)
        self.assertEqual(self._kept(), expected, msg)

    def test_create_with_owner_reassign_and_odoo_assignment(self):
        a1, a2 = self._leads(2, user_id=self.ali.id)
        self._leads(1, user_id=self.siti.id)
        self.assertCounts({"Ali": 2, "Siti": 1, "Bo": 0}, "created with a salesperson")
        a1.user_id = self.bo
        self.assertCounts({"Ali": 1, "Siti": 1, "Bo": 1}, "reassigned")
        a2.user_id = False
        self.assertCounts({"Ali": 0, "Siti": 1, "Bo": 1}, "unassigned")
        unowned = self._leads(3, user_id=False)
        unowned._handle_salesmen_assignment(user_ids=(self.ali | self.bo).ids, team_id=self.team.id)
        self.assertCounts({"Ali": 2, "Siti": 1, "Bo": 2}, "Odoo's own assignment")

    def test_won_lost_archive_unarchive_and_stage_moves(self):
        won, lost, archived, staged = self._leads(4, user_id=self.ali.id)
        self.assertCounts({"Ali": 4, "Siti": 0, "Bo": 0})
        won.action_set_won()
        self.assertCounts({"Ali": 3, "Siti": 0, "Bo": 0}, "won")
        lost.action_set_lost()
        self.assertCounts({"Ali": 2, "Siti": 0, "Bo": 0}, "lost")
        archived.action_archive()
        self.assertCounts({"Ali": 1, "Siti": 0, "Bo": 0}, "archived")
        staged.stage_id = self.won_stage
        self.assertEqual(staged.probability, 100)
        self.assertCounts({"Ali": 0, "Siti": 0, "Bo": 0}, "moved to a won stage")
        staged.stage_id = self.open_stage
        self.assertLess(staged.probability, 100)
        self.assertCounts({"Ali": 1, "Siti": 0, "Bo": 0}, "moved back to an open stage")
        (lost | archived).action_unarchive()
        self.assertCounts({"Ali": 3, "Siti": 0, "Bo": 0}, "restored")
        won.probability = 40
        self.assertCounts({"Ali": 4, "Siti": 0, "Bo": 0}, "probability set below 100 by hand")

    def test_merge_delete_and_changes_in_one_transaction(self):
        ali_lead = self._leads(1, user_id=self.ali.id)
        siti_leads = self._leads(2, user_id=self.siti.id)
        (ali_lead | siti_leads).merge_opportunity(user_id=self.bo.id, auto_unlink=True)
        self.assertCounts({"Ali": 0, "Siti": 0, "Bo": 1}, "merged into one lead of Bo")
        lead = self._leads(1, user_id=self.ali.id)
        lead.user_id = self.siti
        lead.action_set_won()
        lead.action_set_lost()
        self.assertCounts({"Ali": 0, "Siti": 0, "Bo": 1}, "created, moved, won, lost before the commit")
        self.Lead.search([("user_id", "=", self.bo.id)]).unlink()
        self.assertCounts({"Ali": 0, "Siti": 0, "Bo": 0}, "deleted")
        closed = self._leads(1, user_id=self.ali.id)
        closed.action_set_won()
        self.env.cr.flush()
        closed.unlink()
        self.assertCounts({"Ali": 0, "Siti": 0, "Bo": 0}, "a closed lead deleted counted nothing")

    def test_batches_of_many_leads(self):
        """From BULK leads on, owners are read with one grouped query: the
        counts stay right for a backlog routing and for mass changes."""
        bulk = BULK + 10
        self._rule()
        self.company.lead_distribution_instant = False
        waiting = self._leads(bulk)
        self.env.cr.flush()
        self.assertTrue(all(waiting.mapped("lead_routing_pending")))
        self.env["crm.lead"]._cron_lead_distribution_backlog()
        self.assertEqual(len(waiting.filtered("user_id")), bulk)
        third, rest = divmod(bulk, 3)
        self.assertCounts({"Ali": third + (rest > 0), "Siti": third + (rest > 1), "Bo": third},
                          "backlog routed in one batch")
        waiting[:5].action_set_won()
        waiting[5:8].action_archive()
        waiting[8:].write({"user_id": self.bo.id})
        self.assertCounts({"Ali": 0, "Siti": 0, "Bo": bulk - 8}, "won, archived, then mass reassigned")
        (waiting[:5] | waiting[5:8]).with_context(active_test=False).write({"user_id": self.siti.id})
        self.assertCounts({"Ali": 0, "Siti": 0, "Bo": bulk - 8}, "closed leads moved: nobody's count")
        waiting[5:8].action_unarchive()
        self.assertCounts({"Ali": 0, "Siti": 3, "Bo": bulk - 8}, "restored")

    def test_unrelated_write_touches_no_count(self):
        lead = self._leads(1, user_id=self.ali.id)
        self.env.cr.flush()
        seen = []
        cursor_class = type(self.env.cr)
        execute = cursor_class.execute

        def spy(cr, query, *args, **kwargs):
            seen.append(str(getattr(query, "code", query)))
            return execute(cr, query, *args, **kwargs)

        with patch.object(cursor_class, "execute", spy):
            lead.write({"description": "<p>called back</p>", "priority": "2"})
            self.env.flush_all()
            self.env.cr.flush()
        self.assertTrue(seen, "the write itself ran")
        self.assertFalse([q for q in seen if "lead_distribution_open_count" in q])

    def test_repair_job_fixes_drift_and_routing_follows(self):
        self.m_ali.lead_max_open = 2
        self._rule(member_ids=[(6, 0, (self.m_ali | self.m_siti).ids)])
        self._leads(1, user_id=self.ali.id)
        self.env.cr.flush()
        # drift, as a change made outside the ORM would leave it
        self.env.cr.execute(SQL("UPDATE lead_distribution_open_count SET count = 9 WHERE user_id = %s",
                                self.ali.id))
        self.env.cr.execute(SQL("DELETE FROM lead_distribution_open_count WHERE user_id = %s", self.siti.id))
        self.env.cr.execute(SQL("INSERT INTO lead_distribution_open_count (user_id, count) VALUES (%s, 5)",
                                self.bo.id))
        lead = self._leads(1)
        self.assertEqual(lead.user_id, self.siti)
        self.assertIn("Ali (at capacity 9/2)", lead.lead_assignment_log_ids.reason)
        self.env.ref("lead_distribution.ir_cron_repair_open_counts").method_direct_trigger()
        self.assertCounts({"Ali": 1, "Siti": 1, "Bo": 0}, "recounted")
        self.assertEqual(self._leads(1).user_id, self.ali, "room again under Ali's cap")


@tagged("post_install", "-at_install")
class TestKeptOpenCountsConcurrency(TransactionCase):
    """Two transactions give leads to the same salesperson at once: both
    additions end up in the count (the later one is retried, not lost)."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            user = env["res.users"].create({
                "name": "Count A", "login": "ld_count_a",
                "groups_id": [(6, 0, [env.ref("sales_team.group_sale_salesman").id])]})
            leads = env["crm.lead"].with_context(lead_distribution_no_route=True).create([
                {"name": "ld-count-%s" % i, "user_id": user.id if i == 0 else False} for i in range(3)])
            self.ids = dict(user=user.id, partner=user.partner_id.id, leads=leads.ids)
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            env["crm.lead"].browse(self.ids["leads"]).unlink()
            env["res.users"].browse(self.ids["user"]).unlink()
            env["res.partner"].browse(self.ids["partner"]).unlink()

    def _assign(self, cr, lead_id):
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        env["crm.lead"].browse(lead_id).user_id = self.ids["user"]

    def _counts(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            kept = env["lead.distribution.open.count"]._open_counts([self.ids["user"]])
            recount = env["crm.lead"].search_count([("user_id", "=", self.ids["user"])])
            return kept.get(self.ids["user"], 0), recount

    def test_no_lost_update(self):
        _first, lead2, lead3 = self.ids["leads"]
        self.assertEqual(self._counts(), (1, 1))
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            cr1.execute("SELECT 1")  # both snapshots taken before either commits
            cr2.execute("SELECT 1")
            self._assign(cr1, lead2)
            self._assign(cr2, lead3)
            cr1.commit()
            with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.SerializationFailure):
                cr2.commit()  # its +1 would be computed on a count it did not see
            cr2.rollback()
            self._assign(cr2, lead3)  # what Odoo's retry does: a fresh snapshot
            cr2.commit()
        self.assertEqual(self._counts(), (3, 3), "both additions counted")

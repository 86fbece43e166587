from unittest.mock import patch

import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import LeadDistributionCase


@tagged("post_install", "-at_install")
class TestOpenLeadCounts(LeadDistributionCase):
    """The open leads an agent owns, as routing reads them for caps and
    least loaded (kept per salesperson), are right right after each change
    of ownership or openness."""

    def setUp(self):
        super().setUp()
        self.m_ali.lead_max_open = 2
        self._rule(member_ids=[(6, 0, (self.m_ali | self.m_siti).ids)])

    def _counts(self):
        counts = self.env["lead.routing.rule"]._open_lead_counts(self.ali | self.siti | self.bo, self.Lead)
        return {user.name: counts.get(user.id, 0) for user in self.ali | self.siti | self.bo}

    def _next_owner(self):
        """Who the next routed lead goes to (Ali is capped at 2 open leads)."""
        lead = self._leads(1)
        return lead.user_id, lead.lead_assignment_log_ids.reason

    def test_assignment_fills_the_cap(self):
        ali_leads = self._leads(3).filtered(lambda lead: lead.user_id == self.ali)
        self.assertEqual(len(ali_leads), 2)
        self.assertEqual(self._counts(), {"Ali": 2, "Siti": 1, "Bo": 0})
        owner, reason = self._next_owner()
        self.assertEqual(owner, self.siti)
        self.assertIn("Ali (at capacity 2/2)", reason)

    def test_won_lost_archived_deleted_leads_free_the_cap(self):
        won, lost, archived, deleted = self._leads(4, user_id=self.ali.id)
        self.assertEqual(self._counts()["Ali"], 4)
        owner, reason = self._next_owner()
        self.assertEqual(owner, self.siti)
        self.assertIn("Ali (at capacity 4/2)", reason)
        won.action_set_won()
        self.assertEqual(self._counts()["Ali"], 3, "a won lead is not open")
        lost.action_set_lost()
        self.assertEqual(self._counts()["Ali"], 2, "a lost lead is not open")
        archived.active = False
        self.assertEqual(self._counts()["Ali"], 1, "an archived lead is not open")
        deleted.unlink()
        self.assertEqual(self._counts()["Ali"], 0, "a deleted lead is not counted")
        owner, _reason = self._next_owner()
        self.assertEqual(owner, self.ali, "room again under the cap")

    def test_reassignment_and_merge_move_the_count(self):
        ali_leads = self._leads(4).filtered(lambda lead: lead.user_id == self.ali)
        self.assertEqual(self._counts(), {"Ali": 2, "Siti": 2, "Bo": 0})
        ali_leads[0].with_user(self.manager).user_id = self.bo
        self.assertEqual(self._counts(), {"Ali": 1, "Siti": 2, "Bo": 1})
        siti_leads = self.Lead.search([("user_id", "=", self.siti.id)])
        # merging Siti's two leads into Ali's keeps one open lead: Ali's
        (ali_leads[1] | siti_leads).merge_opportunity(user_id=self.ali.id, auto_unlink=True)
        self.assertEqual(self._counts(), {"Ali": 1, "Siti": 0, "Bo": 1})
        # Ali has room for one more lead: the next two go to Ali and Siti, then Ali is full
        self.assertEqual(self._next_owner()[0] | self._next_owner()[0], self.ali | self.siti)
        owner, reason = self._next_owner()
        self.assertEqual(owner, self.siti)
        self.assertIn("Ali (at capacity 2/2)", reason)

    def _queries_of_a_create(self):
        """Statements run by one routed create (flushed and committed as far
        as a test can: ``cr.flush()`` runs the precommit settlement)."""
        seen = []
        cursor_class = type(self.env.cr)
        execute = cursor_class.execute

        def spy(cr, query, *args, **kwargs):
            seen.append(str(getattr(query, "code", query)))
            return execute(cr, query, *args, **kwargs)

        self.env.flush_all()
        self.env.cr.flush()
        with patch.object(cursor_class, "execute", spy):
            self._leads(1)
            self.env.flush_all()
            self.env.cr.flush()
        crm_counts = [q for q in seen if "COUNT(*)" in q.upper() and "crm_lead" in q and "GROUP BY" in q.upper()]
        table_reads = [q for q in seen if q.lstrip().upper().startswith("SELECT")
                       and "lead_distribution_open_count" in q]
        return crm_counts, table_reads

    def test_only_caps_and_least_loaded_count(self):
        """No create counts open leads in crm_lead (the cost of a create does
        not grow with the table); plain round robin without a cap does not
        even read the kept counts, a cap or least loaded reads them once."""
        self.m_ali.lead_max_open = 0
        self.assertEqual(self._queries_of_a_create(), ([], []))
        self.m_ali.lead_max_open = 5
        crm_counts, table_reads = self._queries_of_a_create()
        self.assertEqual((len(crm_counts), len(table_reads)), (0, 1))
        self.m_ali.lead_max_open = 0
        self.env["lead.routing.rule"].search([("name", "=", "Everything")]).strategy = "least_loaded"
        crm_counts, table_reads = self._queries_of_a_create()
        self.assertEqual((len(crm_counts), len(table_reads)), (0, 1))


@tagged("post_install", "-at_install")
class TestOpenLeadCountsConcurrency(TransactionCase):
    """Two transactions route to capped agents at once: the second sees the
    first one's lead in the counts (it waits for the rule, then retries)."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            users = env["res.users"].create([
                {"name": "Cap %s" % n, "login": "ld_cap_%s" % n,
                 "groups_id": [(6, 0, [env.ref("sales_team.group_sale_salesman").id])]}
                for n in ("a", "b")])
            team = env["crm.team"].create({"name": "Capped team"})
            env["crm.team.member"].create([
                {"crm_team_id": team.id, "user_id": u.id, "lead_max_open": 1} for u in users])
            rule = env["lead.routing.rule"].create({
                "name": "Capped", "team_id": team.id, "strategy": "least_loaded",
                "domain": "[('name', '=like', 'ld-cap-%')]", "sequence": -100, "fallback": "unassigned"})
            leads = env["crm.lead"].with_context(lead_distribution_no_route=True).create([
                {"name": "ld-cap-%s" % i, "user_id": False} for i in range(3)])
            self.ids = dict(users=users.ids, team=team.id, rule=rule.id, leads=leads.ids,
                            partners=users.partner_id.ids)
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            env["crm.lead"].browse(self.ids["leads"]).unlink()
            env["lead.routing.rule"].browse(self.ids["rule"]).unlink()
            env["lead.distribution.share"].search([("team_id", "=", self.ids["team"])]).unlink()
            env["crm.team"].browse(self.ids["team"]).unlink()
            env["res.users"].browse(self.ids["users"]).unlink()
            env["res.partner"].browse(self.ids["partners"]).unlink()
        self.registry.clear_cache()

    def _route(self, cr, lead_id):
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        return env["crm.lead"].browse(lead_id)._lead_distribution_route()[lead_id]

    def test_second_transaction_counts_the_first_ones_lead(self):
        lead1, lead2, lead3 = self.ids["leads"]
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            cr2.execute("SELECT 1")  # cr2's snapshot predates cr1's routing
            first = self._route(cr1, lead1)
            cr1.commit()
            with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.SerializationFailure):
                self._route(cr2, lead2)
            cr2.rollback()
            second = self._route(cr2, lead2)  # what Odoo's retry does: a fresh snapshot
            third = self._route(cr2, lead3)
            cr2.commit()
        self.assertEqual({first, second}, set(self.ids["users"]), "each capped agent got one lead")
        self.assertFalse(third, "both agents at capacity 1/1: the third lead waits")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            counts = env["lead.routing.rule"]._open_lead_counts(
                env["res.users"].browse(self.ids["users"]), env["crm.lead"])
            self.assertEqual(counts, dict.fromkeys(self.ids["users"], 1))
            log = env["lead.assignment.log"].search([("lead_id", "=", lead3)])
            self.assertIn("at capacity 1/1", log.reason)

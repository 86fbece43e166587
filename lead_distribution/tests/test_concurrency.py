import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install")
class TestConcurrentRouting(TransactionCase):
    """Two real transactions route at the same moment: no rotation slot is
    given twice. Data is committed by a third cursor and removed at cleanup."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            users = env["res.users"].create([
                {"name": "Conc %s" % n, "login": "ld_conc_%s" % n,
                 "groups_id": [(6, 0, [env.ref("sales_team.group_sale_salesman").id])]}
                for n in ("a", "b")])
            team = env["crm.team"].create({"name": "Concurrency team"})
            env["crm.team.member"].create([{"crm_team_id": team.id, "user_id": u.id} for u in users])
            rule = env["lead.routing.rule"].create({
                "name": "Concurrency", "team_id": team.id, "strategy": "round_robin",
                "domain": "[('name', '=like', 'ld-conc-%')]", "sequence": -100})
            leads = env["crm.lead"].with_context(lead_distribution_no_route=True).create([
                {"name": "ld-conc-%s" % i, "user_id": False} for i in range(3)])
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

    def test_second_worker_waits_then_takes_the_next_slot(self):
        lead1, lead2, _lead3 = self.ids["leads"]
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            first = self._route(cr1, lead1)  # holds the rule's row lock
            cr2.execute("SET LOCAL lock_timeout = '300ms'")
            with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.LockNotAvailable):
                self._route(cr2, lead2)
            cr2.rollback()
            cr1.commit()
            second = self._route(cr2, lead2)  # retried transaction sees the new rotation
            cr2.commit()
        self.assertTrue(first and second)
        self.assertNotEqual(first, second)
        self.assertEqual({first, second}, set(self.ids["users"]))

    def test_stale_snapshot_fails_instead_of_reusing_a_slot(self):
        lead1, lead2, lead3 = self.ids["leads"]
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            # both transactions take their snapshot before either routes
            cr1.execute("SELECT 1")
            cr2.execute("SELECT count(*) FROM lead_routing_state")
            first = self._route(cr1, lead1)
            cr1.commit()
            with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.SerializationFailure):
                self._route(cr2, lead2)
            cr2.rollback()
            second = self._route(cr2, lead2)  # what Odoo's retry does
            third = self._route(cr2, lead3)
            cr2.commit()
        self.assertEqual([first, second, third], [self.ids["users"][0], self.ids["users"][1], self.ids["users"][0]])

"""A web form is submitted while another transaction routes through the same rule.

The form's request waits for the other transaction's lock on the rule, then
routes from the rotation it committed: the form is answered with its lead in
one go. Under REPEATABLE READ the request failed with a serialization error
and Odoo replayed it after a random pause of up to 2 s, then 4 s, its HTTP
worker held all along (the soak saw web forms answered in 2 to 6 s). Real
transactions: the data is committed by other cursors and removed at cleanup.
"""
import threading

from odoo import SUPERUSER_ID, api

from odoo.addons.lead_channels.core import form as form_core

from .common import SuiteTransactionCase, waits_for_rule_lock


class TestFormWhileRouting(SuiteTransactionCase):

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            group = env.ref("sales_team.group_sale_salesman")
            users = env["res.users"].create([
                {"name": "Form agent %s" % n, "login": "form_routing_%s" % n, "groups_id": [(6, 0, [group.id])]}
                for n in ("a", "b")])
            team = env["crm.team"].create({"name": "Form routing team"})
            env["crm.team.member"].create([{"crm_team_id": team.id, "user_id": u.id} for u in users])
            channel = env["lead.channel"].create({"name": "Form while routing", "channel_type": "web_form",
                                                  "team_id": team.id, "rate_limit": 0})
            rule = env["lead.routing.rule"].create({
                "name": "Form routing", "team_id": team.id, "strategy": "round_robin", "sequence": -100,
                "domain": "[('channel_id', '=', %d)]" % channel.id})
            env.company.lead_distribution_instant = True
            self.ids = dict(users=users.ids, partners=users.partner_id.ids, team=team.id, channel=channel.id,
                            rule=rule.id)
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            leads = env["crm.lead"].search([("channel_id", "=", self.ids["channel"])])
            customers = leads.partner_id
            env["lead.channel.event"].search([("channel_id", "=", self.ids["channel"])]).unlink()
            leads.unlink()
            customers.unlink()
            env["lead.channel"].browse(self.ids["channel"]).unlink()
            env["lead.routing.rule"].browse(self.ids["rule"]).unlink()
            env["lead.distribution.share"].search([("team_id", "=", self.ids["team"])]).unlink()
            env["crm.team"].browse(self.ids["team"]).unlink()
            env["res.users"].browse(self.ids["users"]).unlink()
            env["res.partner"].browse(self.ids["partners"]).unlink()
            cr.execute("DELETE FROM lead_channel_contact_key WHERE key LIKE '%%60172228801%%'")
        self.registry.clear_cache()

    def test_form_waits_for_the_rule_then_answers_with_its_lead(self):
        clean, errors = form_core.validate_submission(
            {"name": "Form visitor", "phone": "+60172228801", "message": "Viewing on Saturday?"})
        self.assertFalse(errors)
        result = {}
        with self.registry.cursor() as cr_other, self.registry.cursor() as cr_web:
            other_env = api.Environment(cr_other, SUPERUSER_ID, {})
            web_env = api.Environment(cr_web, SUPERUSER_ID, {})
            # the request has looked its channel up: its transaction has begun
            cr_web.execute("SELECT id FROM lead_channel WHERE id = %s", [self.ids["channel"]])
            # another transaction routes a lead through the same rule and holds its lock
            other = other_env["crm.lead"].create({"name": "Walk-in", "channel_id": self.ids["channel"]})
            self.assertTrue(other.user_id)

            def submit():
                try:
                    event = web_env["lead.channel.event"]._capture_form(
                        self.ids["channel"], "form-while-routing-1", clean, remote_addr="127.0.0.1")
                    result.update(event=event.id, lead=event.lead_id.id, owner=event.lead_id.user_id.id,
                                  state=event.state)
                    cr_web.commit()  # what Odoo does once the answer is built
                except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                    result["error"] = exc

            thread = threading.Thread(target=submit)
            thread.start()
            try:
                waited = waits_for_rule_lock(self.registry, thread)  # the form waits for the rule's lock...
                cr_other.commit()  # ...until the other transaction commits
            finally:
                if thread.is_alive():
                    cr_other.rollback()  # never leave the form blocked behind a failed test
                thread.join(30)
            self.assertTrue(waited, "the form waited for the other transaction's lock on the rule")
            self.assertFalse(thread.is_alive())
            other_owner = other.user_id.id

        self.assertNotIn("error", result, "the form's request went through at the first try")
        self.assertEqual(result["state"], "done")
        self.assertTrue(result["lead"], "answered with its lead (201), not left to the inbox job")
        self.assertEqual({result["owner"], other_owner}, set(self.ids["users"]),
                         "the round robin went on from the other transaction's commit")
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            lead = env["crm.lead"].browse(result["lead"])
            self.assertEqual(lead.user_id.id, result["owner"])
            self.assertEqual(env["lead.assignment.log"].search_count([("lead_id", "=", lead.id)]), 1)
            self.assertEqual(env["lead.channel.event"].search_count(
                [("channel_id", "=", self.ids["channel"]), ("kind", "=", "form")]), 1)

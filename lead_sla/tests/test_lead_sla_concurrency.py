from datetime import timedelta

import psycopg2.errors

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged

from .common import HOT, T0, in_cron_worker

SWEEP = "lead_sla.ir_cron_lead_sla_sweep"


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaConcurrentSweeps(TransactionCase):
    """Two workers sweeping at once notify a breach once."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True,
                                                     "lead_sla_now": T0})
            lead = env["crm.lead"].create(dict(
                HOT, name="Concurrent SLA lead", type="opportunity",
                user_id=env.ref("base.user_admin").id))
            self.assertEqual(lead.sla_status, "running")
            self.lead_id = lead.id
            # a second lead, started 2 minutes later: due for its warning only
            later = env["crm.lead"].with_context(lead_sla_now=T0 + timedelta(minutes=2)).create(
                dict(HOT, name="Concurrent SLA lead 2", type="opportunity",
                     user_id=env.ref("base.user_admin").id))
            self.warn_lead_id = later.id
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["crm.lead"].browse([self.lead_id, self.warn_lead_id]).unlink()
            cron = env.ref("lead_sla.ir_cron_lead_sla_sweep")
            env["ir.cron.trigger"].search([
                ("cron_id", "=", cron.id), ("call_at", "<=", T0 + timedelta(hours=1))]).unlink()

    def _notes(self, cr):
        cr.execute("""SELECT count(*) FROM mail_message
                       WHERE model = 'crm.lead' AND res_id = %s
                         AND body::text LIKE '%%Response SLA breached%%'""", [self.lead_id])
        return cr.fetchone()[0]

    def test_sweep_escalates_a_lead_changed_since_it_began(self):
        """The cron's pass, in a job begun before an agent changed a due
        lead, still escalates it: under REPEATABLE READ its claim failed to
        serialize, and Odoo waited for the cron's next interval."""
        now = T0 + timedelta(minutes=6)
        with self.registry.cursor() as job_cr, self.registry.cursor() as agent_cr:
            job_cr.execute("SELECT count(*) FROM crm_lead")  # the job's transaction has begun
            api.Environment(agent_cr, SUPERUSER_ID, {})["crm.lead"].browse(self.lead_id).description = \
                "Left a voicemail"
            agent_cr.commit()
            result, error = in_cron_worker(job_cr, SWEEP, lambda env: env["crm.lead"]._lead_sla_cron_work(
                SWEEP, lambda: env["crm.lead"]._lead_sla_sweep(now=now)))
        self.assertFalse(error, "the sweep failed")
        _warned, breached = result
        self.assertEqual(breached.ids, [self.lead_id])
        with self.registry.cursor() as cr:
            self.assertEqual(self._notes(cr), 1)

    def test_two_cursors_warn_and_escalate_once(self):
        now = T0 + timedelta(minutes=6)
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            cr2.execute("SELECT 1")  # worker 2 has started its transaction
            warned1, breached1 = env1["crm.lead"]._lead_sla_sweep(now=now)
            self.assertEqual(breached1.ids, [self.lead_id])
            self.assertEqual(warned1.ids, [self.warn_lead_id])
            # worker 2 runs while worker 1 holds the row: it skips it
            warned2, breached2 = env2["crm.lead"]._lead_sla_sweep(now=now)
            self.assertFalse(breached2 | warned2)
            cr1.commit()
            # after worker 1 committed, worker 2's older snapshot cannot claim
            # the row again: either nothing due, or a serialization failure
            # (the cron retries it, and then finds nothing)
            try:
                with cr2.savepoint():
                    warned2, breached2 = env2["crm.lead"]._lead_sla_sweep(now=now)
                self.assertFalse(breached2 | warned2)
            except psycopg2.errors.SerializationFailure:
                pass
            cr2.rollback()
            warned3, breached3 = env2["crm.lead"]._lead_sla_sweep(now=now)
            self.assertFalse(breached3 | warned3)
            cr2.commit()
        with self.registry.cursor() as cr:
            self.assertEqual(self._notes(cr), 1)
            cr.execute("SELECT sla_status, sla_breach_count FROM crm_lead WHERE id = %s",
                       [self.lead_id])
            self.assertEqual(cr.fetchone(), ("breached", 1))
            cr.execute("SELECT count(*) FROM mail_activity WHERE res_model = 'crm.lead' "
                       "AND res_id = %s", [self.warn_lead_id])
            self.assertEqual(cr.fetchone()[0], 1)
            cr.execute("SELECT sla_status FROM crm_lead WHERE id = %s", [self.warn_lead_id])
            self.assertEqual(cr.fetchone()[0], "warning")

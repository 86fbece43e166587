from datetime import timedelta

import psycopg2.errors

from odoo import SUPERUSER_ID, api, fields
from odoo.tests import TransactionCase, tagged

from .common import in_cron_worker

NAME = "Concurrent nurture lead"
CHANGED = "Nurture lead changed during a run"
CALL = "Call to check on the quotation"


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadNurtureConcurrentCrons(TransactionCase):
    """Two cron workers running at once send a nurture step exactly once."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            customer = env["res.partner"].create({"name": "Nadia Concurrent",
                                                  "email": "nadia@customer.example.com"})
            template = env["mail.template"].create({
                "name": "Concurrent nurture", "model_id": env["ir.model"]._get_id("crm.lead"),
                "subject": "Concurrent nurture step", "partner_to": "{{ object.partner_id.id }}",
                "body_html": "<p>Selamat pagi, our offer is still open.</p>"})
            # other data's sequences (a demo's) are paused meanwhile: the
            # workers below would send their leads' due steps too
            paused = env["lead.nurture.sequence"].search([])
            paused.active = False
            # the filter keeps the other tests' leads out of this committed sequence
            sequence = env["lead.nurture.sequence"].create({
                "name": "Concurrent", "trigger": "cold", "sequence": 0,
                "domain": repr([("name", "=", NAME)]),
                "step_ids": [(0, 0, {"delay_days": 1, "action": "email",
                                     "template_id": template.id})]})
            lead = env["crm.lead"].create({
                "name": NAME, "type": "opportunity", "partner_id": customer.id,
                "user_id": env.ref("base.user_admin").id})
            lead._lead_sla_first_response("contacted")
            self.assertEqual(lead.nurture_state, "running")
            self.ids = {"lead": lead.id, "partner": customer.id, "template": template.id,
                        "sequence": sequence.id, "paused": paused.ids}
            self.due = lead.nurture_next_date
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["mail.mail"].search([("model", "=", "crm.lead"),
                                     ("res_id", "=", self.ids["lead"])]).unlink()
            env["crm.lead"].browse(self.ids["lead"]).unlink()
            env["lead.nurture.sequence"].browse(self.ids["sequence"]).unlink()
            env["lead.nurture.sequence"].browse(self.ids["paused"]).active = True
            env["mail.template"].browse(self.ids["template"]).unlink()
            env["res.partner"].browse(self.ids["partner"]).unlink()
            cron = env.ref("lead_sla.ir_cron_nurture")
            env["ir.cron.trigger"].search([
                ("cron_id", "=", cron.id),
                ("call_at", ">=", fields.Datetime.now() - timedelta(hours=1))]).unlink()

    def _sent_messages(self, cr):
        cr.execute("""SELECT count(*) FROM mail_message
                       WHERE model = 'crm.lead' AND res_id = %s
                         AND subject = 'Concurrent nurture step'""", [self.ids["lead"]])
        return cr.fetchone()[0]

    def test_two_cursors_send_a_step_once(self):
        now = self.due + timedelta(minutes=1)
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            cr2.execute("SELECT 1")  # worker 2 has started its transaction
            sent1, failed1 = env1["crm.lead"]._lead_nurture_run(now=now)
            self.assertEqual(sent1.ids, [self.ids["lead"]])
            # worker 2 runs while worker 1 holds the row: it skips it
            sent2, failed2 = env2["crm.lead"]._lead_nurture_run(now=now)
            self.assertFalse(sent2 | failed2)
            cr1.commit()
            # worker 2's older snapshot cannot take the lead again: nothing
            # due, or a serialization failure (the cron retries, then finds
            # nothing)
            try:
                with cr2.savepoint():
                    sent2, failed2 = env2["crm.lead"]._lead_nurture_run(now=now)
                self.assertFalse(sent2 | failed2)
            except psycopg2.errors.SerializationFailure:
                pass
            cr2.rollback()
            sent3, failed3 = env2["crm.lead"]._lead_nurture_run(now=now)
            self.assertFalse(sent3 | failed3)
            cr2.commit()
        with self.registry.cursor() as cr:
            self.assertEqual(self._sent_messages(cr), 1)
            cr.execute("SELECT count(*) FROM lead_nurture_log WHERE lead_id = %s AND kind = 'sent'",
                       [self.ids["lead"]])
            self.assertEqual(cr.fetchone()[0], 1)
            cr.execute("SELECT nurture_state FROM crm_lead WHERE id = %s", [self.ids["lead"]])
            self.assertEqual(cr.fetchone()[0], "done")

    def test_two_workers_share_a_batch(self):
        """Two cron workers at once on several due leads: each takes its own
        leads (SKIP LOCKED), every lead gets its step once."""
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            lead = env["crm.lead"].browse(self.ids["lead"])
            more = env["crm.lead"].create([{
                "name": NAME, "type": "opportunity", "partner_id": self.ids["partner"],
                "user_id": lead.user_id.id} for _i in range(3)])
            more._lead_sla_first_response("contacted")
            self.assertEqual(set(more.mapped("nurture_state")), {"running"})
            self.ids["more"] = more.ids
            due = max(more.mapped("nurture_next_date") + [self.due])
        self.addCleanup(self._cleanup_more)
        now = due + timedelta(minutes=1)
        all_ids = sorted([self.ids["lead"]] + self.ids["more"])
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            env1 = api.Environment(cr1, SUPERUSER_ID, {})
            env2 = api.Environment(cr2, SUPERUSER_ID, {})
            sent1, failed1 = env1["crm.lead"]._lead_nurture_run(now=now, batch_size=2)
            sent2, failed2 = env2["crm.lead"]._lead_nurture_run(now=now, batch_size=4)
            self.assertFalse(failed1 | failed2)
            self.assertEqual(len(sent1), 2)
            self.assertFalse(set(sent1.ids) & set(sent2.ids), "a lead taken by both workers")
            self.assertEqual(sorted(sent1.ids + sent2.ids), all_ids)
            cr1.commit()
            cr2.commit()
        with self.registry.cursor() as cr:
            cr.execute("""SELECT res_id, count(*) FROM mail_message
                           WHERE model = 'crm.lead' AND res_id = ANY(%s)
                             AND subject = 'Concurrent nurture step' GROUP BY res_id""", [all_ids])
            self.assertEqual(dict(cr.fetchall()), dict.fromkeys(all_ids, 1))

    def _cleanup_more(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["mail.mail"].search([("model", "=", "crm.lead"),
                                     ("res_id", "in", self.ids["more"])]).unlink()
            env["crm.lead"].browse(self.ids["more"]).unlink()

    def test_claim_is_the_idempotency_key(self):
        """Even a worker that read the lead as due before the other committed
        cannot insert a second 'sent' row for the step."""
        now = self.due + timedelta(minutes=1)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            lead = env["crm.lead"].browse(self.ids["lead"])
            cr.execute("""INSERT INTO lead_nurture_log (lead_id, enrolment_id, sequence_id,
                                                        step_id, kind, date)
                          VALUES (%s, %s, %s, %s, 'sent', %s)""",
                       [lead.id, lead.nurture_enrolment_id.id, lead.nurture_sequence_id.id,
                        lead.nurture_step_id.id, now])
            sent, failed = env["crm.lead"]._lead_nurture_run(now=now)
            self.assertFalse(sent | failed)
            self.assertEqual(lead.nurture_state, "done", "the sent step is not sent again")
            self.assertEqual(self._sent_messages(cr), 0)
            cr.rollback()



@tagged("post_install", "-at_install", "lead_sla")
class TestLeadNurtureRunMeetsAChangedLead(TransactionCase):
    """A nurture run whose transaction began before an agent changed a due
    lead still sends that lead's step. Under REPEATABLE READ its claim failed
    to serialize, Odoo counted the job failed, dropped its triggers and waited
    an hour (the soak saw steps due for minutes, never sent). The data is
    committed and removed at cleanup."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            paused = env["lead.nurture.sequence"].search([])
            paused.active = False  # other data's sequences: see above
            sequence = env["lead.nurture.sequence"].create({
                "name": "Changed during a run", "trigger": "cold", "sequence": 0,
                "domain": repr([("name", "=", CHANGED)]),
                "step_ids": [(0, 0, {"delay_days": 0, "action": "activity", "summary": CALL})]})
            lead = env["crm.lead"].create({"name": CHANGED, "type": "opportunity",
                                           "user_id": env.ref("base.user_admin").id})
            lead._lead_sla_first_response("contacted")
            self.assertEqual(lead.nurture_state, "running")
            self.assertLessEqual(lead.nurture_next_date, fields.Datetime.now(), "due at once")
            self.ids = {"lead": lead.id, "sequence": sequence.id, "paused": paused.ids}
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env["crm.lead"].browse(self.ids["lead"]).unlink()
            env["lead.nurture.sequence"].browse(self.ids["sequence"]).unlink()
            env["lead.nurture.sequence"].browse(self.ids["paused"]).active = True
            cron = env.ref("lead_sla.ir_cron_nurture")
            env["ir.cron.trigger"].search([
                ("cron_id", "=", cron.id),
                ("call_at", ">=", fields.Datetime.now() - timedelta(hours=1))]).unlink()

    def test_run_sends_the_step_of_a_lead_changed_since_it_began(self):
        with self.registry.cursor() as job_cr, self.registry.cursor() as agent_cr:
            job_cr.execute("SELECT count(*) FROM crm_lead")  # the job's transaction has begun
            # meanwhile an agent writes on the lead, and commits
            api.Environment(agent_cr, SUPERUSER_ID, {})["crm.lead"].browse(self.ids["lead"]).description = \
                "Asked to be called back next month"
            agent_cr.commit()
            _result, error = in_cron_worker(job_cr, "lead_sla.ir_cron_nurture",
                                            lambda env: env["crm.lead"]._cron_lead_nurture())
        self.assertFalse(error, "the run failed")
        with self.registry.cursor() as cr:
            lead = api.Environment(cr, SUPERUSER_ID, {})["crm.lead"].browse(self.ids["lead"])
            self.assertEqual(lead.nurture_state, "done")
            self.assertIn(CALL, lead.activity_ids.mapped("summary"), "the step was sent")

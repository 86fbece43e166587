import threading
from datetime import datetime

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, new_test_user

HOT = {"phone": "+32 470 12 34 56", "lead_budget": 5000, "lead_timeline": "week",
       "lead_meeting_requested": True}
WARM = {"phone": "+32 470 12 34 57", "lead_timeline": "month"}
COLD = {}
T0 = datetime(2026, 11, 24, 10, 0, 0)  # a Tuesday


def in_cron_worker(cr, cron_xmlid, work):
    """Run ``work(env)`` on the real cursor ``cr`` as Odoo's cron worker runs a
    job: in a thread of its own (not a test's: the job may commit), with the
    job's context naming the cron, then commit. Returns (result, error)."""
    outcome = {}

    def run():
        try:
            env = api.Environment(cr, SUPERUSER_ID, {})
            env = env(context={"cron_id": env.ref(cron_xmlid).id})
            outcome["result"] = work(env)
            cr.commit()
        except Exception as exc:  # noqa: BLE001 - the caller asserts there is none
            outcome["error"] = exc

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(60)
    return outcome.get("result"), outcome.get("error")


class LeadSlaCase(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True,
                                       mail_create_nolog=True))
        cls.company = cls.env.company
        cls.manager = new_test_user(
            cls.env, login="sla_manager", name="Sla Manager",
            groups="sales_team.group_sale_manager,base.group_user",
            email="sla.manager@example.com")
        cls.leader = new_test_user(
            cls.env, login="sla_leader", name="Sla Leader",
            groups="sales_team.group_sale_salesman_all_leads,base.group_user",
            email="sla.leader@example.com")
        cls.alice = new_test_user(
            cls.env, login="sla_alice", name="Sla Alice",
            groups="sales_team.group_sale_salesman,base.group_user",
            email="sla.alice@example.com")
        cls.bob = new_test_user(
            cls.env, login="sla_bob", name="Sla Bob",
            groups="sales_team.group_sale_salesman,base.group_user",
            email="sla.bob@example.com")
        cls.team = cls.env["crm.team"].create({
            "name": "SLA Team", "user_id": cls.leader.id,
            "member_ids": [(6, 0, (cls.alice | cls.bob).ids)],
        })
        cls.customer = cls.env["res.partner"].create({
            "name": "Customer Carl", "email": "carl@customer.example.com"})
        cls.hot_policy = cls.env.ref("lead_sla.sla_policy_hot")
        cls.warm_policy = cls.env.ref("lead_sla.sla_policy_warm")
        cls.cold_policy = cls.env.ref("lead_sla.sla_policy_cold")
        cls.hot_policy.escalate_user_ids = cls.manager
        cls.stages = cls.env["crm.stage"].search([("team_id", "=", False)], order="sequence, id")

    def _lead(self, tier=HOT, user=None, **vals):
        values = dict(tier, name=vals.pop("name", "SLA lead"), type="opportunity",
                      partner_id=self.customer.id, team_id=self.team.id,
                      user_id=(user or self.alice).id, stage_id=self.stages[0].id)
        values.update(vals)
        return self.env["crm.lead"].create(values)

    def _sweep(self, now):
        return self.env["crm.lead"]._lead_sla_sweep(now=now)

from datetime import timedelta

from odoo.tests import HttpCase, tagged

from .common import HOT


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaHttp(HttpCase):
    """The clock as a client sees it over JSON-RPC."""

    def _call(self, model, method, args, kwargs=None):
        return self.make_jsonrpc_request("/web/dataset/call_kw", {
            "model": model, "method": method, "args": args, "kwargs": kwargs or {}})

    def test_rpc_clock_and_mark_contacted(self):
        self.authenticate("admin", "admin")
        admin = self.env.ref("base.user_admin")
        # the test runs at any hour: a 24/7 clock, so that 5 minutes are 5 minutes
        self.env.ref("lead_sla.sla_policy_hot").calendar_id = False
        lead_id = self._call("crm.lead", "create", [dict(
            HOT, name="RPC hot lead", type="opportunity", user_id=admin.id)])
        fields = ["sla_status", "sla_policy_id", "sla_start", "sla_warn_at", "sla_deadline",
                  "sla_time_left"]
        rec, = self._call("crm.lead", "read", [[lead_id], fields])
        self.assertEqual(rec["sla_status"], "running")
        self.assertEqual(rec["sla_policy_id"][0], self.env.ref("lead_sla.sla_policy_hot").id)
        lead = self.env["crm.lead"].browse(lead_id)
        self.assertEqual(lead.sla_deadline - lead.sla_start, timedelta(minutes=5))
        self.assertEqual(lead.sla_warn_at - lead.sla_start, timedelta(minutes=3))
        self.assertTrue(rec["sla_time_left"].endswith("left"))
        # the button opens the wizard; with a note the clock stops
        action = self._call("crm.lead", "action_lead_sla_mark_contacted", [[lead_id]])
        self.assertEqual(action["res_model"], "lead.sla.contacted")
        self._call("crm.lead", "action_lead_sla_mark_contacted", [[lead_id]],
                   {"note": "Called the customer, demo booked for next Tuesday."})
        rec, = self._call("crm.lead", "read", [[lead_id], ["sla_status",
                                                           "sla_first_response_kind"]])
        self.assertEqual(rec["sla_status"], "met")
        self.assertEqual(rec["sla_first_response_kind"], "contacted")
        # the report reads it
        groups = self._call("lead.sla.report", "web_read_group", [
            [("lead_id", "=", lead_id)], ["response_median:avg", "compliance_rate:avg"],
            ["user_id"]])
        self.assertEqual(groups["groups"][0]["compliance_rate"], 100)

from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install")
class TestRoutingOverHttp(HttpCase):

    def test_lead_created_over_json_rpc_is_routed_and_logged(self):
        self.env["lead.routing.rule"].search([]).active = False
        manager = new_test_user(self.env, login="ld_http_mgr",
                                groups="sales_team.group_sale_manager,base.group_user")
        agent = new_test_user(self.env, login="ld_http_agent", name="Agent Http",
                              groups="sales_team.group_sale_salesman,base.group_user")
        team = self.env["crm.team"].create({"name": "Http team"})
        self.env["crm.team.member"].create({"crm_team_id": team.id, "user_id": agent.id})
        self.env["lead.routing.rule"].create({
            "name": "Web", "team_id": team.id, "domain": "[('referred', '=', 'web')]"})
        self.authenticate("ld_http_mgr", "ld_http_mgr")
        lead_id = self.make_jsonrpc_request("/web/dataset/call_kw", {
            "model": "crm.lead", "method": "create", "args": [{"name": "From the web", "referred": "web"}],
            "kwargs": {}})
        lead = self.env["crm.lead"].browse(lead_id)
        self.assertEqual(lead.user_id, agent)
        self.assertEqual(lead.team_id, team)
        self.assertEqual(lead.lead_assignment_log_ids.kind, "auto")
        # the manager's client then re-saves it: no rerouting
        self.make_jsonrpc_request("/web/dataset/call_kw", {
            "model": "crm.lead", "method": "write", "args": [[lead_id], {"description": "called"}],
            "kwargs": {}})
        self.assertEqual(len(lead.lead_assignment_log_ids), 1)
        self.assertEqual(lead.lead_assignment_log_ids.create_uid, manager)

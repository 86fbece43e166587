from odoo.tests import HttpCase, new_test_user, tagged


@tagged("post_install", "-at_install", "is_tour")
class TestDashboardTour(HttpCase):

    def test_manager_opens_the_dashboard_and_drills_into_overdue_leads(self):
        new_test_user(self.env, login="dash_tour_mgr", tz="UTC",
                      groups="sales_team.group_sale_manager,base.group_user")
        self.env["lead.routing.rule"].search([]).active = False
        team = self.env["crm.team"].create({"name": "Dashboard tour team"})
        lead = self.env["crm.lead"].create({
            "name": "Dashboard tour overdue lead", "type": "opportunity", "team_id": team.id,
            "user_id": self.env.ref("base.user_admin").id})
        self.env.flush_all()
        # the sweep breached its clock (written as the sweep leaves it)
        self.env.cr.execute("UPDATE crm_lead SET sla_status = 'breached' WHERE id = %s", [lead.id])
        # the only overdue lead of the companies: the other open leads are not breached
        self.env.cr.execute("""
            UPDATE crm_lead SET sla_status = 'running'
             WHERE sla_status = 'breached' AND id != %s""", [lead.id])
        self.start_tour("/odoo/crm", "lead_dashboard_overdue_tour", login="dash_tour_mgr")

from odoo.tests import TransactionCase, new_test_user

HOT = {"phone": "+60123456789", "lead_budget": 5000, "lead_timeline": "week",
       "lead_meeting_requested": True}


class LeadDistributionCase(TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        # these tests describe routing rules; the out-of-the-box fallback (leads
        # no rule matches shared in their team) has its own (test_team_fallback)
        cls.company.lead_distribution_fallback = "unassigned"
        # only our rules: deactivate any rule a demo or another addon made
        cls.env["lead.routing.rule"].search([]).active = False
        # only our leads wait for the backlog job: a lead another data set left
        # waiting (the demo's enquiry that came in off shift) is not routed by our rules
        cls.env["crm.lead"].search([("lead_routing_pending", "=", True)]).lead_routing_pending = False
        cls.manager = new_test_user(
            cls.env, login="ld_manager", name="Mona Manager",
            groups="sales_team.group_sale_manager,base.group_user")
        cls.ali = cls._agent("ld_ali", "Ali")
        cls.siti = cls._agent("ld_siti", "Siti")
        cls.bo = cls._agent("ld_bo", "Bo")
        cls.team = cls.env["crm.team"].create({
            "name": "Routing Team", "user_id": cls.manager.id, "use_leads": True,
            "use_opportunities": True})
        cls.m_ali, cls.m_siti, cls.m_bo = [
            cls.env["crm.team.member"].create({"crm_team_id": cls.team.id, "user_id": u.id})
            for u in (cls.ali, cls.siti, cls.bo)]
        cls.mandarin = cls.env["lead.skill"].create({"name": "Mandarin", "category": "language"})
        cls.Lead = cls.env["crm.lead"]

    @classmethod
    def _agent(cls, login, name, groups="sales_team.group_sale_salesman_all_leads,base.group_user"):
        return new_test_user(cls.env, login=login, name=name, groups=groups, tz="UTC")

    def _rule(self, **vals):
        values = {"name": "Everything", "team_id": self.team.id, "strategy": "round_robin",
                  "fallback": "unassigned", "sequence": 10}
        values.update(vals)
        return self.env["lead.routing.rule"].create(values)

    def _leads(self, n, **vals):
        return self.Lead.create([dict({"name": "Lead %s" % i, "type": "lead"}, **vals) for i in range(n)])

    def _owners(self, leads):
        return [lead.user_id for lead in leads.sorted("id")]

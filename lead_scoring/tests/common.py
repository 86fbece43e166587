from odoo.tests import TransactionCase, new_test_user


class LeadScoringCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.company = cls.env.company
        cls.company.write({"lead_hot_threshold": 60, "lead_warm_threshold": 30,
                           "lead_budget_fit_min": 0})
        cls.Lead = cls.env["crm.lead"]
        cls.Rule = cls.env["lead.scoring.rule"]
        cls.manager = new_test_user(cls.env, "ls_manager", groups="sales_team.group_sale_manager",
                                    name="Scoring Manager")
        cls.salesman = new_test_user(cls.env, "ls_salesman",
                                     groups="sales_team.group_sale_salesman", name="Scoring Salesman")

    def _lead(self, **vals):
        vals.setdefault("name", "Enquiry")
        return self.Lead.create(vals)

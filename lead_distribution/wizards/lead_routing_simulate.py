from odoo import fields, models
from odoo.osv import expression


class LeadRoutingSimulate(models.TransientModel):
    """Who would receive the next 10 leads of a rule, and why. Changes nothing:
    the rotation credits are read, advanced in memory only, never saved."""
    _name = "lead.routing.simulate"
    _description = "Simulate a Routing Rule"

    rule_id = fields.Many2one("lead.routing.rule", required=True, ondelete="cascade")
    line_ids = fields.One2many("lead.routing.simulate.line", "wizard_id", readonly=True)
    size = fields.Integer(default=10)

    def _sample_leads(self):
        """Open leads matching the rule: waiting ones first, then the newest."""
        rule = self.rule_id
        Lead = self.env["crm.lead"].sudo()
        domain = expression.AND([rule._matching_domain(rule.company_id), Lead._lead_open_domain()])
        leads = Lead.search(expression.AND([domain, [("user_id", "=", False)]]),
                            order="id", limit=self.size)
        if len(leads) < self.size:
            leads |= Lead.search(expression.AND([domain, [("id", "not in", leads.ids)]]),
                                 order="id desc", limit=self.size - len(leads))
        return leads

    def _simulate(self):
        self.ensure_one()
        leads = self._sample_leads()
        now = self.env.context.get("lead_distribution_now") or fields.Datetime.now()
        decisions, _touched = self.rule_id._route_leads(leads, now, simulate=True)
        by_lead = {d["lead"].id: d for d in decisions}
        self.line_ids = [(5, 0, 0)] + [(0, 0, {
            "sequence": i,
            "lead_id": lead.id,
            "user_id": by_lead[lead.id]["user"].id if lead.id in by_lead and by_lead[lead.id]["user"] else False,
            "reason": by_lead[lead.id]["reason"] if lead.id in by_lead else "",
        }) for i, lead in enumerate(leads.sorted("id"))]
        return True


class LeadRoutingSimulateLine(models.TransientModel):
    _name = "lead.routing.simulate.line"
    _description = "Simulated Routing"
    _order = "sequence"

    wizard_id = fields.Many2one("lead.routing.simulate", required=True, ondelete="cascade")
    sequence = fields.Integer()
    lead_id = fields.Many2one("crm.lead", readonly=True)
    user_id = fields.Many2one("res.users", string="Would Go To", readonly=True)
    reason = fields.Text(readonly=True)

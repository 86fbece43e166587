from odoo import fields, models

KINDS = [("auto", "Automatic"), ("manual", "Manual"), ("sla", "SLA Breach"), ("transfer", "Transfer")]
STRATEGIES = [("round_robin", "Round Robin"), ("weighted", "Weighted"), ("least_loaded", "Least Loaded")]


class LeadAssignmentLog(models.Model):
    _name = "lead.assignment.log"
    _description = "Lead Assignment Log"
    _order = "date desc, id desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one("crm.lead", string="Lead", required=True, ondelete="cascade", index=True)
    user_id = fields.Many2one("res.users", string="Assigned To", index=True)
    previous_user_id = fields.Many2one("res.users", string="Previous Salesperson")
    team_id = fields.Many2one("crm.team", string="Sales Team", index=True)
    rule_id = fields.Many2one("lead.routing.rule", string="Rule", ondelete="set null")
    strategy = fields.Selection(STRATEGIES)
    kind = fields.Selection(KINDS, required=True, default="auto", index=True)
    reason = fields.Text(required=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    company_id = fields.Many2one("res.company", index=True, default=lambda self: self.env.company)
    lead_tier = fields.Selection(related="lead_id.lead_tier", string="Tier")

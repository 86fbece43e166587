from odoo import fields, models


class LeadRoutingState(models.Model):
    """Rotation credit of one agent in one rule (smooth weighted round robin).

    Read and written with SQL while the rule's row is locked FOR UPDATE, so
    concurrent routings serialise on the rule and never give a slot twice.
    """
    _name = "lead.routing.state"
    _description = "Lead Routing Rotation State"
    _order = "rule_id, user_id"

    rule_id = fields.Many2one("lead.routing.rule", required=True, ondelete="cascade", index=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    current_weight = fields.Float(string="Rotation Credit", digits=(16, 6), readonly=True)
    assigned_count = fields.Integer(string="Leads Received", readonly=True)

    _sql_constraints = [
        ("rule_user_uniq", "unique(rule_id, user_id)", "One rotation state per agent and rule."),
    ]

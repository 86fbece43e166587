from odoo import fields, models


class LeadDistributionShare(models.Model):
    """Daily leads received vs share expected, per agent and team.

    At every pick the strategy's expected share of the lead (weight / total
    weight of the agents *available* at that moment) is credited to each
    eligible agent, and one lead to the chosen one: the report compares the
    two, so agents are judged only on the time they were available.
    Upserted with one statement per routing batch.
    """
    _name = "lead.distribution.share"
    _description = "Lead Distribution Share"
    _order = "date desc"

    date = fields.Date(required=True, index=True)
    team_id = fields.Many2one("crm.team", required=True, ondelete="cascade", index=True)
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    company_id = fields.Many2one("res.company")
    expected = fields.Float(digits=(16, 4))
    received = fields.Integer()

    _sql_constraints = [
        ("date_team_user_uniq", "unique(date, team_id, user_id)", "One share line per agent, team and day."),
    ]

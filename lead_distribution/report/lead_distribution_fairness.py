from odoo import fields, models, tools

from ..models.crm_team_member import PERFORMANCE_TIERS


class LeadDistributionFairness(models.Model):
    """Leads received per agent and month against the share expected from
    weights and availability, with Jain's fairness index of the team.

    Jain's index over x_i = received_i / expected_i of the team's agents in
    the month: (sum x)^2 / (n * sum x^2); 1.0 is perfectly fair.
    """
    _name = "lead.distribution.fairness"
    _description = "Lead Distribution Fairness"
    _auto = False
    _order = "month desc, team_id, user_id"

    month = fields.Date(readonly=True)
    team_id = fields.Many2one("crm.team", readonly=True)
    user_id = fields.Many2one("res.users", string="Agent", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    received = fields.Integer(readonly=True)
    expected = fields.Float(readonly=True, digits=(16, 2))
    ratio = fields.Float(string="Received / Expected", readonly=True, digits=(16, 2), aggregator="avg")
    jain_index = fields.Float(string="Team Fairness (Jain)", readonly=True, digits=(16, 3), aggregator="avg")
    # today's tier and weight of the agent in the team, so that agents can
    # check the bonus against the shares (expected already includes it)
    lead_performance_tier = fields.Selection(PERFORMANCE_TIERS, string="Tier", readonly=True)
    lead_weight = fields.Float(string="Weight", readonly=True, digits=(16, 2), aggregator="avg")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute("""
            CREATE OR REPLACE VIEW %s AS (
                WITH per_agent AS (
                    SELECT date_trunc('month', s.date)::date AS month, s.team_id, s.user_id,
                           MIN(s.company_id) AS company_id,
                           SUM(s.received) AS received, SUM(s.expected) AS expected
                      FROM lead_distribution_share s
                     GROUP BY 1, 2, 3
                ), ratios AS (
                    SELECT *, CASE WHEN expected > 0 THEN received / expected ELSE 0 END AS ratio
                      FROM per_agent
                ), members AS (
                    SELECT DISTINCT ON (crm_team_id, user_id) crm_team_id, user_id,
                           lead_performance_tier, lead_weight
                      FROM crm_team_member
                     WHERE active
                     ORDER BY crm_team_id, user_id, id
                )
                SELECT row_number() OVER (ORDER BY month, r.team_id, r.user_id) AS id,
                       month, r.team_id, r.user_id, company_id, received, expected, ratio,
                       CASE WHEN SUM(ratio * ratio) OVER w > 0
                            THEN POWER(SUM(ratio) OVER w, 2) / (COUNT(*) OVER w * SUM(ratio * ratio) OVER w)
                            ELSE 1 END AS jain_index,
                       m.lead_performance_tier, m.lead_weight
                  FROM ratios r
                  LEFT JOIN members m ON m.crm_team_id = r.team_id AND m.user_id = r.user_id
                WINDOW w AS (PARTITION BY month, r.team_id)
            )""" % self._table)

from odoo import fields, models, tools
from odoo.tools import SQL

from odoo.addons.lead_scoring.vocabulary import TIER_SELECTION

from ..vocabulary import FIRST_RESPONSE_KINDS, SLA_STATUS

# Measures the pivot and graph views aggregate with a percentile instead of
# the field's stored aggregator (PostgreSQL computes them per group).
PERCENTILES = {
    "response_median": 0.5,
    "response_p90": 0.9,
}
OUTCOMES = [
    ("on_time", "Answered on time"),
    ("late", "Answered late"),
    ("overdue", "Overdue, not answered"),
    ("open", "Clock running"),
    ("stopped", "Closed before an answer"),
]


class LeadSlaReport(models.Model):
    _name = "lead.sla.report"
    _description = "Lead Response Times"
    _auto = False
    _order = "sla_start desc"
    _rec_name = "lead_id"

    lead_id = fields.Many2one("crm.lead", string="Lead", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    policy_id = fields.Many2one("lead.sla.policy", string="SLA Policy", readonly=True)
    lead_tier = fields.Selection(TIER_SELECTION, string="Tier", readonly=True)
    source_id = fields.Many2one("utm.source", string="Source", readonly=True)
    medium_id = fields.Many2one("utm.medium", string="Medium", readonly=True)
    sla_status = fields.Selection(SLA_STATUS, string="SLA Status", readonly=True)
    outcome = fields.Selection(
        OUTCOMES, string="Outcome", readonly=True,
        help="Answered on time, answered late, overdue without an answer, or still running.")
    first_response_kind = fields.Selection(
        FIRST_RESPONSE_KINDS, string="First Response By", readonly=True)
    sla_start = fields.Datetime(string="Clock Started", readonly=True)
    first_response_date = fields.Datetime(string="First Response", readonly=True)
    nbr = fields.Integer(string="# Leads", readonly=True, aggregator="sum")
    responded = fields.Integer(string="# Responded", readonly=True, aggregator="sum")
    on_time = fields.Integer(string="# On Time", readonly=True, aggregator="sum")
    breach_count = fields.Integer(string="# Breaches", readonly=True, aggregator="sum")
    compliance_rate = fields.Float(
        string="Compliance Rate (%)", readonly=True, aggregator="avg",
        help="Share of clocked leads answered before their deadline.")
    response_minutes = fields.Float(
        string="Avg Response (min)", readonly=True, aggregator="avg")
    response_median = fields.Float(
        string="Median Response (min)", readonly=True, aggregator="avg",
        help="Median working minutes to the first response.")
    response_p90 = fields.Float(
        string="P90 Response (min)", readonly=True, aggregator="avg",
        help="90th percentile of the working minutes to the first response.")

    def _read_group_select(self, aggregate_spec, query):
        fname = aggregate_spec.split(":")[0]
        if fname in PERCENTILES:
            return SQL(
                "percentile_cont(%s) WITHIN GROUP (ORDER BY %s)",
                PERCENTILES[fname], self._field_to_sql(self._table, "response_minutes", query))
        return super()._read_group_select(aggregate_spec, query)

    def init(self):
        # SQL: a report view over the clocks of crm_lead
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("""
            CREATE OR REPLACE VIEW %s AS (
                SELECT l.id AS id,
                       l.id AS lead_id,
                       l.user_id, l.team_id, l.company_id,
                       l.sla_policy_id AS policy_id,
                       l.lead_tier, l.source_id, l.medium_id,
                       l.sla_status,
                       l.sla_first_response_kind AS first_response_kind,
                       l.sla_start,
                       l.sla_first_response_date AS first_response_date,
                       1 AS nbr,
                       CASE WHEN l.sla_first_response_date IS NOT NULL THEN 1 ELSE 0 END
                           AS responded,
                       CASE WHEN l.sla_status = 'met' AND COALESCE(l.sla_breach_count, 0) = 0
                            THEN 1 ELSE 0 END AS on_time,
                       CASE WHEN l.sla_status = 'met' AND COALESCE(l.sla_breach_count, 0) = 0
                                 THEN 'on_time'
                            WHEN l.sla_first_response_date IS NOT NULL THEN 'late'
                            WHEN l.sla_status = 'breached' THEN 'overdue'
                            WHEN l.sla_status IN ('running', 'warning') THEN 'open'
                            ELSE 'stopped' END AS outcome,
                       COALESCE(l.sla_breach_count, 0) AS breach_count,
                       CASE WHEN COALESCE(l.sla_breach_count, 0) > 0
                              OR l.sla_status IN ('breached', 'late') THEN 0.0
                            WHEN l.sla_status = 'met' THEN 100.0
                       END AS compliance_rate,
                       CASE WHEN l.sla_first_response_date IS NOT NULL
                            THEN l.sla_response_minutes END AS response_minutes,
                       CASE WHEN l.sla_first_response_date IS NOT NULL
                            THEN l.sla_response_minutes END AS response_median,
                       CASE WHEN l.sla_first_response_date IS NOT NULL
                            THEN l.sla_response_minutes END AS response_p90
                  FROM crm_lead l
                 WHERE l.sla_start IS NOT NULL
            )""", SQL.identifier(self._table)))

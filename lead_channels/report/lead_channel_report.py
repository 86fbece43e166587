from odoo import fields, models, tools
from odoo.tools import SQL

from odoo.addons.lead_scoring.vocabulary import open_lead_sql


class LeadChannelReport(models.Model):
    """Leads and conversion by channel (one row per lead, pivot/graph friendly)."""
    _name = "lead.channel.report"
    _description = "Leads by Channel"
    _auto = False
    _order = "create_date desc"

    lead_id = fields.Many2one("crm.lead", readonly=True)
    channel_id = fields.Many2one("lead.channel", readonly=True)
    channel_type = fields.Selection(related="channel_id.channel_type", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    team_id = fields.Many2one("crm.team", readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    source_id = fields.Many2one("utm.source", readonly=True)
    campaign_id = fields.Many2one("utm.campaign", readonly=True)
    create_date = fields.Datetime(string="Created On", readonly=True)
    lead_count = fields.Integer(string="Leads", readonly=True, aggregator="sum")
    won_count = fields.Integer(string="Won", readonly=True, aggregator="sum")
    lost_count = fields.Integer(string="Lost", readonly=True, aggregator="sum")
    open_count = fields.Integer(string="Open", readonly=True, aggregator="sum")
    conversion_rate = fields.Float(string="Conversion (%)", readonly=True, aggregator="avg",
                                   help="Share of the leads that were won.")
    inbound_count = fields.Integer(string="Customer Messages", readonly=True, aggregator="sum")

    def init(self):
        tools.drop_view_if_exists(self.env.cr, self._table)
        # a report view (no ORM equivalent); "open" is the suite's one definition
        self.env.cr.execute(SQL("""
            CREATE OR REPLACE VIEW %s AS (
                SELECT l.id, l.id AS lead_id, l.channel_id, l.company_id, l.team_id, l.user_id,
                       l.source_id, l.campaign_id, l.create_date,
                       1 AS lead_count,
                       CASE WHEN s.is_won THEN 1 ELSE 0 END AS won_count,
                       CASE WHEN NOT l.active THEN 1 ELSE 0 END AS lost_count,
                       CASE WHEN %s THEN 1 ELSE 0 END AS open_count,
                       CASE WHEN s.is_won THEN 100.0 ELSE 0.0 END AS conversion_rate,
                       coalesce(l.lead_inbound_count, 0) AS inbound_count
                  FROM crm_lead l
             LEFT JOIN crm_stage s ON s.id = l.stage_id
                 WHERE l.channel_id IS NOT NULL
            )""", SQL.identifier(self._table), open_lead_sql("l")))

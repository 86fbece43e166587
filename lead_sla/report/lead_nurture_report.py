from odoo import fields, models, tools
from odoo.tools import SQL

from ..models.lead_nurture_log import NURTURE_LOG_KINDS, NURTURE_STOP_REASONS
from ..models.lead_nurture_sequence import NURTURE_TRIGGERS


class LeadNurtureReport(models.Model):
    """One row per nurture event (enrolment, step sent, failure, stop,
    completion), with 0/1 measures so that the pivot sums them per sequence
    and step: enrolled, sent, replied, stopped (by reason), won after nurture."""
    _name = "lead.nurture.report"
    _description = "Lead Nurture Analysis"
    _auto = False
    _order = "date desc"
    _rec_name = "lead_id"

    date = fields.Datetime(readonly=True)
    lead_id = fields.Many2one("crm.lead", string="Lead", readonly=True)
    sequence_id = fields.Many2one("lead.nurture.sequence", string="Nurture Sequence",
                                  readonly=True)
    trigger = fields.Selection(NURTURE_TRIGGERS, readonly=True)
    step_id = fields.Many2one("lead.nurture.step", string="Step", readonly=True)
    kind = fields.Selection(NURTURE_LOG_KINDS, string="Event", readonly=True)
    stop_reason = fields.Selection(NURTURE_STOP_REASONS, readonly=True)
    user_id = fields.Many2one("res.users", string="Salesperson", readonly=True)
    team_id = fields.Many2one("crm.team", string="Sales Team", readonly=True)
    company_id = fields.Many2one("res.company", string="Company", readonly=True)
    enrolled = fields.Integer(string="# Enrolled", readonly=True, aggregator="sum")
    sent = fields.Integer(string="# Steps Sent", readonly=True, aggregator="sum")
    failed = fields.Integer(string="# Failed Sends", readonly=True, aggregator="sum")
    replied = fields.Integer(string="# Replied", readonly=True, aggregator="sum")
    stopped = fields.Integer(string="# Stopped", readonly=True, aggregator="sum")
    completed = fields.Integer(string="# Completed", readonly=True, aggregator="sum")
    won = fields.Integer(
        string="# Won After Nurture", readonly=True, aggregator="sum",
        help="Enrolments whose lead was won after entering the sequence.")

    def init(self):
        # a view on our own log: the pivot groups it with read_group
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(SQL("""
            CREATE OR REPLACE VIEW %s AS (
                SELECT g.id, g.date, g.lead_id, g.sequence_id, s.trigger, g.step_id, g.kind,
                       g.stop_reason, l.user_id, l.team_id, g.company_id,
                       (g.kind = 'enrolled')::int AS enrolled,
                       (g.kind = 'sent')::int AS sent,
                       (g.kind = 'failed')::int AS failed,
                       (g.kind = 'stopped' AND g.stop_reason = 'replied')::int AS replied,
                       (g.kind = 'stopped')::int AS stopped,
                       (g.kind = 'done')::int AS completed,
                       (g.kind = 'enrolled' AND l.active AND l.probability >= 100
                        AND l.date_closed >= g.date)::int AS won
                  FROM lead_nurture_log g
                  JOIN crm_lead l ON l.id = g.lead_id
                  JOIN lead_nurture_sequence s ON s.id = g.sequence_id
            )""", SQL.identifier(self._table)))

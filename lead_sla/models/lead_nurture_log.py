from odoo import api, fields, models
from odoo.tools import SQL

NURTURE_STOP_REASONS = [
    ("replied", "Replied"),
    ("warmed", "Warmed up"),
    ("won", "Won"),
    ("lost", "Lost"),
    ("unarchived", "Restored"),
    ("manual", "Stopped by hand"),
]
NURTURE_LOG_KINDS = [
    ("enrolled", "Enrolled"),
    ("sent", "Step sent"),
    ("failed", "Send failed"),
    ("stopped", "Stopped"),
    ("done", "Completed"),
]


class LeadNurtureLog(models.Model):
    """What happened to each lead in nurture: enrolment, each step sent,
    failures, the stop and its reason. The "sent" rows are the idempotency key
    of the sending (one per enrolment and step) and the log feeds the report.
    Written by the system only."""
    _name = "lead.nurture.log"
    _description = "Lead Nurture Log"
    _order = "date desc, id desc"
    _rec_name = "kind"

    lead_id = fields.Many2one("crm.lead", required=True, index=True, ondelete="cascade")
    enrolment_id = fields.Many2one(
        "lead.nurture.log", string="Enrolment", index="btree_not_null", ondelete="cascade",
        help="The 'enrolled' row this event belongs to (empty on that row itself).")
    sequence_id = fields.Many2one(
        "lead.nurture.sequence", string="Nurture Sequence", required=True, index=True,
        ondelete="cascade")
    step_id = fields.Many2one("lead.nurture.step", string="Step", ondelete="set null")
    kind = fields.Selection(NURTURE_LOG_KINDS, required=True)
    stop_reason = fields.Selection(NURTURE_STOP_REASONS)
    date = fields.Datetime(required=True, default=fields.Datetime.now)
    error = fields.Text()
    attempt = fields.Integer(default=0)
    company_id = fields.Many2one("res.company", index=True)

    def init(self):
        super().init()
        # Exactly once per step: the cron claims a step by inserting its
        # "sent" row; a second worker's insert hits this index and skips it.
        self.env.cr.execute("""
            CREATE UNIQUE INDEX IF NOT EXISTS lead_nurture_log_sent_uniq
                ON lead_nurture_log (enrolment_id, step_id) WHERE kind = 'sent'
        """)

    @api.model
    def _lead_nurture_log(self, leads, kind, **values):
        """One row per lead, for the lead's current enrolment, in one INSERT.
        ``values``: step_id (default: the lead's next step), stop_reason,
        error, attempt, date. Returns the rows, in the order of ``leads``."""
        if not leads:
            return self.browse()
        now = fields.Datetime.now()
        step_id = values.get("step_id")
        rows = [(lead.id, lead.nurture_enrolment_id.id or None, lead.nurture_sequence_id.id,
                 (lead.nurture_step_id.id if step_id is None else step_id) or None,
                 lead.company_id.id or None) for lead in leads]
        columns = list(zip(*rows))
        self.flush_model()
        # SQL: the cron logs a whole batch; one INSERT ... unnest into our own table
        self.env.cr.execute(SQL("""
            INSERT INTO lead_nurture_log (lead_id, enrolment_id, sequence_id, step_id, company_id,
                                          kind, stop_reason, error, attempt, date,
                                          create_uid, create_date, write_uid, write_date)
            SELECT t.lead_id, t.enrolment_id, t.sequence_id, t.step_id, t.company_id,
                   %(kind)s, %(reason)s, %(error)s, %(attempt)s, %(date)s,
                   %(uid)s, %(now)s, %(uid)s, %(now)s
              FROM unnest(%(leads)s::int[], %(enrolments)s::int[], %(sequences)s::int[],
                          %(steps)s::int[], %(companies)s::int[])
                   AS t(lead_id, enrolment_id, sequence_id, step_id, company_id)
            RETURNING lead_id, id""",
            kind=kind, reason=values.get("stop_reason") or None, error=values.get("error"),
            attempt=values.get("attempt") or 0,
            # the suite's clock hook (lead_sla_now): stops and enrolments of a
            # simulated or replayed event are dated at that event
            date=values.get("date") or self.env.context.get("lead_sla_now") or now,
            uid=self.env.uid, now=now, leads=list(columns[0]), enrolments=list(columns[1]),
            sequences=list(columns[2]), steps=list(columns[3]), companies=list(columns[4])))
        by_lead = dict(self.env.cr.fetchall())
        return self.browse([by_lead[lead.id] for lead in leads])

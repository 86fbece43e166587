from odoo import api, fields, models

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
        """One row per lead, for the lead's current enrolment."""
        now = fields.Datetime.now()
        return self.sudo().create([dict(
            lead_id=lead.id, kind=kind, date=values.get("date") or now,
            enrolment_id=lead.nurture_enrolment_id.id,
            sequence_id=lead.nurture_sequence_id.id,
            step_id=values.get("step_id", lead.nurture_step_id.id),
            company_id=lead.company_id.id,
            **{k: v for k, v in values.items() if k not in ("date", "step_id")},
        ) for lead in leads])

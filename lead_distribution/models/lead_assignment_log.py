from odoo import api, fields, models

from ..vocabulary import LOG_KIND_SELECTION, STRATEGY_SELECTION


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
    strategy = fields.Selection(STRATEGY_SELECTION)
    kind = fields.Selection(LOG_KIND_SELECTION, required=True, default="auto", index=True)
    reason = fields.Text(required=True)
    date = fields.Datetime(required=True, default=fields.Datetime.now, index=True)
    company_id = fields.Many2one("res.company", index=True, default=lambda self: self.env.company)
    lead_tier = fields.Selection(related="lead_id.lead_tier", string="Tier")

    @api.model
    def _insert_batch(self, vals_list):
        """Append many log lines with one INSERT (routing of a whole backlog).

        The log is append-only and has no computed stored field or create
        hook, so the ORM create (a few ms per line) adds nothing but time.
        One array per column (unnest): a single statement, no per-row
        formatting in Python.
        """
        if not vals_list:
            return
        columns = [("lead_id", "int"), ("user_id", "int"), ("previous_user_id", "int"),
                   ("team_id", "int"), ("rule_id", "int"), ("strategy", "varchar"), ("kind", "varchar"),
                   ("reason", "text"), ("date", "timestamp"), ("company_id", "int")]
        arrays = [[vals.get(name) or None for vals in vals_list] for name, _type in columns]
        self.env.cr.execute("""
            INSERT INTO lead_assignment_log (%s, create_uid, write_uid, create_date, write_date)
            SELECT v.*, %%s, %%s, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM unnest(%s) AS v
        """ % (", ".join(name for name, _type in columns),
               ", ".join("%%s::%s[]" % type_ for _name, type_ in columns)),
            [self.env.uid, self.env.uid] + arrays)
        self.invalidate_model()
        self.env["crm.lead"].browse({v["lead_id"] for v in vals_list}).invalidate_recordset(
            ["lead_assignment_log_ids"])

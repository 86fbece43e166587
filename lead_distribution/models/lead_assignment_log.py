from psycopg2.extras import execute_values

from odoo import api, fields, models

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

    @api.model
    def _insert_batch(self, vals_list):
        """Append many log lines with one INSERT (routing of a whole backlog).

        The log is append-only and has no computed stored field or create
        hook, so the ORM create (a few ms per line) adds nothing but time.
        """
        if not vals_list:
            return
        columns = ("lead_id", "user_id", "previous_user_id", "team_id", "rule_id",
                   "strategy", "kind", "reason", "date", "company_id")
        rows = [tuple(vals.get(c) or None for c in columns) + (self.env.uid, self.env.uid)
                for vals in vals_list]
        execute_values(self.env.cr._obj, """
            INSERT INTO lead_assignment_log (%s, create_uid, write_uid, create_date, write_date)
            SELECT v.*, now() at time zone 'UTC', now() at time zone 'UTC'
              FROM (VALUES %%s) AS v
        """ % ", ".join(columns), rows,
            template="(%s::int, %s::int, %s::int, %s::int, %s::int, %s, %s, %s, %s::timestamp, "
                     "%s::int, %s::int, %s::int)", page_size=1000)
        self.invalidate_model()
        self.env["crm.lead"].browse({v["lead_id"] for v in vals_list}).invalidate_recordset(
            ["lead_assignment_log_ids"])

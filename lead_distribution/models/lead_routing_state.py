from odoo import api, fields, models
from odoo.tools import SQL


class LeadRoutingState(models.Model):
    """Rotation credit of one agent in one rule, or in a sales team's own
    pool (company fallback "team": ``rule_id`` empty, ``team_id`` set).

    Written while the pool is locked (see ``lead.routing.rule._routing_lock``),
    so concurrent routings serialise and never give a slot twice.
    """
    _name = "lead.routing.state"
    _description = "Lead Routing Rotation State"
    _order = "rule_id, team_id, user_id"

    rule_id = fields.Many2one("lead.routing.rule", ondelete="cascade", index=True)
    team_id = fields.Many2one(
        "crm.team", string="Sales Team", ondelete="cascade", index="btree_not_null",
        help="Set for the rotation of a team's own pool (no rule matched the lead).")
    user_id = fields.Many2one("res.users", required=True, ondelete="cascade")
    current_weight = fields.Float(string="Rotation Credit", digits=(16, 6), readonly=True)
    assigned_count = fields.Integer(string="Leads Received", readonly=True)

    _sql_constraints = [
        ("rule_user_uniq", "unique(rule_id, user_id)", "One rotation state per agent and rule."),
        ("rule_or_team", "CHECK(rule_id IS NOT NULL OR team_id IS NOT NULL)",
         "A rotation state belongs to a rule or to a sales team."),
    ]

    def init(self):
        # one row per agent of a team's own pool: the target of the team rows'
        # ON CONFLICT (a partial unique index, which _sql_constraints cannot declare)
        self.env.cr.execute(SQL(
            "CREATE UNIQUE INDEX IF NOT EXISTS lead_routing_state_team_user_uniq "
            "ON lead_routing_state (team_id, user_id) WHERE rule_id IS NULL"))

    @api.model
    def _upsert_credits(self, rule_rows, team_rows):
        """Save rotation credits and add received counts, one statement per kind.

        :param rule_rows: [(rule id, user id, credit, received)]
        :param team_rows: [(team id, user id, credit, received)]
        ON CONFLICT upserts (concurrent first routings of a pool insert the
        same rows), which the ORM cannot express.
        """
        for rows, column, conflict in ((rule_rows, "rule_id", SQL("(rule_id, user_id)")),
                                       (team_rows, "team_id", SQL("(team_id, user_id) WHERE rule_id IS NULL"))):
            if not rows:
                continue
            keys, users, credits, counts = (list(column_values) for column_values in zip(*rows))
            self.env.cr.execute(SQL("""
                INSERT INTO lead_routing_state (%(column)s, user_id, current_weight, assigned_count,
                                                create_uid, write_uid, create_date, write_date)
                SELECT v.pool, v.user_id, v.credit, v.received, %(uid)s, %(uid)s,
                       now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                  FROM unnest(%(keys)s::int[], %(users)s::int[], %(credits)s::float[], %(counts)s::int[])
                       AS v(pool, user_id, credit, received)
                ON CONFLICT %(conflict)s DO UPDATE
                   SET current_weight = EXCLUDED.current_weight,
                       assigned_count = lead_routing_state.assigned_count + EXCLUDED.assigned_count,
                       write_date = EXCLUDED.write_date
            """, column=SQL.identifier(column), uid=self.env.uid, keys=keys, users=users,
                credits=credits, counts=counts, conflict=conflict))
        self.invalidate_model()

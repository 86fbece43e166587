from ast import literal_eval

from odoo import _, api, fields, models, tools
from odoo.exceptions import UserError
from odoo.osv import expression

from ..core.scoring import score_leads, tier_for

TIER_SELECTION = [("hot", "Hot"), ("warm", "Warm"), ("cold", "Cold")]
SCORE_FIELDS = ("lead_score", "lead_tier", "lead_score_detail", "lead_score_date")
# Fields whose change rescores a lead through the ORM's own recompute queue.
# user_id, team_id and stage_id are left out on purpose: assignment and stage
# moves are the hot path of the pipeline and never change the default signals.
# A custom rule reading another field is handled in write().
SCORE_TRIGGERS = (
    "phone", "mobile", "email_from", "partner_id", "company_id", "type",
    "lead_budget", "lead_timeline", "lead_inbound_count", "lead_meeting_requested",
    "lead_is_decision_maker", "lead_used_competitor",
    "medium_id", "source_id", "campaign_id", "tag_ids", "expected_revenue",
    "country_id", "state_id", "city", "zip",
)


class CrmLead(models.Model):
    _inherit = "crm.lead"

    lead_score = fields.Integer(
        string="Score", compute="_compute_lead_score", store=True, index=True,
        readonly=True, copy=False,
        help="Sum of the points of the scoring rules this lead matches.")
    lead_tier = fields.Selection(
        TIER_SELECTION, string="Tier", compute="_compute_lead_score", store=True,
        index=True, readonly=True, copy=False)
    lead_score_detail = fields.Text(
        string="Score Detail", compute="_compute_lead_score", store=True,
        readonly=True, copy=False)
    lead_score_date = fields.Datetime(
        string="Scored On", compute="_compute_lead_score", store=True,
        readonly=True, copy=False)

    lead_budget = fields.Monetary(
        string="Budget", currency_field="company_currency", tracking=True,
        help="Budget the customer stated.")
    lead_timeline = fields.Selection(
        [("week", "This week"), ("month", "This month"), ("quarter", "This quarter"),
         ("later", "Later"), ("unknown", "Unknown")],
        string="Timeline", default="unknown", required=True, tracking=True,
        help="When the customer intends to buy.")
    lead_is_decision_maker = fields.Boolean(string="Decision Maker")
    lead_meeting_requested = fields.Boolean(
        string="Meeting Requested", help="A meeting, demo or viewing was requested.")
    lead_used_competitor = fields.Boolean(
        string="Used a Competitor", help="The customer worked with a competitor before.")
    lead_inbound_count = fields.Integer(
        string="Inbound Messages", default=0, copy=False,
        help="Messages the customer sent us on any channel.")
    lead_budget_fit = fields.Boolean(
        string="Budget Fits", compute="_compute_lead_budget_fit",
        search="_search_lead_budget_fit",
        help="The stated budget reaches the company's minimum fitting budget.")

    # ------------------------------------------------------------------
    # Scoring
    # ------------------------------------------------------------------
    def _lead_scoring_depends(self):
        return [f for f in SCORE_TRIGGERS if f in self._fields]

    @api.depends(lambda self: self._lead_scoring_depends())
    def _compute_lead_score(self):
        now = fields.Datetime.now()
        stored = self.filtered("id")
        rules = self.env["lead.scoring.rule"].sudo().search([])
        matches = []
        if stored:
            Lead = self.sudo().with_context(active_test=False)
            for rule in rules:  # one query per rule for the whole batch
                domain = [("id", "in", stored.ids)] + rule._get_domain()
                if rule.company_id:
                    domain = expression.AND([domain, [("company_id", "=", rule.company_id.id)]])
                matches.append((rule, set(Lead.search(domain).ids)))
        new = self - stored
        if new:
            # unsaved form: evaluate in Python so the score previews live
            for rule in rules:
                matched = new.sudo().filtered_domain(rule._get_domain())
                if rule.company_id:
                    matched = matched.filtered(lambda l: l.company_id == rule.company_id)
                matches.append((rule, {lead.id for lead in matched}))
        by_key = {}
        for rule, ids in matches:
            by_key.setdefault(rule.id, (rule.name, rule.points, set()))[2].update(ids)
        results = score_leads(self.ids, [by_key[r.id] for r in rules if r.id in by_key])
        hot_ids = []
        for lead in self:
            result = results[lead.id]
            company = lead.company_id or self.env.company
            tier = tier_for(result.score, company.lead_hot_threshold, company.lead_warm_threshold)
            lead.lead_score = result.score
            lead.lead_tier = tier
            lead.lead_score_detail = result.detail()
            lead.lead_score_date = now
            if tier == "hot":
                hot_ids.append(lead.id)
        stored_hot = [i for i in hot_ids if isinstance(i, int)]
        if stored_hot:
            self._lead_scoring_raise_priority(stored_hot)

    def _lead_scoring_raise_priority(self, lead_ids):
        """Give leads that just became hot the highest priority (3 stars).

        Runs before the new tier is flushed, so the tier in the table is still
        the old one: only leads *becoming* hot are raised, and a salesperson
        lowering a hot lead's stars is not overruled at every rescoring.
        """
        self.env["crm.lead"].flush_model(["priority"])
        self.env.cr.execute("""
            UPDATE crm_lead SET priority = '3'
             WHERE id = ANY(%s) AND priority IS DISTINCT FROM '3'
               AND lead_tier IS DISTINCT FROM 'hot'
         RETURNING id""", [lead_ids])
        raised = [row[0] for row in self.env.cr.fetchall()]
        if raised:
            self.env["crm.lead"].browse(raised).invalidate_recordset(["priority"])

    @api.depends("lead_budget", "company_id.lead_budget_fit_min")
    def _compute_lead_budget_fit(self):
        for lead in self:
            minimum = (lead.company_id or self.env.company).lead_budget_fit_min
            lead.lead_budget_fit = bool(minimum) and lead.lead_budget >= minimum

    def _search_lead_budget_fit(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("'Budget Fits' can only be searched as true or false."))
        companies = self.env["res.company"].sudo().search([("lead_budget_fit_min", ">", 0)])
        fits = expression.OR([
            [("company_id", "=", company.id), ("lead_budget", ">=", company.lead_budget_fit_min)]
            for company in companies
        ]) if companies else expression.FALSE_DOMAIN
        if (operator == "=") == value:
            return fits
        return ["!"] + expression.normalize_domain(fits)

    @api.model
    @tools.ormcache()
    def _lead_scoring_rule_fields(self):
        rules = self.env["lead.scoring.rule"].sudo().search([])
        return frozenset(rules._read_fields())

    def write(self, vals):
        res = super().write(vals)
        # a custom rule may read a field outside the static triggers
        extra = (set(vals) & self._lead_scoring_rule_fields()) - set(SCORE_TRIGGERS)
        if extra:
            self._lead_scoring_mark_to_compute()
        return res

    def _lead_scoring_mark_to_compute(self):
        for fname in SCORE_FIELDS:
            self.env.add_to_compute(self._fields[fname], self)

    def action_lead_rescore(self):
        """Recompute the score of these leads now."""
        self._lead_scoring_mark_to_compute()
        self.flush_recordset(list(SCORE_FIELDS))
        return True

    # ------------------------------------------------------------------
    # Rescoring of all open leads after a rule or threshold change
    # ------------------------------------------------------------------
    @api.model
    def _lead_scoring_request_rescore(self):
        self.env["ir.config_parameter"].sudo().set_param(
            "lead_scoring.rescore_after", fields.Datetime.to_string(fields.Datetime.now()))
        cron = self.env.ref("lead_scoring.ir_cron_lead_rescore", raise_if_not_found=False)
        if cron:
            cron._trigger()

    @api.model
    def _lead_scoring_rescore_domain(self):
        since = self.env["ir.config_parameter"].sudo().get_param("lead_scoring.rescore_after")
        if not since:
            return None
        return [
            ("active", "=", True), ("probability", "<", 100),
            "|", ("lead_score_date", "=", False), ("lead_score_date", "<=", since),
        ]

    @api.model
    def _cron_lead_scoring_rescore(self, batch_size=1000):
        domain = self._lead_scoring_rescore_domain()
        if domain is None:
            return
        Lead = self.sudo().with_context(active_test=False, tracking_disable=True)
        leads = Lead.search(domain, limit=batch_size, order="id")
        leads.action_lead_rescore()
        remaining = Lead.search_count(domain) if len(leads) == batch_size else 0
        self.env["ir.cron"]._notify_progress(done=len(leads), remaining=remaining)
        if not remaining:
            self.env["ir.config_parameter"].sudo().set_param("lead_scoring.rescore_after", False)

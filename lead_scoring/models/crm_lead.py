
import json
from collections import defaultdict

from markupsafe import Markup

from odoo import _, api, fields, models, tools
from odoo.tools import SQL, formatLang
from odoo.exceptions import UserError
from odoo.osv import expression

from ..core.scoring import score_leads, tier_for
from ..core.signal_fill import merge_signals, signals_to_fill
from ..core.signals import BUDGET, COMPETITOR, DECISION_MAKER, MEETING, TIMELINE, read_signals
from ..vocabulary import OPEN_LEAD_DOMAIN, TIER_SELECTION, TIMELINE_SELECTION

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
# the qualification field each signal read from a message fills
SIGNAL_FIELDS = {
    BUDGET: "lead_budget", TIMELINE: "lead_timeline", MEETING: "lead_meeting_requested",
    COMPETITOR: "lead_used_competitor", DECISION_MAKER: "lead_is_decision_maker",
}
SIGNAL_NOTE_ORDER = (BUDGET, MEETING, TIMELINE, COMPETITOR, DECISION_MAKER)


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
        TIMELINE_SELECTION, string="Timeline", default="unknown", required=True, tracking=True,
        help="When the customer intends to buy.")
    lead_is_decision_maker = fields.Boolean(string="Decision Maker")
    lead_meeting_requested = fields.Boolean(
        string="Meeting Requested", help="A meeting, demo or viewing was requested.")
    lead_used_competitor = fields.Boolean(
        string="Used a Competitor", help="The customer worked with a competitor before.")
    lead_inbound_count = fields.Integer(
        string="Inbound Messages", default=0, copy=False,
        help="Messages the customer sent us on any channel.")
    lead_signal_fields = fields.Char(
        string="Read from Messages", copy=False, readonly=True,
        help="Qualification fields filled from the customer's messages, with the value read "
        "(JSON). A field whose value differs from the one read was set by an agent.")
    lead_budget_fit = fields.Boolean(
        string="Budget Fits", compute="_compute_lead_budget_fit",
        search="_search_lead_budget_fit",
        help="The stated budget reaches the company's minimum fitting budget.")

    # ------------------------------------------------------------------
    # Open leads: the one definition every addon of the suite uses
    # ------------------------------------------------------------------
    @api.model
    def _lead_open_domain(self):
        """Active leads neither won nor lost (see ``vocabulary.OPEN_LEAD_DOMAIN``)."""
        return list(OPEN_LEAD_DOMAIN)

    def _lead_filter_open(self):
        """The open leads of these records, without a query."""
        return self.filtered(lambda lead: lead.active and (lead.probability or 0) < 100)

    # ------------------------------------------------------------------
    # Views
    # ------------------------------------------------------------------
    @api.model
    def _get_view(self, view_id=None, view_type="form", **options):
        """One ``<header>`` per kanban and list of leads.

        The web client shows the buttons of a kanban's or list's LAST header
        only, and several addons add one (crm_iap_mine's "Generate Leads", the
        suite's "Quick Capture" and "Away / Back"): their buttons are gathered
        into the first header, so every addon can simply add its own.
        """
        arch, view = super()._get_view(view_id, view_type, **options)
        if view_type in ("kanban", "list"):
            headers = arch.xpath("/%s/header" % view_type)
            for header in headers[1:]:
                headers[0].extend(list(header))
                header.getparent().remove(header)
        return arch, view

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
                matches.append((rule, set(Lead.search(domain, order="id").ids)))
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
        results = score_leads(self._ids, [by_key[r.id] for r in rules if r.id in by_key])
        for lead in self:
            result = results[lead.id]
            company = lead.company_id or self.env.company
            lead.lead_score = result.score
            lead.lead_tier = tier_for(
                result.score, company.lead_hot_threshold, company.lead_warm_threshold)
            lead.lead_score_detail = result.detail()
            lead.lead_score_date = now

    def _lead_scoring_raise_priority(self, old_tiers):
        """Give the leads that just became hot the highest priority (3 stars).

        Only a lead *becoming* hot is raised: a salesperson who lowers the stars
        of a hot lead is not overruled at every rescoring.
        """
        raised = self.filtered(lambda l: l.lead_tier == "hot" and old_tiers.get(l.id) != "hot"
                               and l.priority != "3")
        if raised:
            raised.write({"priority": "3"})

    @api.depends("lead_budget", "company_id.lead_budget_fit_min")
    def _compute_lead_budget_fit(self):
        for lead in self:
            minimum = (lead.company_id or self.env.company).lead_budget_fit_min
            lead.lead_budget_fit = bool(minimum) and lead.lead_budget >= minimum

    def _search_lead_budget_fit(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(_("'Budget Fits' can only be searched as true or false."))
        companies = self.env["res.company"].sudo().search([("lead_budget_fit_min", ">", 0)])
        branches = [
            [("company_id", "=", company.id), ("lead_budget", ">=", company.lead_budget_fit_min)]
            for company in companies
        ]
        # a lead without a company is measured against the current company,
        # as _compute_lead_budget_fit does
        default_min = self.env.company.lead_budget_fit_min
        if default_min:
            branches.append([("company_id", "=", False), ("lead_budget", ">=", default_min)])
        fits = expression.OR(branches) if branches else expression.FALSE_DOMAIN
        if (operator == "=") == value:
            return fits
        return ["!"] + expression.normalize_domain(fits)

    @api.model
    @tools.ormcache()
    def _lead_scoring_rule_fields(self):
        rules = self.env["lead.scoring.rule"].sudo().search([])
        return frozenset(rules._read_fields())

    @api.model_create_multi
    def create(self, vals_list):
        leads = super().create(vals_list)
        leads._lead_scoring_raise_priority({})
        return leads

    def write(self, vals):
        rule_fields = set(vals) & self._lead_scoring_rule_fields()
        if not rule_fields or "priority" in vals:
            return super().write(vals)
        old_tiers = {lead.id: lead.lead_tier for lead in self}
        res = super().write(vals)
        # a custom rule may read a field outside the static triggers
        if rule_fields - set(SCORE_TRIGGERS):
            self._lead_scoring_mark_to_compute()
        self._lead_scoring_raise_priority(old_tiers)
        return res

    def _lead_scoring_mark_to_compute(self):
        for fname in SCORE_FIELDS:
            self.env.add_to_compute(self._fields[fname], self)

    def action_lead_rescore(self):
        """Recompute the score of these leads now."""
        old_tiers = dict(self.env.execute_query(SQL(
            "SELECT id, lead_tier FROM crm_lead WHERE id = ANY(%s)", self.ids))) if self else {}
        self._lead_scoring_mark_to_compute()
        self.flush_recordset(list(SCORE_FIELDS))
        self._lead_scoring_raise_priority(old_tiers)
        return True

    # ------------------------------------------------------------------
    # Rescoring of all open leads after a rule or threshold change
    # ------------------------------------------------------------------
    @api.model
    def _lead_scoring_request_rescore(self):
        """Rescore every lead soon: (re)start the cron's walk from the first id,
        open leads first, then the closed ones (Scoring Health compares their
        scores, so they must follow the rules too)."""
        ICP = self.env["ir.config_parameter"].sudo()
        ICP.set_param("lead_scoring.rescore_from_id", "0")
        ICP.set_param("lead_scoring.rescore_closed_from_id", "0")
        cron = self.env.ref("lead_scoring.ir_cron_lead_rescore", raise_if_not_found=False)
        if cron:
            cron._trigger()

    @api.model
    def _lead_scoring_rescore_closed_once(self):
        """Score the closed leads once (install and upgrade, from data): those
        closed before the module kept score 0. Idempotent."""
        ICP = self.env["ir.config_parameter"].sudo()
        if ICP.get_param("lead_scoring.closed_scored"):
            return
        ICP.set_param("lead_scoring.closed_scored", "1")
        ICP.set_param("lead_scoring.rescore_closed_from_id", "0")
        cron = self.env.ref("lead_scoring.ir_cron_lead_rescore", raise_if_not_found=False)
        if cron:
            cron._trigger()

    @api.model
    def _cron_lead_scoring_rescore(self, batch_size=1000):
        """Rescore leads by batches of ids, reporting progress to the cron.

        Two walks with their own cursor: the open leads (what agents work on,
        first), then the closed leads, one batch per call.
        """
        ICP = self.env["ir.config_parameter"].sudo()
        open_domain = self._lead_open_domain()
        closed_domain = ["!"] + expression.normalize_domain(open_domain)
        walks = (("lead_scoring.rescore_from_id", open_domain),
                 ("lead_scoring.rescore_closed_from_id", closed_domain))
        Lead = self.sudo().with_context(active_test=False, tracking_disable=True)
        for index, (param, domain) in enumerate(walks):
            cursor = ICP.get_param(param)
            if not cursor:
                continue
            leads = Lead.search(domain + [("id", ">", int(cursor))], limit=batch_size, order="id")
            if index == 0:
                leads.action_lead_rescore()
            else:
                # closed leads: new scores only, no stars raised on them
                leads._lead_scoring_mark_to_compute()
                leads.flush_recordset(list(SCORE_FIELDS))
            remaining = 0
            if len(leads) == batch_size:
                remaining = Lead.search_count(domain + [("id", ">", leads[-1].id)])
            ICP.set_param(param, str(leads[-1].id) if remaining else False)
            if index == 0 and ICP.get_param(walks[1][0]):
                remaining += Lead.search_count(closed_domain + [("id", ">", int(ICP.get_param(walks[1][0])))])
            self.env["ir.cron"]._notify_progress(done=len(leads), remaining=remaining)
            return

    # ------------------------------------------------------------------
    # Signals read from the customer's messages
    # ------------------------------------------------------------------
    def _lead_signals_read(self):
        """{field: value} of the fields filled from messages that still hold
        the value read: the others were set or corrected by an agent since."""
        self.ensure_one()
        try:
            read = json.loads(self.lead_signal_fields or "{}")
        except ValueError:
            return {}
        return {name: value for name, value in read.items()
                if name in self._fields and self[name] == value}

    def _lead_read_message_signals(self, messages):
        """The signals found in a lead's new messages (oldest first)."""
        currency = (self.company_id or self.env.company).currency_id.name
        return merge_signals(
            read_signals(message._lead_signal_text(), currency,
                         message.date.date() if message.date else None)
            for message in messages)

    def _lead_apply_message_signals(self, messages_by_lead):
        """Fill the empty qualification fields of these leads from the buying
        signals of their new customer messages ``{lead id: messages}``, with one
        write per distinct set of values and one chatter note per lead."""
        founds = {}
        for lead in self:
            if (lead.company_id or self.env.company).lead_read_signals:
                found = lead._lead_read_message_signals(messages_by_lead[lead.id])
                if found:
                    founds[lead] = found
        # openness last: it reads the probability, which a lead created in
        # this transaction would compute now and again after its routing
        fills = {}
        for lead in self.browse([lead.id for lead in founds])._lead_filter_open():
            found = founds[lead]
            read = lead._lead_signals_read()
            read_kinds = {kind for kind, name in SIGNAL_FIELDS.items() if name in read}
            current = {kind: lead[name] for kind, name in SIGNAL_FIELDS.items()}
            fill = signals_to_fill(current, read_kinds, found)
            if fill:
                read.update({SIGNAL_FIELDS[kind]: signal.value for kind, signal in fill.items()})
                fills[lead] = (fill, read)
        if not fills:
            return
        groups = defaultdict(list)
        for lead, (fill, read) in fills.items():
            vals = {SIGNAL_FIELDS[kind]: signal.value for kind, signal in fill.items()}
            vals["lead_signal_fields"] = json.dumps(read, sort_keys=True)
            groups[tuple(sorted(vals.items()))].append(lead.id)
        # the note below says what was read: no tracking message besides it
        Lead = self.with_context(mail_notrack=True)
        for vals, ids in groups.items():
            Lead.browse(ids).write(dict(vals))
        self.browse([lead.id for lead in fills])._message_log_batch(
            bodies={lead.id: lead._lead_signals_note(fill) for lead, (fill, _names) in fills.items()},
            author_id=self.env.ref("base.partner_root").id)

    def _lead_signals_note(self, fill):
        """The chatter note telling what was read, in which words."""
        self.ensure_one()
        timelines = dict(self._fields["lead_timeline"]._description_selection(self.env))
        parts = []
        for kind in SIGNAL_NOTE_ORDER:
            signal = fill.get(kind)
            if not signal:
                continue
            if kind == BUDGET:
                what = _("budget %s", self._lead_format_amount(signal.value))
            elif kind == MEETING:
                what = _("viewing requested")
            elif kind == TIMELINE:
                what = _("timeline: %s", timelines[signal.value].lower())
            elif kind == COMPETITOR:
                what = _("has worked with another agent")
            else:
                what = _("decision maker")
            parts.append("%s ('%s')" % (what, signal.phrase))
        return Markup("<p>%s</p>") % _("Read from the customer's message: %s", "; ".join(parts))

    def _lead_format_amount(self, amount):
        """RM 800,000: the company currency, without cents."""
        currency = (self.company_id or self.env.company).currency_id
        number = formatLang(self.env, amount, digits=0)
        if currency.position == "after":
            return "%s %s" % (number, currency.symbol)
        return "%s %s" % (currency.symbol, number)

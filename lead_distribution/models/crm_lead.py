from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError
from odoo.tools.sql import create_index

from ..core.territory import match_territory

# the fields whose change can change who an open lead counts for (owner,
# archived, won through its stage or probability): see lead.distribution.open.count
OPEN_COUNT_FIELDS = frozenset(("user_id", "active", "stage_id", "probability"))


class CrmLead(models.Model):
    _inherit = "crm.lead"

    lead_skill_ids = fields.Many2many(
        "lead.skill", "crm_lead_lead_skill_rel", "lead_id", "skill_id", string="Required Skills",
        help="Skills the salesperson needs for this lead, e.g. Mandarin.")
    lead_territory_id = fields.Many2one(
        "lead.territory", string="Territory", compute="_compute_lead_territory_id",
        store=True, readonly=False, index="btree_not_null",
        help="Computed from country, state, postcode and city; editable.")
    lead_routing_pending = fields.Boolean(
        string="Waiting for Routing", copy=False, readonly=True, index="btree_not_null",
        help="A routing rule matched but nobody was available: the backlog job "
        "routes it as soon as someone is.")
    lead_assignment_log_ids = fields.One2many(
        "lead.assignment.log", "lead_id", string="Assignment History", readonly=True)

    def init(self):
        super().init()
        # routing counts the open leads of a pool's agents (least loaded, caps):
        # partial, so the count reads those agents' open leads only, never the
        # closed bulk of an old database (the ORM cannot declare a partial index)
        create_index(self.env.cr, "crm_lead_open_user_id_index", self._table, ["user_id"],
                     where="active AND (probability IS NULL OR probability < 100)")

    @api.depends("country_id", "state_id", "zip", "city", "company_id")
    def _compute_lead_territory_id(self):
        territories = self.env["lead.territory"]._lead_distribution_territories()
        if not territories:  # no territory defined: nothing to do, no query
            return
        for lead in self:
            lead.lead_territory_id = match_territory(
                territories, lead.country_id.id or 0, lead.state_id.id or 0,
                lead.zip or "", lead.city or "", lead.company_id.id or 0) or False

    # ------------------------------------------------------------------
    # Configuration (ormcached: zero queries on create when nothing to do)
    # ------------------------------------------------------------------
    @api.model
    @tools.ormcache("company_id")
    def _lead_distribution_config(self, company_id):
        """(instant routing enabled, active rule ids in order, team fallback on)
        of a company."""
        company = self.env["res.company"].sudo().browse(company_id)
        rules = self.env["lead.routing.rule"].sudo().search([("company_id", "=", company_id)])
        return (bool(company.lead_distribution_instant), tuple(rules.ids),
                company.lead_distribution_fallback == "team")

    def _lead_distribution_routable(self):
        """The leads of ``self`` instant routing concerns: their company has
        instant routing and a rule, or shares leads in the team (no owner yet)."""
        def routable(lead):
            instant, rule_ids, team = self._lead_distribution_config((lead.company_id or self.env.company).id)
            return instant and (rule_ids or (team and lead.team_id and not lead.user_id))
        return self.filtered(routable)

    # ------------------------------------------------------------------
    # Create / write
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        """New leads without a chosen salesperson are routed (same transaction).

        A lead that no rule matches goes to its sales team's pool (company
        fallback "team") when it ends up without salesperson, unless the
        creator wrote ``user_id: False`` on purpose (e.g. Odoo's own lead
        assignment, an import saying "nobody").
        """
        explicit = bool(self.env.context.get("default_user_id"))
        to_route = [not explicit and not vals.get("user_id") for vals in vals_list]
        in_team = [flag and "user_id" not in vals for vals, flag in zip(vals_list, to_route)]
        at_commit = self.env.context.get("lead_distribution_route_at_commit")
        if any(to_route) and not self.env.context.get("lead_distribution_no_route"):
            default_company = self.env.company.id
            for vals, flag in zip(vals_list, to_route):
                if not flag:
                    continue
                instant, rule_ids, _team = self._lead_distribution_config(
                    vals.get("company_id") or default_company)
                if rule_ids and not instant:
                    # instant routing off: the lead waits, unassigned, for the backlog job
                    vals.update(user_id=False, lead_routing_pending=True)
                elif rule_ids and at_commit:
                    vals["user_id"] = False  # not the creator meanwhile: nobody until routed
        leads = super().create(vals_list)
        self.env["lead.distribution.open.count"]._note_new_leads(leads)
        if any(to_route) and not self.env.context.get("lead_distribution_no_route"):
            candidates = self.browse([lead.id for lead, flag in zip(leads, to_route) if flag])
            team_ids = {lead.id for lead, flag in zip(leads, in_team) if flag}
            routable = candidates._lead_distribution_routable()
            if routable:
                if at_commit:
                    routable._lead_distribution_route_at_commit()
                else:
                    routable.with_context(lead_distribution_creating=True)._lead_distribution_route(
                        kind="auto", team_fallback_ids=team_ids)
        return leads

    def _lead_distribution_route_at_commit(self):
        """Route these new leads when their transaction commits, still inside it.

        For bulk creators that do more work after ``create()`` (the inbox job
        posts the customers' messages): the rules' row locks are then held for
        the routing and the commit only, so two workers capturing leads at
        once wait for each other much less. Context key of ``create()``:
        ``lead_distribution_route_at_commit``.
        """
        data = self.env.cr.precommit.data
        pending = data.get("lead_distribution.route_at_commit")
        if pending is None:
            pending = data["lead_distribution.route_at_commit"] = []
            self.env.cr.precommit.add(self._lead_distribution_route_pending)
        pending.extend(self.ids)

    def _lead_distribution_route_pending(self):
        lead_ids = self.env.cr.precommit.data.pop("lead_distribution.route_at_commit", [])
        # still unassigned: one may have been deleted or given an owner since
        leads = self.browse(lead_ids).exists().filtered(lambda lead: not lead.user_id)
        if leads:
            leads.with_context(lead_distribution_creating=True,
                               lead_distribution_route_at_commit=False)._lead_distribution_route(
                kind="auto", team_fallback_ids=set(leads.ids))
            self.env.flush_all()  # precommit hooks run after the ORM's last flush

    def onchange(self, values, field_names, fields_spec):
        """New lead form: no salesperson pre-filled when the rules will route it.

        The form would otherwise send the default salesperson (the creator) as
        an explicit choice and a lead typed in by hand would never be routed.
        Only the form's first onchange is concerned; the ORM default is kept.
        """
        given = values.get("user_id")  # read first: super() adds the defaults to values
        result = super().onchange(values, field_names, fields_spec)
        value = result.get("value") or {}
        if not field_names and value.get("user_id") and not given \
                and not self.env.context.get("default_user_id"):
            instant, rule_ids, _team = self._lead_distribution_config(self.env.company.id)
            if instant and rule_ids and self._lead_distribution_form_routed(rule_ids, values, value):
                value["user_id"] = False
        return result

    def _lead_distribution_form_routed(self, rule_ids, values, value):
        """Whether a rule matches the new lead as the form shows it: an
        opportunity created in one's own pipeline that no rule concerns (rules
        of other teams) stays with its creator, as in Odoo."""
        shown = {}
        for name, val in dict(values, **value).items():
            field = self._fields.get(name)
            if not field or field.type in ("one2many", "many2many"):
                continue
            shown[name] = val.get("id") if isinstance(val, dict) else val
        lead = self.new(shown)
        rules = self.env["lead.routing.rule"].sudo().browse(rule_ids)
        return any(lead.filtered_domain(rule._get_domain()) for rule in rules)

    def write(self, vals):
        if not self.env.su and not self.env.context.get("lead_distribution_routing"):
            self._lead_distribution_check_owner(vals)
        if not OPEN_COUNT_FIELDS.isdisjoint(vals):  # other writes: nothing to remember, no query
            self.env["lead.distribution.open.count"]._note_changing_leads(self)
        return super().write(vals)

    def unlink(self):
        Counts = self.env["lead.distribution.open.count"]
        owners = Counts._owners_counted_before(self)
        result = super().unlink()
        Counts._note_deleted_leads(owners)
        return result

    def _check_company(self, fnames=None):
        """Routing writes one (salesperson, team) on many leads: check each
        distinct (lead company, values) once instead of every lead.

        Same verdict as the ORM's per-record check, which is a function of
        the lead's company and the linked records only.
        """
        if self.env.context.get("lead_distribution_check_later"):
            return None  # routing batch: checked once after all its writes
        if len(self) < 2 or not self.env.context.get("lead_distribution_routing"):
            return super()._check_company(fnames)
        names = self._fields if fnames is None or {"company_id", "company_ids"} & set(fnames) else fnames
        checked = [name for name in names
                   if self._fields[name].relational and self._fields[name].check_company]
        if not checked:
            return None
        representatives = {}
        for lead in self.sudo():
            key = tuple(lead[name]._ids for name in ["company_id"] + checked)
            representatives.setdefault(key, lead.id)
        return super(CrmLead, self.browse(list(representatives.values())))._check_company(fnames)

    def _lead_distribution_ids(self, fname):
        """Ids of many2one ``fname`` of the leads of ``self``, in order (0 for none)."""
        return [lead[fname].id or 0 for lead in self]

    def _lead_distribution_check_owner(self, vals):
        """A salesperson cannot take or edit a lead owned by someone else.

        Salespeople limited to their own documents are already stopped by
        crm's record rule; this covers "all documents" salespeople, who may
        read every lead but only edit their own or unassigned ones.  Managers
        reassign.  Costs no query for managers (has_group is cached).
        """
        user = self.env.user
        if user._is_public() or user.has_group("sales_team.group_sale_manager") \
                or not user.has_group("sales_team.group_sale_salesman"):
            return
        others = self.filtered(lambda l: l.user_id and l.user_id != user)
        new_owner = vals.get("user_id")
        if not others and new_owner and new_owner != user.id and self.filtered("user_id"):
            raise AccessError(_("Only sales managers can give a lead to another salesperson."))
        if others:
            raise AccessError(_(
                "Only sales managers can edit or reassign leads owned by someone else "
                "(%(leads)s owned by %(owners)s).",
                leads=", ".join(others[:3].mapped("name")),
                owners=", ".join(others.user_id.mapped("name"))))

    # ------------------------------------------------------------------
    # Routing (public contract used by lead_sla and the wizards)
    # ------------------------------------------------------------------

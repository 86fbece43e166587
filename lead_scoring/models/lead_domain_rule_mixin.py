from ast import literal_eval

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression

from ..core.scoring import fields_of_domain


class LeadDomainRuleMixin(models.AbstractModel):
    """A configuration record that applies to the leads matching a filter.

    Scoring rules, routing rules, SLA policies and nurture sequences all read
    their ``domain`` the same way and refuse an invalid one with the same
    message, naming the condition that is wrong. They are read on the lead
    hot paths, so they are cached like any ``lead.cached.config.mixin``.
    """
    _name = "lead.domain.rule.mixin"
    _inherit = ["lead.cached.config.mixin"]
    _description = "Lead rule applying to a filter of leads"

    domain = fields.Char(
        string="Applies to", required=True, default="[]",
        help="Leads matching this filter are concerned by the rule.")

    def _lead_rule_kind(self):
        """How users call this kind of record, in error messages."""
        return self._description

    def _get_domain(self):
        self.ensure_one()
        return literal_eval(self.domain or "[]")

    def _read_fields(self):
        """Lead fields the given rules read (first element of each path)."""
        names = set()
        for rule in self:
            try:
                names |= fields_of_domain(rule._get_domain())
            except (ValueError, SyntaxError):
                continue
        return names

    @api.constrains("domain")
    def _check_domain(self):
        for rule in self:
            error = self._lead_domain_error(rule.domain)
            if error:
                raise ValidationError(_(
                    "The filter of the %(kind)s '%(rule)s' is invalid: %(error)s. "
                    "Edit the filter with the domain editor.",
                    kind=rule._lead_rule_kind(), rule=rule.display_name, error=error))

    @api.model
    def _lead_domain_error(self, text):
        """None when ``text`` is a valid filter of leads, else what is wrong,
        naming the first condition Odoo cannot apply."""
        try:
            domain = literal_eval(text or "[]")
        except (ValueError, SyntaxError):
            return _("'%s' is not a list of conditions", text)
        if not isinstance(domain, (list, tuple)):
            return _("'%s' is not a list of conditions", text)
        Lead = self.env["crm.lead"].with_context(active_test=False)
        for part in domain:
            if part in ("&", "|", "!"):
                continue
            if not (isinstance(part, (list, tuple)) and len(part) == 3):
                return _("%s is not a condition (field, operator, value)", repr(part))
            try:
                # compiling the query checks the field path, operator and value
                Lead._search([tuple(part)], limit=1)
            except (ValueError, TypeError, KeyError, AssertionError) as e:
                return _("the condition %(part)s: %(error)s", part=repr(part), error=e)
        try:
            Lead._search(expression.normalize_domain(list(domain)), limit=1)
        except (ValueError, TypeError, KeyError, AssertionError) as e:
            return _("the operators do not combine the conditions: %s", e)
        return None

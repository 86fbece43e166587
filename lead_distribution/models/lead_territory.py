from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError

from ..core.territory import Territory, split_list


class LeadTerritory(models.Model):
    _name = "lead.territory"
    _description = "Lead Routing Territory"
    _inherit = ["lead.cached.config.mixin"]
    _order = "name"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", help="Leave empty to share between companies.")
    country_id = fields.Many2one("res.country")
    state_ids = fields.Many2many("res.country.state", string="States")
    zip_prefixes = fields.Char(
        string="Postcode Prefixes", help="Comma-separated postcode prefixes, e.g. 75, 92, 93.")
    city_names = fields.Char(string="Cities", help="Comma-separated city names.")

    @api.constrains("name", "country_id", "state_ids", "zip_prefixes", "city_names")
    def _check_criteria(self):
        for territory in self:
            if not (territory.country_id or territory.state_ids
                    or split_list(territory.zip_prefixes) or split_list(territory.city_names)):
                raise ValidationError(_(
                    "Territory '%s' needs at least a country, a state, a postcode prefix or a city.",
                    territory.name))
            if territory.country_id and territory.state_ids.filtered(
                    lambda s: s.country_id != territory.country_id):
                raise ValidationError(_(
                    "The states of territory '%s' must belong to its country.", territory.name))

    @api.model
    @tools.ormcache()
    def _lead_distribution_territories(self):
        """All active territories as plain tuples (cleared on any change)."""
        return tuple(
            Territory(
                id=t.id, country_id=t.country_id.id or 0,
                state_ids=frozenset(t.state_ids.ids),
                zip_prefixes=split_list(t.zip_prefixes),
                city_names=split_list(t.city_names),
                company_id=t.company_id.id or 0)
            for t in self.sudo().search([]))



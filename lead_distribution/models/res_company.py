from odoo import fields, models

FALLBACKS = [
    ("next_rule", "Try the next rule"),
    ("user", "Give to a fallback salesperson"),
    ("unassigned", "Leave in the team, unassigned"),
]


class ResCompany(models.Model):
    _inherit = "res.company"

    lead_distribution_instant = fields.Boolean(
        string="Instant Lead Routing", default=True,
        help="Route new leads through the routing rules as soon as they are created.")
    lead_distribution_fallback = fields.Selection(
        FALLBACKS, string="Default Routing Fallback", default="unassigned", required=True,
        help="Fallback proposed for new routing rules when nobody in the pool is available.")

    def write(self, vals):
        res = super().write(vals)
        if "lead_distribution_instant" in vals:
            self.env.registry.clear_cache()  # the routing configuration is ormcached
        return res

from odoo import api, fields, models

from ..vocabulary import COMPANY_FALLBACK_SELECTION


class ResCompany(models.Model):
    _inherit = "res.company"

    lead_distribution_instant = fields.Boolean(
        string="Instant Lead Routing", default=True,
        help="Route new leads through the routing rules as soon as they are created.")
    lead_distribution_fallback = fields.Selection(
        COMPANY_FALLBACK_SELECTION, string="Default Routing Fallback", default="team", required=True,
        help="Fallback proposed for new routing rules when nobody in the pool is available. "
        "\"Share among the lead's sales team\": a new lead without salesperson that no rule "
        "matches is shared by round robin among the available members of its sales team.")

    def write(self, vals):
        res = super().write(vals)
        if {"lead_distribution_instant", "lead_distribution_fallback"} & set(vals):
            self.env.registry.clear_cache()  # the routing configuration is ormcached
        return res

    @api.model
    def _lead_distribution_share_in_team_by_default(self):
        """Make "Share among the lead's sales team" the fallback of the companies
        that kept the former default, once (called from data on install and
        update; a system parameter remembers it ran, so an admin's later
        choice of "Leave unassigned" is kept)."""
        ICP = self.env["ir.config_parameter"].sudo()
        if ICP.get_param("lead_distribution.team_fallback_default"):
            return
        self.sudo().with_context(active_test=False).search(
            [("lead_distribution_fallback", "=", "unassigned")]).lead_distribution_fallback = "team"
        ICP.set_param("lead_distribution.team_fallback_default", "1")

from odoo import _, api, fields, models
from odoo.exceptions import ValidationError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lead_distribution_instant = fields.Boolean(
        related="company_id.lead_distribution_instant", readonly=False)
    lead_distribution_fallback = fields.Selection(
        related="company_id.lead_distribution_fallback", readonly=False)
    lead_distribution_backlog_interval = fields.Integer(
        string="Backlog Routing Every (minutes)",
        compute="_compute_lead_distribution_backlog_interval",
        inverse="_inverse_lead_distribution_backlog_interval", readonly=False)

    def _lead_distribution_cron(self):
        return self.env.ref("lead_distribution.ir_cron_route_backlog", raise_if_not_found=False)

    @api.depends("company_id")
    def _compute_lead_distribution_backlog_interval(self):
        cron = self._lead_distribution_cron()
        minutes = 0
        if cron:
            factor = {"minutes": 1, "hours": 60, "days": 1440, "weeks": 10080, "months": 43200}
            minutes = cron.sudo().interval_number * factor.get(cron.sudo().interval_type, 1)
        for settings in self:
            settings.lead_distribution_backlog_interval = minutes

    def _inverse_lead_distribution_backlog_interval(self):
        cron = self._lead_distribution_cron()
        for settings in self:
            minutes = settings.lead_distribution_backlog_interval
            if minutes < 1 or minutes > 1440:
                raise ValidationError(_(
                    "The backlog routing interval must be between 1 and 1440 minutes (got %s).", minutes))
            if cron:
                cron.sudo().write({"interval_number": minutes, "interval_type": "minutes"})

    def action_lead_routing_rules(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "lead_distribution.lead_routing_rule_action")

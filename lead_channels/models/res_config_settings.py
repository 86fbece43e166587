from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lead_channel_team_id = fields.Many2one(
        related="company_id.lead_channel_team_id", readonly=False)
    lead_channel_retention_days = fields.Integer(
        related="company_id.lead_channel_retention_days", readonly=False)
    lead_channel_count = fields.Integer(compute="_compute_lead_channel_count")

    def _compute_lead_channel_count(self):
        count = self.env["lead.channel"].search_count([])
        for settings in self:
            settings.lead_channel_count = count

    def action_lead_channels(self):
        return self.env["ir.actions.act_window"]._for_xml_id("lead_channels.lead_channel_action")

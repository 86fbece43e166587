from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    lead_channel_team_id = fields.Many2one(
        "crm.team", string="Default Team for Channels",
        help="Sales team of leads created by a channel that has no team of its own.")
    lead_channel_retention_days = fields.Integer(
        string="Inbox Retention (days)", default=90,
        help="Processed inbox events older than this are purged; failed events are kept.")

from odoo import _, api, fields, models

from ..vocabulary import MANUAL_TYPES


class ResCompany(models.Model):
    _inherit = "res.company"

    lead_channel_team_id = fields.Many2one(
        "crm.team", string="Default Team for Channels",
        help="Sales team of leads created by a channel that has no team of its own.")
    lead_channel_retention_days = fields.Integer(
        string="Inbox Retention (days)", default=90,
        help="Processed inbox events older than this are purged; failed events are kept.")

    @api.model_create_multi
    def create(self, vals_list):
        companies = super().create(vals_list)
        companies._lead_channels_create_manual_channels()
        return companies

    @api.model
    def _lead_channels_create_manual_channels(self):
        """Give every company (or these) its manual channels Walk-in, Phone call
        and Referral, so Quick Capture works at once. Idempotent: a company
        that has a channel of a type (even archived) keeps it; runs on install
        and on every update of the module (data XML), and for new companies."""
        companies = self or self.sudo().search([])
        Channel = self.env["lead.channel"].sudo().with_context(active_test=False)
        existing = {(channel.company_id.id, channel.channel_type) for channel in Channel.search_fetch(
            [("company_id", "in", companies.ids), ("channel_type", "in", MANUAL_TYPES)],
            ["company_id", "channel_type"])}
        names = {"walk_in": _("Walk-in"), "phone": _("Phone call"), "referral": _("Referral")}
        vals_list = [{"name": names[channel_type], "channel_type": channel_type, "company_id": company.id,
                      "sequence": 50 + index}
                     for company in companies for index, channel_type in enumerate(MANUAL_TYPES)
                     if (company.id, channel_type) not in existing]
        channels = Channel.create(vals_list)
        main = self.env.ref("base.main_company", raise_if_not_found=False)
        self.env["ir.model.data"]._update_xmlids([
            {"xml_id": "lead_channels.lead_channel_%s" % channel.channel_type, "record": channel, "noupdate": True}
            for channel in channels if channel.company_id == main])
        return channels

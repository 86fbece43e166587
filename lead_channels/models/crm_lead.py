from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools.sql import create_index
from odoo.exceptions import UserError

from ..vocabulary import CHANNEL_ICONS

WA_WINDOW = timedelta(hours=24)


class CrmLead(models.Model):
    _inherit = "crm.lead"

    channel_id = fields.Many2one("lead.channel", string="Channel", index="btree_not_null",
                                 ondelete="restrict", tracking=True, copy=False)
    channel_type = fields.Selection(related="channel_id.channel_type", string="Channel Type")
    channel_contact_ref = fields.Char(
        string="Contact Ref", index="btree_not_null", copy=False,
        help="WhatsApp wa_id or business-scoped user id, Messenger PSID or Instagram IGSID.")
    wa_last_inbound_at = fields.Datetime(
        string="Last WhatsApp Message", copy=False,
        help="When the customer last wrote on WhatsApp: free replies are possible for 24 hours.")
    wa_window_open = fields.Boolean(compute="_compute_wa_window_open", string="WhatsApp Window Open")
    ad_id = fields.Char(string="Ad ID", copy=False)
    ad_headline = fields.Char(string="Ad Headline", copy=False)
    ad_source_url = fields.Char(string="Ad URL", copy=False)
    channel_listing_ref = fields.Char(string="Listing Ref", copy=False,
                                      help="Portal listing the customer enquired about.")
    lead_referred_by_id = fields.Many2one("res.partner", string="Referring Partner", index="btree_not_null",
                                          copy=False, help="Who referred this customer to us.")
    channel_event_count = fields.Integer(compute="_compute_channel_event_count", string="Deliveries")
    channel_icon = fields.Char(compute="_compute_channel_icon", help="Font Awesome icon of the channel.")
    channel_shared_contact_ids = fields.One2many(
        "lead.channel.shared.contact", "lead_id", string="Shared Contacts",
        help="Contacts the customer shared on WhatsApp: referrals in the making.")
    channel_referrals_pending = fields.Boolean(
        compute="_compute_channel_referrals_pending", string="Referrals to Create")

    @api.depends("channel_shared_contact_ids.referral_lead_id")
    def _compute_channel_referrals_pending(self):
        for lead in self:
            lead.channel_referrals_pending = any(
                not row.referral_lead_id for row in lead.channel_shared_contact_ids)

    def init(self):
        super().init()
        # a capture finds the sender's open lead by e-mail: Odoo's only index on
        # email_normalized is a trigram one, which an equality on a common domain
        # (@gmail.com) reads nearly whole; a partial btree over open leads stays
        # flat as the table grows (the ORM cannot declare a partial index)
        create_index(self.env.cr, "crm_lead_open_email_normalized_index", self._table, ["email_normalized"],
                     where="email_normalized IS NOT NULL AND active AND (probability IS NULL OR probability < 100)")

    @api.depends("channel_id.channel_type")
    def _compute_channel_icon(self):
        for lead in self:
            lead.channel_icon = CHANNEL_ICONS.get(lead.channel_id.channel_type, False)

    def _compute_wa_window_open(self):
        now = fields.Datetime.now()
        for lead in self:
            lead.wa_window_open = bool(lead.wa_last_inbound_at) and now - lead.wa_last_inbound_at < WA_WINDOW

    def _compute_channel_event_count(self):
        counts = {}
        if self.ids and self.env["lead.channel.event"].has_access("read"):
            groups = self.env["lead.channel.event"]._read_group(
                [("lead_id", "in", self.ids)], ["lead_id"], ["__count"])
            counts = {lead.id: count for lead, count in groups}
        for lead in self:
            lead.channel_event_count = counts.get(lead.id, 0)

    def _get_message_create_valid_field_names(self):
        # the WhatsApp id and status travel with the chatter message they belong to
        return super()._get_message_create_valid_field_names() | {"wa_message_id", "wa_state"}

    def _notify_get_recipients(self, message, msg_vals, **kwargs):
        recipients = super()._notify_get_recipients(message, msg_vals, **kwargs)
        if self.env.context.get("lead_channels_capture"):
            # an agent's Quick Capture note is for the team, never e-mailed to the customer
            recipients = [data for data in recipients if not data["share"]]
        return recipients

    def action_open_whatsapp_composer(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("WhatsApp"),
            "res_model": "lead.channel.whatsapp.composer",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_id": self.id},
        }

    def action_view_channel_events(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("lead_channels.lead_channel_event_action")
        action["domain"] = [("lead_id", "in", self.ids)]
        return action

    def action_create_referral_leads(self):
        """One click: a referral lead for each contact the customer shared on
        WhatsApp (Referral medium, referred by this customer), never twice."""
        rows = self.channel_shared_contact_ids.filtered(lambda row: not row.referral_lead_id)
        if not rows:
            raise UserError(_("No contact shared by this customer is waiting for a referral lead: "
                              "the contacts a customer shares on WhatsApp appear here."))
        created = rows._create_referral_leads().referral_lead_id
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "title": _("Referral leads"),
            "message": _("%(count)s referral lead(s) ready, referred by %(customer)s: %(names)s",
                         count=len(created), customer=self.partner_id[:1].display_name or "",
                         names=", ".join(created.mapped("display_name"))),
            # the form shows the new referral leads on the shared contacts at once
            "type": "success", "next": {"type": "ir.actions.client", "tag": "soft_reload"},
        }}

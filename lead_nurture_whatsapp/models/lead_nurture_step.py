from odoo import fields, models


class LeadNurtureStep(models.Model):
    _inherit = "lead.nurture.step"

    action = fields.Selection(
        selection_add=[("whatsapp", "WhatsApp template")],
        ondelete={"whatsapp": "cascade"},
        help="WhatsApp template: the re-engagement template approved for the lead's WhatsApp "
        "channel (set on the channel), sent from the lead's number.")

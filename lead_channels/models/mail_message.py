from odoo import fields, models

WA_STATES = [("received", "Received"), ("sent", "Sent"), ("delivered", "Delivered"),
             ("read", "Read"), ("failed", "Failed")]


class MailMessage(models.Model):
    _inherit = "mail.message"

    wa_message_id = fields.Char(
        string="WhatsApp Message ID", index="btree_not_null", copy=False, readonly=True,
        help="wamid of the WhatsApp message this chatter message received or sent.")
    wa_state = fields.Selection(WA_STATES, string="WhatsApp Status", copy=False, readonly=True)
    wa_error = fields.Char(string="WhatsApp Error", copy=False, readonly=True)

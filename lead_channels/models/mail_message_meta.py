from odoo import fields, models


class MailMessage(models.Model):
    _inherit = "mail.message"

    meta_message_id = fields.Char(
        string="Meta Message ID", index="btree_not_null", copy=False, readonly=True,
        help="Messenger / Instagram message id (mid) of the message this chatter message sent.")

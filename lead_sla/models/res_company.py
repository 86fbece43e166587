from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    lead_stage_note_required = fields.Boolean(
        string="Note Before Stage Moves", default=False,
        help="Moving an open lead to another stage (except Won) needs a note or a message "
        "to the customer, of the contact note's minimum length, posted since its last "
        "stage change.")

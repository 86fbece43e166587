from odoo import fields, models


class LeadSlaContacted(models.TransientModel):
    _name = "lead.sla.contacted"
    _description = "Mark Leads Contacted"

    lead_ids = fields.Many2many("crm.lead", string="Leads", required=True)
    note = fields.Text(
        string="What was said", required=True,
        help="Shared with the team in the lead's chatter.")
    # a default, not a compute: the form shows the value Odoo sends with the
    # new record, and a non-stored compute without dependencies came as 0
    min_length = fields.Integer(
        default=lambda self: self.env["crm.lead"]._lead_sla_note_min_length(), readonly=True)

    def action_confirm(self):
        self.ensure_one()
        self.lead_ids._lead_sla_mark_contacted(self.note)
        return {"type": "ir.actions.act_window_close"}

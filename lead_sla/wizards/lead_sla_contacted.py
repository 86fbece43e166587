from odoo import api, fields, models


class LeadSlaContacted(models.TransientModel):
    _name = "lead.sla.contacted"
    _description = "Mark Leads Contacted"

    lead_ids = fields.Many2many("crm.lead", string="Leads", required=True)
    note = fields.Text(
        string="What was said", required=True,
        help="Shared with the team in the lead's chatter.")
    min_length = fields.Integer(compute="_compute_min_length")

    @api.depends_context("uid")
    def _compute_min_length(self):
        minimum = self.env["crm.lead"]._lead_sla_note_min_length()
        for wizard in self:
            wizard.min_length = minimum

    def action_confirm(self):
        self.ensure_one()
        self.lead_ids._lead_sla_mark_contacted(self.note)
        return {"type": "ir.actions.act_window_close"}

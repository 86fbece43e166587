from odoo import _, api, fields, models

from .lead_reassign import _check_manager


class LeadTransfer(models.TransientModel):
    _name = "lead.transfer"
    _description = "Transfer the Leads of an Agent"

    user_id = fields.Many2one(
        "res.users", string="Agent Leaving", required=True, domain="[('share', '=', False)]",
        help="All open leads of this agent are routed again through the rules, without them.")
    reason = fields.Char(default=lambda self: _("Transfer"), help="Prefix of the logged reason.")
    lead_count = fields.Integer(compute="_compute_lead_count", string="Open Leads")
    result = fields.Text(readonly=True)

    def _open_leads_domain(self):
        return [("user_id", "=", self.user_id.id)] + self.env["crm.lead"]._lead_open_domain()

    @api.depends("user_id")
    def _compute_lead_count(self):
        for wizard in self:
            wizard.lead_count = self.env["crm.lead"].sudo().search_count(
                wizard._open_leads_domain()) if wizard.user_id else 0

    def action_transfer(self):
        self.ensure_one()
        _check_manager(self.env)
        leads = self.env["crm.lead"].sudo().search(self._open_leads_domain(), order="id")
        routed = leads._lead_distribution_route(
            kind="transfer", exclude_users=self.user_id, reason=(self.reason or "").strip() or None)
        moved = sum(1 for user_id in routed.values() if user_id)
        waiting = leads.filtered(lambda l: not l.user_id)
        kept = len(leads) - moved - len(waiting)
        self.result = _(
            "%(moved)s lead(s) transferred, %(waiting)s waiting for an available agent, "
            "%(kept)s matched no routing rule and stay with %(user)s.",
            moved=moved, waiting=len(waiting), kept=kept, user=self.user_id.name)
        return {
            "type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
            "view_mode": "form", "target": "new",
        }

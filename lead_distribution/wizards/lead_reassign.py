from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError


def _check_manager(env):
    if not (env.su or env.user.has_group("sales_team.group_sale_manager")):
        raise AccessError(_("Only sales managers can reassign leads."))


class LeadReassign(models.TransientModel):
    _name = "lead.reassign"
    _description = "Reassign Leads"

    lead_ids = fields.Many2many("crm.lead", string="Leads", required=True)
    user_id = fields.Many2one(
        "res.users", string="New Salesperson", required=True, domain="[('share', '=', False)]")
    team_id = fields.Many2one("crm.team", string="Sales Team")
    reason = fields.Text(required=True, help="Why the leads change hands; kept in the assignment log.")

    @api.model
    def default_get(self, fields_list):
        res = super().default_get(fields_list)
        if "lead_ids" in fields_list and not res.get("lead_ids"):
            ctx = self.env.context
            if ctx.get("active_model") == "crm.lead" and ctx.get("active_ids"):
                res["lead_ids"] = [(6, 0, ctx["active_ids"])]
        return res

    @api.onchange("user_id")
    def _onchange_user_id(self):
        if self.user_id:
            self.team_id = self.env["crm.team"]._get_default_team_id(user_id=self.user_id.id)

    def action_reassign(self):
        self.ensure_one()
        _check_manager(self.env)
        if not (self.reason or "").strip():
            raise UserError(_("Give a reason for the reassignment."))
        self.lead_ids._lead_distribution_assign(self.user_id, self.reason, kind="manual", team=self.team_id)
        return {"type": "ir.actions.act_window_close"}

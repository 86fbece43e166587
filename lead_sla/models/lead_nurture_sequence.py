from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

NURTURE_TRIGGERS = [
    ("cold", "Cold lead after first response"),
    ("lost", "Lead marked lost"),
]


class LeadNurtureSequence(models.Model):
    """Automated touchpoints for leads nobody is actively working: cold leads
    once they had a first response, lost leads for the long term. The first
    active sequence (by order) whose trigger, company, filter and lost reasons
    match enrols the lead."""
    _name = "lead.nurture.sequence"
    _inherit = ["lead.domain.rule.mixin"]
    _description = "Lead Nurture Sequence"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, help="The first matching sequence enrols the lead.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company", string="Company", index=True,
        help="Leave empty to nurture the leads of every company.")
    trigger = fields.Selection(
        NURTURE_TRIGGERS, required=True, default="cold",
        help="Cold: an open lead of tier Cold enters at its first response (stage move, "
        "message to the customer, call or meeting done, Mark Contacted).\n"
        "Lost: a lead enters when it is marked lost.")
    domain = fields.Char(
        string="Applies to", help="Only leads matching this filter enter the sequence.")
    lost_reason_ids = fields.Many2many(
        "crm.lost.reason", string="Lost Reasons",
        help="Lost leads with one of these reasons enter (empty: any reason).")
    step_ids = fields.One2many("lead.nurture.step", "sequence_id", string="Steps", copy=True)
    step_count = fields.Integer(compute="_compute_counts", string="Steps Count")
    running_count = fields.Integer(compute="_compute_counts", string="Leads in Nurture")

    def _lead_rule_kind(self):
        return _("nurture sequence")

    @api.depends("step_ids")
    def _compute_counts(self):
        running = {}
        if self.ids:
            groups = self.env["crm.lead"]._read_group(
                [("nurture_sequence_id", "in", self.ids), ("nurture_state", "=", "running")],
                ["nurture_sequence_id"], ["__count"])
            running = {sequence.id: count for sequence, count in groups}
        for sequence in self:
            sequence.step_count = len(sequence.step_ids)
            sequence.running_count = running.get(sequence.id, 0)

    @api.constrains("trigger", "lost_reason_ids")
    def _check_lost_reasons(self):
        for sequence in self:
            if sequence.trigger != "lost" and sequence.lost_reason_ids:
                raise ValidationError(_(
                    "The nurture sequence '%s' starts on cold leads: lost reasons only apply to "
                    "sequences started when a lead is lost. Remove the lost reasons or change "
                    "the trigger to 'Lead marked lost'.", sequence.name))

    @api.constrains("active", "step_ids")
    def _check_steps(self):
        for sequence in self:
            if sequence.active and not sequence.step_ids:
                raise ValidationError(_(
                    "The nurture sequence '%s' has no step: add at least one step before "
                    "activating it.", sequence.name))

    def action_view_leads(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action.update({
            "name": _("Leads in %s", self.name),
            "domain": [("nurture_sequence_id", "=", self.id)],
            "context": {"active_test": False, "search_default_lead_nurture_running": 1},
        })
        return action

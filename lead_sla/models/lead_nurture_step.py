from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

NURTURE_ACTIONS = [("email", "E-mail"), ("activity", "To-do for the owner")]


class LeadNurtureStep(models.Model):
    """One touchpoint of a nurture sequence, ``delay_days`` after enrolment."""
    _name = "lead.nurture.step"
    # steps are part of the cached sequence data read at every enrolment
    _inherit = ["lead.cached.config.mixin"]
    _description = "Lead Nurture Step"
    _order = "sequence_id, sequence, delay_days, id"

    sequence_id = fields.Many2one(
        "lead.nurture.sequence", string="Nurture Sequence", required=True, index=True,
        ondelete="cascade")
    company_id = fields.Many2one(related="sequence_id.company_id", store=True)
    sequence = fields.Integer(default=10)
    delay_days = fields.Integer(
        string="Day", required=True, default=1,
        help="Days after enrolment (cumulative: day 1, 3, 7, 14 - not days after the "
        "previous step).")
    action = fields.Selection(
        NURTURE_ACTIONS, required=True, default="email",
        ondelete={"email": "cascade", "activity": "cascade"})
    template_id = fields.Many2one(
        "mail.template", string="E-mail Template", ondelete="restrict",
        domain="[('model', '=', 'crm.lead')]",
        help="Sent from the lead's chatter: the customer receives a normal e-mail and the "
        "team sees it on the lead.")
    summary = fields.Char(
        translate=True, help="Summary of the to-do planned for the lead's salesperson.")

    _sql_constraints = [
        ("delay_days_positive", "CHECK(delay_days >= 0)",
         "The day of a nurture step cannot be negative."),
    ]

    @api.depends("delay_days", "action", "template_id", "summary")
    def _compute_display_name(self):
        labels = dict(self._fields["action"]._description_selection(self.env))
        for step in self:
            what = step.template_id.name or step.summary or labels.get(step.action, "")
            step.display_name = _("Day %(day)s: %(what)s", day=step.delay_days, what=what)

    @api.constrains("action", "template_id", "summary")
    def _check_action(self):
        for step in self:
            step._lead_nurture_check_action()

    def _lead_nurture_check_action(self):
        """Raise a ValidationError when the step misses what its action needs
        (extended by the bridges adding actions)."""
        self.ensure_one()
        if self.action == "email":
            if not self.template_id:
                raise ValidationError(_(
                    "The e-mail step of day %(day)s in '%(seq)s' has no template: choose an "
                    "e-mail template on leads.", day=self.delay_days, seq=self.sequence_id.name))
            if self.template_id.model != "crm.lead":
                raise ValidationError(_(
                    "The template '%(tpl)s' is written for %(model)s, not for leads: choose a "
                    "template of the model Lead/Opportunity.",
                    tpl=self.template_id.name, model=self.template_id.model))
        if self.action == "activity" and not (self.summary or "").strip():
            raise ValidationError(_(
                "The to-do step of day %(day)s in '%(seq)s' has no summary: say what the "
                "salesperson should do, e.g. 'Call to check on the quotation'.",
                day=self.delay_days, seq=self.sequence_id.name))

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..core import wa_template

STATUS_SELECTION = [
    ("approved", "Approved"), ("pending", "Pending Review"), ("rejected", "Rejected"), ("paused", "Paused"),
    ("disabled", "Disabled"), ("in_appeal", "In Appeal"), ("deleted", "Deleted"), ("other", "Other"),
]
CATEGORY_SELECTION = [("marketing", "Marketing"), ("utility", "Utility"), ("authentication", "Authentication")]


class LeadChannelWaTemplate(models.Model):
    """A WhatsApp message template of a channel's business account, as Meta
    last listed it (``lead.channel.action_sync_wa_templates``). Only approved
    ones can be sent; the others stay visible with their status."""
    _name = "lead.channel.wa.template"
    _description = "WhatsApp Template"
    _order = "channel_id, name, language"
    _rec_names_search = ["name", "body"]

    channel_id = fields.Many2one("lead.channel", required=True, ondelete="cascade", index=True,
                                 domain="[('channel_type', '=', 'whatsapp')]")
    company_id = fields.Many2one(related="channel_id.company_id", store=True)
    name = fields.Char(required=True, readonly=True)
    language = fields.Char(required=True, readonly=True, help="Meta's language code, e.g. en_US or ms.")
    status = fields.Selection(STATUS_SELECTION, required=True, default="pending", readonly=True, index=True)
    category = fields.Selection(CATEGORY_SELECTION, readonly=True)
    body = fields.Text(readonly=True, help="Text of the template's body; {{1}}, {{2}}... are its parameters.")
    param_count = fields.Integer(string="Parameters", readonly=True,
                                 help="Number of {{n}} parameters of the body, filled by the agent.")
    last_sync_date = fields.Datetime(string="Last Seen at Meta", readonly=True)

    _sql_constraints = [
        ("channel_name_language_uniq", "unique (channel_id, name, language)",
         "A channel has one template per name and language."),
        ("param_count_positive", "check (param_count >= 0)", "A template cannot have a negative parameter count."),
    ]

    @api.depends("name", "language")
    def _compute_display_name(self):
        for template in self:
            template.display_name = "%s (%s)" % (template.name, template.language) if template.language \
                else template.name

    def _check_sendable(self, values):
        """Raise a UserError unless this template can be sent with ``values``."""
        self.ensure_one()
        if self.status != "approved":
            raise UserError(_("Template %(name)s is not approved by Meta (status: %(status)s): pick an "
                              "approved template.", name=self.display_name,
                              status=dict(self._fields["status"]._description_selection(self.env))[self.status]))
        code, position = wa_template.check_params(values, self.param_count)
        if code == wa_template.MISSING:
            raise UserError(_(
                "Template %(name)s needs %(count)s parameter(s), one per line, and parameter {{%(n)s}} is "
                "missing: fill it in before sending.", name=self.display_name, count=self.param_count,
                n=position))
        if code == wa_template.TOO_MANY:
            raise UserError(_(
                "Template %(name)s has %(count)s parameter(s) but %(given)s lines were given: remove the "
                "extra lines.", name=self.display_name, count=self.param_count, given=len(values)))

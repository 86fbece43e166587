from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..core.mapping import _norm_key

MAPPABLE_TYPES = ("char", "text", "html", "float", "monetary", "integer", "boolean", "selection")


class LeadChannelFieldMap(models.Model):
    _name = "lead.channel.field.map"
    _description = "Lead Channel Field Map"
    _order = "channel_id, sequence, id"

    channel_id = fields.Many2one("lead.channel", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    source_key = fields.Char(
        string="Question / Form Field", required=True,
        help="Key of the Lead Ads question (field_data name) or of the web-form field.")
    field_id = fields.Many2one(
        "ir.model.fields", string="Lead Field", required=True, ondelete="cascade",
        domain="[('model', '=', 'crm.lead'), ('ttype', 'in', %s), ('readonly', '=', False)]"
        % (list(MAPPABLE_TYPES),))
    field_name = fields.Char(related="field_id.name")

    _sql_constraints = [
        ("source_key_uniq", "unique (channel_id, source_key)",
         "Each question can be mapped only once per channel."),
    ]

    @api.constrains("field_id")
    def _check_field(self):
        for rec in self:
            if rec.field_id.model != "crm.lead" or rec.field_id.ttype not in MAPPABLE_TYPES:
                raise ValidationError(_(
                    "'%(field)s' cannot receive answers: choose a text, number, yes/no or "
                    "selection field of the lead.", field=rec.field_id.display_name))
            if rec.field_id.name in ("id", "create_uid", "write_uid", "user_id", "company_id"):
                raise ValidationError(_("Answers cannot be mapped to '%s'.", rec.field_id.name))

    def _as_dict(self):
        return {_norm_key(rec.source_key): rec.field_id.name for rec in self}

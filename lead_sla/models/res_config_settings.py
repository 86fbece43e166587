from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..core.settings import (DEFAULT_CADENCE, DEFAULT_NOTE_MIN_LENGTH,
                             DEFAULT_REPORT_INTERVAL_HOURS, SettingError,
                             check_note_min_length, check_report_interval, format_cadence,
                             parse_cadence)


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    lead_sla_report_interval_hours = fields.Integer(
        string="Exception Report Every (working hours)",
        config_parameter="lead_sla.report_interval_hours",
        default=DEFAULT_REPORT_INTERVAL_HOURS)
    lead_sla_contacted_note_min_length = fields.Integer(
        string="Contact Note Minimum Length",
        config_parameter="lead_sla.contacted_note_min_length",
        default=DEFAULT_NOTE_MIN_LENGTH)
    lead_stage_note_required = fields.Boolean(
        related="company_id.lead_stage_note_required", readonly=False)
    lead_sla_followup_cadence = fields.Char(
        string="Follow-up Cadence (days)",
        config_parameter="lead_sla.followup_cadence",
        default=format_cadence(DEFAULT_CADENCE),
        help="Days after the first contact at which a follow-up is planned when an open "
        "lead has no next activity, e.g. 1, 3, 7, 14.")

    @api.constrains("lead_sla_report_interval_hours", "lead_sla_contacted_note_min_length",
                    "lead_sla_followup_cadence")
    def _check_lead_sla_settings(self):
        for settings in self:
            try:
                check_report_interval(settings.lead_sla_report_interval_hours)
                check_note_min_length(settings.lead_sla_contacted_note_min_length)
                parse_cadence(settings.lead_sla_followup_cadence)
            except SettingError as e:
                raise ValidationError(_("Response SLA settings: %s", e)) from e

    def action_lead_sla_policies(self):
        return self.env["ir.actions.act_window"]._for_xml_id("lead_sla.lead_sla_policy_action")

    def action_lead_nurture_sequences(self):
        return self.env["ir.actions.act_window"]._for_xml_id(
            "lead_sla.lead_nurture_sequence_action")

    def set_values(self):
        for settings in self:  # store the cadence in its canonical form
            settings.lead_sla_followup_cadence = format_cadence(
                parse_cadence(settings.lead_sla_followup_cadence))
        return super().set_values()

from odoo import fields, models

CALL_MEETING_XMLIDS = ("mail.mail_activity_data_call", "mail.mail_activity_data_meeting")


class MailActivity(models.Model):
    _inherit = "mail.activity"

    lead_sla_warning = fields.Boolean(
        string="SLA Warning", readonly=True, copy=False,
        help="Planned by the response SLA sweep; removed when the lead is answered, won, "
             "lost or archived.")

    def _action_done(self, feedback=False, attachment_ids=None):
        # Collect before super(): done activities are deleted.
        lead_ids = self._lead_sla_response_lead_ids()
        result = super()._action_done(feedback=feedback, attachment_ids=attachment_ids)
        if lead_ids:
            leads = self.env["crm.lead"].browse(lead_ids).exists()
            leads._lead_sla_first_response("activity")
        return result

    def _lead_sla_response_lead_ids(self):
        """Leads whose call or meeting activity is being marked done."""
        activities = self.filtered(lambda a: a.res_model == "crm.lead" and a.res_id)
        if not activities:
            return []
        default_types = {
            self.env["ir.model.data"]._xmlid_to_res_id(xmlid, raise_if_not_found=False)
            for xmlid in CALL_MEETING_XMLIDS
        }
        return list({
            activity.res_id for activity in activities
            if activity.activity_type_id.category in ("phonecall", "meeting")
            or activity.activity_type_id.id in default_types
        })

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..core import wa_template


class LeadChannelComposer(models.TransientModel):
    """WhatsApp templates in the reply composer: outside the customer's
    24-hour window the agent picks an approved template of the channel and
    fills its ``{{n}}`` parameters (one per line, prefilled from the lead).
    Without any synced template the WhatsApp composer's fixed template
    setting is used, as before."""
    _inherit = "lead.channel.composer"

    template_id = fields.Many2one(
        "lead.channel.wa.template", string="Template", compute="_compute_template_id", store=True,
        readonly=False, domain="[('channel_id', '=', channel_id), ('status', '=', 'approved')]",
        help="Approved WhatsApp template: the only message WhatsApp accepts when the customer has not "
             "written in the last 24 hours.")
    template_params = fields.Text(
        compute="_compute_template_params", store=True, readonly=False,
        help="WhatsApp template parameters, one value per line: line 1 fills {{1}}, line 2 fills {{2}}...")
    template_param_count = fields.Integer(related="template_id.param_count")
    template_preview = fields.Text(compute="_compute_template_preview")
    wa_window_closed = fields.Boolean(compute="_compute_wa_window_closed")

    @api.depends("lead_id", "channel_id")
    def _compute_wa_window_closed(self):
        for wizard in self:
            wizard.wa_window_closed = wizard.channel_id.channel_type == "whatsapp" \
                and not wizard.lead_id.wa_window_open

    @api.depends("channel_id", "lead_id")
    def _compute_template_id(self):
        for wizard in self:
            channel = wizard.channel_id
            template = wizard.template_id if wizard.template_id.channel_id == channel else False
            if not template and wizard.wa_window_closed:
                # the channel's re-engagement template setting, when Meta approved it
                template = channel.wa_template_ids.filtered(
                    lambda t: t.status == "approved" and t.name == channel.wa_template_name
                    and t.language == (channel.wa_template_lang or t.language))[:1]
            wizard.template_id = template

    @api.depends("template_id")
    def _compute_template_params(self):
        for wizard in self:
            values = wizard._template_prefill(wizard.template_id.param_count)
            wizard.template_params = "\n".join(values) if values else False

    def _template_prefill(self, count):
        """Lines prefilled from the lead: {{1}} is the customer's name; the
        others are left for the agent (an empty line is refused at sending)."""
        lead = self.lead_id
        name = lead.partner_id.name or lead.contact_name or lead.partner_name or ""
        return [name] + [""] * (count - 1) if count else []

    @api.depends("template_id", "template_params")
    def _compute_template_preview(self):
        for wizard in self:
            wizard.template_preview = wa_template.render(
                wizard.template_id.body, wa_template.split_params(wizard.template_params)) \
                if wizard.template_id else False

    def action_send(self):
        self.ensure_one()
        if self.channel_id.channel_type == "whatsapp" and (self.template_id or self._wa_template_required()):
            return self._send_wa_template()
        return super().action_send()

    def _wa_template_required(self):
        """Outside the window, once the channel's templates are synced, the
        agent must pick one (the fixed setting serves channels without them)."""
        return self.wa_window_closed and bool(self.channel_id.wa_template_ids.filtered(
            lambda t: t.status == "approved"))

    def _send_wa_template(self):
        self.lead_id.check_access("write")
        channel, lead, template = self.channel_id, self.lead_id, self.template_id
        if not template:
            raise UserError(_("The 24-hour window is closed (the customer last wrote more than 24 hours ago): "
                              "pick an approved template and fill its parameters."))
        if template.channel_id != channel:
            raise UserError(_("Template %(template)s belongs to channel %(other)s, not %(channel)s.",
                              template=template.display_name, other=template.channel_id.name,
                              channel=channel.name))
        if self.attachment_ids:
            raise UserError(_("A WhatsApp template is sent without attachments: remove them."))
        values = wa_template.split_params(self.template_params)
        template._check_sendable(values)
        if not channel.wa_phone_number_id:
            raise UserError(_("Channel %s has no WhatsApp phone number ID.", channel.name))
        to = self.env["lead.channel.whatsapp.composer"].new({"lead_id": lead.id})._recipient()
        if not to:
            raise UserError(_("This lead has no WhatsApp number."))
        payload = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                   "type": "template", "template": {"name": template.name, "language": {"code": template.language}}}
        if values:
            payload["template"]["components"] = wa_template.body_components(values)
        answer = channel.sudo()._graph_call("POST", "%s/messages" % channel.wa_phone_number_id, json=payload)
        wamid = ((answer.get("messages") or [{}])[0] or {}).get("id")
        if not wamid:
            raise UserError(_("Meta accepted the request but returned no message id; check the channel."))
        text = wa_template.render(template.body, values)
        body = Markup("%s <i>%s</i>") % (_("WhatsApp template sent:"), template.name)
        if text:
            body += Markup("<br/>") + Markup("<br/>").join(escape(line) for line in text.split("\n"))
        partner = self.env.user.partner_id
        # the customer got it on WhatsApp: only the team is notified
        message = lead.with_context(mail_post_autofollow=False, lead_channels_capture=True).message_post(
            body=body, author_id=partner.id, email_from=partner.email_formatted or partner.name,
            message_type="comment", subtype_xmlid="mail.mt_comment", wa_message_id=wamid, wa_state="sent")
        self.env["lead.channel.event"].sudo()._apply_early_statuses(channel, message)
        return {"type": "ir.actions.act_window_close"}

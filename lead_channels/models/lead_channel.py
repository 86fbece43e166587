import secrets
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.phone_validation.tools.phone_validation import phone_format

from ..vocabulary import CHANNEL_TYPES, MANUAL_TYPES, META_TYPES

DEFAULT_GRAPH_URL = "https://graph.facebook.com/v21.0"
SOURCE_XMLIDS = {
    "whatsapp": "lead_channels.utm_source_whatsapp",
    "facebook_lead_ads": "utm.utm_source_facebook",
    "messenger": "utm.utm_source_facebook",
    "instagram": "lead_channels.utm_source_instagram",
    "web_form": "lead_channels.utm_source_website",
    "email": "lead_channels.utm_source_portal_email",
    "walk_in": "lead_channels.utm_source_walk_in",
    "phone": "lead_channels.utm_source_phone",
    "referral": "lead_channels.utm_source_referral",
}


def _new_token(_records=None):
    # 32 random bytes (43 URL-safe characters): the token alone guards the web form
    return secrets.token_urlsafe(32)


class LeadChannel(models.Model):
    _name = "lead.channel"
    _description = "Lead Channel"
    _inherit = ["mail.thread", "mail.alias.mixin.optional"]
    _order = "sequence, id"

    name = fields.Char(required=True, tracking=True)
    sequence = fields.Integer(default=10)
    channel_type = fields.Selection(CHANNEL_TYPES, string="Type", required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company", required=True, index=True, default=lambda self: self.env.company)
    token = fields.Char(
        required=True, copy=False, readonly=True, default=_new_token, index=True,
        help="Unguessable part of the webhook / form URL.")
    # Secrets: system administrators only; the ORM strips them from the views
    # and from read() of everyone else, so they never reach other browsers.
    verify_token = fields.Char(groups="base.group_system", copy=False,
                               help="Verify token typed in Meta's webhook settings.")
    app_secret = fields.Char(groups="base.group_system", copy=False,
                             help="App secret that signs Meta's deliveries (X-Hub-Signature-256).")
    access_token = fields.Char(groups="base.group_system", copy=False,
                               help="Page / system-user access token for the Graph API.")
    wa_phone_number_id = fields.Char(string="WhatsApp Phone Number ID")
    page_id = fields.Char(string="Page / Account ID")
    graph_url = fields.Char(string="Graph API URL", default=DEFAULT_GRAPH_URL, required=True)
    wa_template_name = fields.Char(
        string="Re-engagement Template", help="Approved WhatsApp template sent outside the 24-hour window.")
    wa_template_lang = fields.Char(string="Template Language", default="en")
    team_id = fields.Many2one("crm.team", string="Sales Team", check_company=True)
    country_id = fields.Many2one(
        "res.country", string="Country of Local Numbers",
        default=lambda self: self.env.company.country_id,
        help="Phone numbers written without a country code (e.g. 012-345 6789) are read as numbers "
             "of this country. Empty: the company's country.")
    source_id = fields.Many2one("utm.source", string="Source")
    medium_id = fields.Many2one("utm.medium", string="Medium")
    campaign_id = fields.Many2one("utm.campaign", string="Campaign")
    allowed_origins = fields.Char(
        help="Web sites allowed to post the form from a browser (CORS), separated by spaces "
             "or commas, e.g. https://www.example.my")
    rate_limit = fields.Integer(
        string="Submissions per IP per Minute", default=10,
        help="Web-form submissions accepted from one address per minute (0 = no limit).")
    stale_hours = fields.Integer(
        string="Warn After (hours without delivery)", default=48,
        help="The channel shows a warning when nothing arrived for this long (0 = never).")
    field_map_ids = fields.One2many("lead.channel.field.map", "channel_id", string="Field Map")
    webhook_url = fields.Char(compute="_compute_urls", string="Webhook URL")
    form_url = fields.Char(compute="_compute_urls", string="Form URL")

    event_count = fields.Integer(compute="_compute_health", string="Events Received")
    duplicate_count = fields.Integer(compute="_compute_health", string="Duplicates")
    failed_count = fields.Integer(compute="_compute_health", string="Failed")
    last_event_at = fields.Datetime(compute="_compute_health", string="Last Delivery")
    health_state = fields.Selection(
        [("ok", "OK"), ("warning", "Warning"), ("idle", "No Delivery Yet")],
        compute="_compute_health", string="Health")
    health_message = fields.Char(compute="_compute_health", string="Health Warning")
    lead_count = fields.Integer(compute="_compute_lead_stats", string="Leads")
    won_count = fields.Integer(compute="_compute_lead_stats", string="Won")
    conversion_rate = fields.Float(compute="_compute_lead_stats", string="Conversion (%)")

    _sql_constraints = [
        ("token_uniq", "unique (token)", "The channel token must be unique."),
        ("rate_limit_positive", "check (rate_limit >= 0)", "The rate limit cannot be negative."),
    ]

    @api.depends("token", "channel_type")
    def _compute_urls(self):
        for channel in self:
            channel.webhook_url = channel.form_url = False
            if not channel._origin.id:
                # the token of an unsaved channel is not the one saved (a
                # new default is drawn at create): show no URL until then
                continue
            base = channel.get_base_url()
            if channel.channel_type in META_TYPES:
                channel.webhook_url = "%s/lead_channels/meta/%s" % (base, channel.token)
            elif channel.channel_type == "web_form":
                channel.form_url = "%s/lead_channels/form/%s" % (base, channel.token)

    def _compute_health(self):
        stats = {}
        if self.ids:
            self.env["lead.channel.event"].flush_model()
            self.env.cr.execute("""
                SELECT channel_id, count(*),
                       count(*) FILTER (WHERE state = 'duplicate'),
                       count(*) FILTER (WHERE state = 'failed'),
                       max(received_at),
                       count(*) FILTER (WHERE state = 'failed'
                                          AND received_at > now() at time zone 'UTC' - interval '1 day')
                  FROM lead_channel_event WHERE channel_id = ANY(%s) GROUP BY channel_id
            """, [self.ids])
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        now = fields.Datetime.now()
        for channel in self:
            total, dups, failed, last, recent_failed = stats.get(channel.id, (0, 0, 0, False, 0))
            channel.event_count, channel.duplicate_count, channel.failed_count = total, dups, failed
            channel.last_event_at = last
            warnings = []
            if failed:
                warnings.append(_("%s deliveries failed to process", failed) if not recent_failed
                                else _("%s deliveries failed in the last 24 hours", recent_failed))
            automatic = channel.channel_type not in MANUAL_TYPES
            if automatic and last and channel.stale_hours and last < now - timedelta(hours=channel.stale_hours):
                warnings.append(_("no delivery since %s", fields.Datetime.to_string(last)))
            channel.health_message = "; ".join(warnings) or False
            if warnings:
                channel.health_state = "warning"
            else:
                channel.health_state = "ok" if (last or not automatic) else "idle"

    def _compute_lead_stats(self):
        stats = {}
        if self.ids:
            self.env["crm.lead"].flush_model(["channel_id", "active", "stage_id", "probability"])
            self.env.cr.execute("""
                SELECT l.channel_id, count(*), count(*) FILTER (WHERE s.is_won)
                  FROM crm_lead l LEFT JOIN crm_stage s ON s.id = l.stage_id
                 WHERE l.channel_id = ANY(%s) GROUP BY l.channel_id
            """, [self.ids])
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for channel in self:
            total, won = stats.get(channel.id, (0, 0))
            channel.lead_count, channel.won_count = total, won
            channel.conversion_rate = 100.0 * won / total if total else 0.0

    @api.constrains("graph_url")
    def _check_graph_url(self):
        for channel in self:
            if not channel.graph_url.startswith(("https://", "http://")):
                raise ValidationError(_("The Graph API URL must start with https://"))

    @api.constrains("channel_type")
    def _check_alias(self):
        for channel in self:
            if channel.alias_name and channel.channel_type != "email":
                raise ValidationError(_("Only e-mail channels receive e-mails on an alias."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("alias_name") and vals.get("channel_type") != "email":
                raise ValidationError(_("Only e-mail channels receive e-mails on an alias."))
        return super().create(vals_list)

    def write(self, vals):
        # the alias name lives on mail.alias: the mixin writes it there, so check here
        if vals.get("alias_name") and any(
                vals.get("channel_type", channel.channel_type) != "email" for channel in self):
            raise ValidationError(_("Only e-mail channels receive e-mails on an alias."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_deliveries(self):
        if self.env["lead.channel.event"].sudo().search_count([("channel_id", "in", self.ids)], limit=1):
            raise UserError(_("This channel has received deliveries: archive it instead of deleting it, "
                              "so its inbox and leads keep their origin."))

    # ------------------------------------------------------------------ alias
    def _alias_get_creation_values(self):
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get_id("lead.channel.event")
        if self.id:
            values["alias_defaults"] = repr({"channel_id": self.id})
        values["alias_contact"] = "everyone"
        return values

    # ------------------------------------------------------------------ actions
    def action_regenerate_token(self):
        self.ensure_one()
        if not self.env.user.has_group("base.group_system"):
            raise AccessError(_("Only a system administrator can regenerate a channel's token: the current "
                                "webhook and form URLs stop working at once."))
        # token is readonly in the views; the group check above is the guard
        self.sudo().token = _new_token()
        self.message_post(body=_("Webhook token regenerated: update the URL in Meta or on the web site."))
        return True

    def action_view_events(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("lead_channels.lead_channel_event_action")
        action["domain"] = [("channel_id", "in", self.ids)]
        action["context"] = {"default_channel_id": self.id}
        return action

    def action_view_leads(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("crm.crm_lead_all_leads")
        action["domain"] = [("channel_id", "in", self.ids)]
        action["context"] = {"active_test": False}
        return action

    # ------------------------------------------------------------------ helpers
    def _default_team(self):
        self.ensure_one()
        return self.team_id or self.company_id.lead_channel_team_id

    def _country(self):
        """Country of local numbers: the channel's, else the company's."""
        self.ensure_one()
        return self.country_id or self.company_id.country_id

    def _region(self):
        """Default phone region: the channel's country (Malaysia when unset)."""
        self.ensure_one()
        return (self._country().code or "MY").upper()

    def _phone_e164(self, raw, international=False):
        """E.164 key of a phone number (Odoo's phone_validation), or None.

        :param international: the number carries its country code without a
            ``+`` (a WhatsApp ``wa_id``): it is never read as a local number.
        """
        self.ensure_one()
        text = str(raw or "").strip()
        if not text:
            return None
        if international and text.isdigit():
            text = "+" + text
        country = self._country()
        try:
            return phone_format(text, self._region(), country.phone_code, force_format="E164")
        except UserError:
            return None

    def _phone_example(self):
        """A local mobile number of the channel's country, written with its
        country code (for error messages), e.g. "+60 12-345 6789"."""
        import phonenumbers  # noqa: PLC0415 - phone_validation's library

        example = phonenumbers.example_number_for_type(self._region(), phonenumbers.PhoneNumberType.MOBILE)
        if not example:
            return "+60 12-345 6789"
        return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)

    def _check_phone(self, raw):
        """E.164 key of a phone number typed by an agent, or a UserError that
        says how to write it."""
        phone = self._phone_e164(raw)
        if not phone:
            raise UserError(_("'%(number)s' is not a valid phone number: write it with the country code, "
                              "e.g. %(example)s", number=raw, example=self._phone_example()))
        return phone

    def _utm_values(self):
        self.ensure_one()
        # the default source by its cached xml id: no query per new lead
        source_id = self.source_id.id or self.env["ir.model.data"]._xmlid_to_res_id(
            SOURCE_XMLIDS[self.channel_type], raise_if_not_found=False)
        values = {"source_id": source_id or False}
        if self.medium_id:
            values["medium_id"] = self.medium_id.id
        elif self.channel_type == "referral":  # scores as "came via referral"
            values["medium_id"] = self.env["ir.model.data"]._xmlid_to_res_id("lead_scoring.utm_medium_referral")
        if self.campaign_id:
            values["campaign_id"] = self.campaign_id.id
        return values

    def _origin_allowed(self, origin):
        self.ensure_one()
        if not origin or not self.allowed_origins:
            return False
        allowed = {o.strip().rstrip("/").lower() for o in self.allowed_origins.replace(",", " ").split()}
        return origin.strip().rstrip("/").lower() in allowed or "*" in allowed

    def _graph_timeout(self):
        param = self.env["ir.config_parameter"].sudo().get_param("lead_channels.graph_timeout", "10")
        try:
            return max(0.1, float(param))
        except ValueError:
            return 10.0

    def _graph_call(self, method, path, **kwargs):
        """Call the Graph API; return the JSON answer or raise UserError in plain words.

        POST keyword arguments: ``json``, or ``data`` and ``files`` (a multipart
        form, e.g. WhatsApp's media upload) with ``timeout`` (seconds, at least
        the channel's Graph timeout)."""
        import requests  # noqa: PLC0415 - imported lazily, only workers calling Meta need it

        self.ensure_one()
        secret = self.sudo().access_token
        if not secret:
            raise UserError(_("Channel %s has no access token: ask an administrator to set it.", self.name))
        url = "%s/%s" % (self.graph_url.rstrip("/"), path.lstrip("/"))
        # the token travels in a header, never in the URL: URLs end up in logs and proxies
        headers = {"Authorization": "Bearer %s" % secret}
        try:
            if method == "GET":
                response = requests.get(url, headers=headers, timeout=self._graph_timeout())
            else:
                timeout = max(kwargs.get("timeout") or 0, self._graph_timeout())
                response = requests.post(url, json=kwargs.get("json"), data=kwargs.get("data"),
                                         files=kwargs.get("files"), timeout=timeout, headers=headers)
        except requests.Timeout:
            raise UserError(_("Meta did not answer in time; it will be retried.")) from None
        except requests.RequestException as exc:
            raise UserError(_("Meta could not be reached (%s).", exc.__class__.__name__)) from None
        try:
            data = response.json()
        except ValueError:
            data = {}
        if response.status_code >= 400 or "error" in data:
            raise UserError(self._graph_error_message(response.status_code, data))
        return data

    @api.model
    def _graph_error_message(self, status, data):
        """Meta's error answer in plain words (the codes Meta documents)."""
        error = data.get("error") if isinstance(data, dict) else None
        error = error if isinstance(error, dict) else {}
        plain = {
            131047: _("The 24-hour window is closed: the customer has not written in the last 24 hours, "
                      "so only an approved template can be sent."),
            131026: _("The message could not be delivered: the number may not be on WhatsApp."),
            131051: _("This message type is not supported by WhatsApp."),
            132000: _("The template parameters do not match the approved template."),
            132001: _("The template does not exist in this language or is not approved yet."),
            131056: _("Too many messages to this customer in a short time; try again in a moment."),
            130429: _("WhatsApp's rate limit was reached; try again in a moment."),
            190: _("The access token has expired or was revoked: an administrator must renew it."),
            10: _("The app lacks the permission for this action."),
            100: _("Meta rejected the request (invalid parameter)."),
        }.get(error.get("code"))
        detail = (error.get("error_data") or {}).get("details") or error.get("message") or ""
        if plain:
            return "%s (%s)" % (plain, detail) if detail else plain
        if status >= 500:
            return _("Meta's server failed (HTTP %s); it will be retried.", status)
        return _("Meta refused the request (HTTP %(status)s): %(detail)s",
                 status=status, detail=detail or _("no detail"))

import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from ..core import wa_template

_logger = logging.getLogger(__name__)
MAX_PAGES = 50  # 5,000 templates at Meta's page size of 100: far above WhatsApp's per-account limit


class LeadChannel(models.Model):
    """WhatsApp templates of the channel's business account (WABA), read
    from Graph's ``message_templates`` listing: by a button and daily."""
    _inherit = "lead.channel"

    wa_business_account_id = fields.Char(
        string="WhatsApp Business Account ID",
        help="ID of the WhatsApp Business Account (WABA) owning the number: its approved message templates "
             "are read from Meta daily and offered to agents outside the 24-hour window.")
    wa_template_ids = fields.One2many("lead.channel.wa.template", "channel_id", string="WhatsApp Templates")
    wa_template_count = fields.Integer(compute="_compute_wa_template_count", string="Approved Templates")

    def _compute_wa_template_count(self):
        counts = dict(self.env["lead.channel.wa.template"]._read_group(
            [("channel_id", "in", self.ids), ("status", "=", "approved")], ["channel_id"], ["__count"]))
        for channel in self:
            channel.wa_template_count = counts.get(channel._origin, 0)

    def action_view_wa_templates(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("lead_channels.lead_channel_wa_template_action")
        action["domain"] = [("channel_id", "in", self.ids)]
        return action

    def action_sync_wa_templates(self):
        """Read the channel's templates from Meta and store them (status kept
        as Meta gives it: approved, rejected...). Templates Meta no longer
        lists are marked deleted."""
        self.check_access("write")
        for channel in self:
            if channel.channel_type != "whatsapp":
                raise UserError(_("Channel %s is not a WhatsApp channel: it has no templates.", channel.name))
            if not channel.wa_business_account_id:
                raise UserError(_("Channel %s has no WhatsApp Business Account ID: set it to read its "
                                  "templates.", channel.name))
        # one sync per channel at a time: a second one (button during the cron) would insert the same rows
        self.env.cr.execute(SQL("SELECT id FROM lead_channel WHERE id = ANY(%s) FOR UPDATE SKIP LOCKED",
                                self.ids))
        free = {row[0] for row in self.env.cr.fetchall()}
        busy = self.filtered(lambda c: c.id not in free)
        if busy:
            raise UserError(_("The templates of %s are being read from Meta right now: try again in a moment.",
                              ", ".join(busy.mapped("name"))))
        # the access token is for system administrators only; managers sync through this method
        for channel in self.sudo():
            channel._store_wa_templates(channel._fetch_wa_templates())
        return True

    def _fetch_wa_templates(self):
        """All of Meta's template listing, page after page (plain values)."""
        self.ensure_one()
        path = "%s/message_templates?fields=name,language,status,category,components&limit=100" % (
            self.wa_business_account_id.strip())
        items, seen = [], set()
        while path and path not in seen and len(seen) < MAX_PAGES:
            seen.add(path)
            answer = self._graph_call("GET", path)
            items.extend(filter(None, map(wa_template.parse_template, answer.get("data") or [])))
            path = wa_template.next_page_path(answer.get("paging"), self.graph_url)
            if path is None:
                raise UserError(_("Meta's next page of templates is not on the channel's Graph API URL; "
                                  "nothing was changed."))
        return items

    def _store_wa_templates(self, items):
        """Upsert the listing: one search, one create batch, a write per changed template."""
        self.ensure_one()
        Template = self.env["lead.channel.wa.template"]
        existing = {(t.name, t.language): t for t in Template.with_context(active_test=False).search(
            [("channel_id", "=", self.id)])}
        now = fields.Datetime.now()
        to_create, seen = [], set()
        for values in items:
            key = (values["name"], values["language"])
            if key in seen:
                continue
            seen.add(key)
            template = existing.get(key)
            if template:
                changed = {f: v for f, v in values.items() if template[f] != v}
                template.write(dict(changed, last_sync_date=now))
            else:
                to_create.append(dict(values, channel_id=self.id, last_sync_date=now))
        Template.create(to_create)
        gone = Template.browse(t.id for key, t in existing.items() if key not in seen and t.status != "deleted")
        gone.write({"status": "deleted"})
        _logger.info("WhatsApp templates of channel %s: %s listed, %s new, %s gone",
                     self.id, len(seen), len(to_create), len(gone))

    @api.model
    def _cron_sync_wa_templates(self):
        channels = self.search([("channel_type", "=", "whatsapp"), ("wa_business_account_id", "!=", False)])
        for channel in channels:
            try:
                with self.env.cr.savepoint():
                    channel.action_sync_wa_templates()
            except UserError as exc:
                # one channel's expired token must not stop the others; it is retried tomorrow
                _logger.warning("WhatsApp templates of channel %s not read: %s", channel.id, exc)

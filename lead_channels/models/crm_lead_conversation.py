"""The lead's conversation at a glance (CRM > Conversations): when the
customer last wrote, a preview of the last message, whether a reply is due.

The three stored fields are written when messages are created on leads
(``_message_create``: the capture service's posts, its chunk path, agents'
replies, e-mails), one write per distinct value set of the batch: never a
recompute over the chatter."""
from odoo import _, api, fields, models
from odoo.tools import SQL, html2plaintext

from ..core import conversation

# Message types that carry words between the customer and the company.
CONVERSATION_TYPES = ("comment", "email", "whatsapp", "sms")
ELAPSED_UNITS = {"min": "%s min", "h": "%s h", "d": "%s d"}


class CrmLead(models.Model):
    _inherit = "crm.lead"

    channel_last_inbound_date = fields.Datetime(
        string="Customer Wrote", index="btree_not_null", copy=False, readonly=True,
        help="When the customer last wrote, on any channel.")
    channel_last_message = fields.Char(
        string="Last Message", copy=False, readonly=True,
        help="The last message of the conversation, either direction, on one line.")
    channel_awaiting_reply = fields.Boolean(
        string="Awaiting Reply", index=True, copy=False, readonly=True,
        help="The customer wrote last and nobody from the company has answered since.")
    channel_last_message_date = fields.Datetime(
        string="Last Message Date", copy=False, readonly=True,
        help="Date of the last message of the conversation, either direction.")
    channel_waiting_time = fields.Char(
        compute="_compute_channel_waiting_time", string="Waiting",
        help="Time since the customer's last message.")

    @api.depends("channel_last_inbound_date")
    def _compute_channel_waiting_time(self):
        now = fields.Datetime.now()
        for lead in self:
            since = lead.channel_last_inbound_date
            if not since:
                lead.channel_waiting_time = False
                continue
            number, unit = conversation.elapsed((now - since).total_seconds())
            lead.channel_waiting_time = _(ELAPSED_UNITS[unit], number)

    def _message_create(self, values_list):
        messages = super()._message_create(values_list)
        # tracking, assignment notices and logs carry no conversation: decided
        # from the values, so chatter-heavy batches cost no query here
        if any(values.get("message_type", "comment") in CONVERSATION_TYPES for values in values_list):
            self._channel_conversation_update(messages)
        return messages

    def _channel_conversation_update(self, messages):
        """Apply a batch of new messages to their leads' conversation fields."""
        odoobot = self.env.ref("base.partner_root", raise_if_not_found=False)
        # sudo: the posts passed their own checks; these fields only mirror them.
        # Notes and a bot's notices are no conversation: they are left out before
        # any query, so chatter-heavy batches (merges, assignment) cost nothing.
        messages = messages.sudo().filtered(
            lambda m: m.model == "crm.lead" and m.res_id and m.message_type in CONVERSATION_TYPES
            and not m.is_internal and not m.subtype_id.internal and m.author_id != odoobot)
        if not messages:
            return
        leads = self.sudo().browse(set(messages.mapped("res_id"))).exists()
        rows = []
        internal_authors = self._channel_internal_authors(messages.author_id)
        for message in messages:
            lead = leads.browse(message.res_id)
            if self.env.context.get("lead_channels_outbound") or message.author_id and message.author_id.id in internal_authors \
                    and message.author_id != lead.partner_id:
                direction = conversation.OUTBOUND
            else:
                direction = conversation.INBOUND
            rows.append((message.res_id, message.date, message.id, direction,
                         html2plaintext(message.body or "") or message.subject or ""))
        self._channel_conversation_write(leads, conversation.conversation_values(rows))

    def _channel_internal_authors(self, authors):
        if not authors:
            return set()
        # sudo: whether an author is an employee, whoever posted
        users = self.env["res.users"].sudo().with_context(active_test=False).search(
            [("partner_id", "in", authors.ids), ("share", "=", False)])
        return set(users.partner_id.ids)

    def _channel_conversation_write(self, leads, values_by_lead):
        groups = {}
        for lead_id, values in values_by_lead.items():
            lead = leads.browse(lead_id)
            if lead not in leads:
                continue
            values = conversation.merge_stored(values, lead.channel_last_inbound_date,
                                               lead.channel_last_message_date)
            if values:
                groups.setdefault(tuple(sorted(values.items())), []).append(lead_id)
        for values, ids in groups.items():
            leads.browse(ids).write(dict(values))

    @api.model
    def _channel_conversation_migrate(self):
        """Fill the conversation fields of leads that predate them (install and
        ``-u``; idempotent: leads already filled are skipped)."""
        # Raw SQL: one set-based statement over millions of chatter messages,
        # writing only this addon's own columns of crm_lead.
        self.env.flush_all()
        self.env.cr.execute(SQL("""
            WITH talk AS (
                SELECT m.res_id AS lead_id, m.date, m.id, m.body,
                       NOT EXISTS (SELECT 1 FROM res_users u
                                    WHERE u.partner_id = m.author_id AND u.share IS NOT TRUE
                                      AND m.author_id IS DISTINCT FROM l.partner_id) AS inbound
                  FROM mail_message m
                  JOIN crm_lead l ON l.id = m.res_id
                  LEFT JOIN mail_message_subtype s ON s.id = m.subtype_id
                 WHERE m.model = 'crm.lead' AND m.message_type IN %(types)s
                   AND m.is_internal IS NOT TRUE AND s.internal IS NOT TRUE
                   AND m.author_id IS DISTINCT FROM %(odoobot)s
                   AND l.channel_last_message IS NULL
            ), last AS (
                SELECT DISTINCT ON (lead_id) lead_id, body, inbound, date
                  FROM talk ORDER BY lead_id, date DESC, id DESC
            ), inbound AS (
                SELECT lead_id, max(date) AS date FROM talk WHERE inbound GROUP BY lead_id
            )
            UPDATE crm_lead l
               SET channel_last_message = left(trim(regexp_replace(
                       regexp_replace(last.body, '<[^>]*>', ' ', 'g'), '\\s+', ' ', 'g')), %(length)s),
                   channel_awaiting_reply = last.inbound,
                   channel_last_message_date = last.date,
                   channel_last_inbound_date = inbound.date
              FROM last LEFT JOIN inbound ON inbound.lead_id = last.lead_id
             WHERE l.id = last.lead_id
        """, types=CONVERSATION_TYPES, length=conversation.PREVIEW_LENGTH,
            odoobot=self.env["ir.model.data"]._xmlid_to_res_id("base.partner_root")))
        self.invalidate_model(["channel_last_message", "channel_awaiting_reply", "channel_last_message_date",
                               "channel_last_inbound_date"])

    def _get_message_create_valid_field_names(self):
        # the Messenger / Instagram mid travels with the chatter message it sent
        return super()._get_message_create_valid_field_names() | {"meta_message_id"}

    def action_open_channel_composer(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Reply"),
            "res_model": "lead.channel.composer",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lead_id": self.id},
        }

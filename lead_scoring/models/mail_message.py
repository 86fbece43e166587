import re

from odoo import api, models
from odoo.tools import html2plaintext

# what an e-mail reply quotes of the conversation is not the customer's words
QUOTED = re.compile(r"<blockquote\b.*?</blockquote>|<[^>]+data-o-mail-quote[^>]*>.*?</[^>]+>",
                    re.S | re.I)
REPLY_HEADER = re.compile(r"^(?:On [^\n]{4,200} wrote:|-{2,}\s*Original Message\s*-{2,}|>)", re.M)
INBOUND_TYPES = ("comment", "email")


class MailMessage(models.Model):
    _inherit = "mail.message"

    @api.model_create_multi
    def create(self, vals_list):
        messages = super().create(vals_list)
        # decided from the values, not the records: reading them back would
        # cost a query per create (Odoo posts many messages one by one)
        inbound = [message.id for message, vals in zip(messages, vals_list)
                   if vals.get("model") == "crm.lead" and vals.get("res_id")
                   and vals.get("message_type", "comment") in INBOUND_TYPES]
        if inbound:
            # sudo: the poster (a portal customer, the public web form) may
            # not read messages back; posting on the lead was already allowed
            self.browse(inbound).sudo()._lead_read_signals()
        return messages

    def _lead_signal_text(self):
        """The customer's own words of this message, as plain text."""
        body = QUOTED.sub(" ", str(self.body or ""))
        text = html2plaintext(body) if body.strip() else ""
        reply = REPLY_HEADER.search(text)
        # the reader is linear, but a pasted document is no chat message
        return (text[:reply.start()] if reply else text).strip()[:4000]

    def _lead_read_signals(self):
        """Read the buying signals of the customer's messages among these
        (lead messages), and fill the leads' empty qualification fields.

        A message is the customer's when its author is not an internal user
        (or has no partner: an unknown e-mail sender). A caller posting the
        customer's words under an agent's name (a walk-in capture) passes the
        context key ``lead_signals_from_customer``.
        """
        messages = self
        if not self.env.context.get("lead_signals_from_customer"):
            user = self.env.user
            internal = {user.partner_id.id} if user._is_internal() else set()
            others = set(self.author_id.ids) - internal
            if others:
                # archived internal users (OdooBot) are internal too
                internal |= set(self.env["res.users"].with_context(active_test=False).search(
                    [("partner_id", "in", list(others)), ("share", "=", False)]).partner_id.ids)
            messages = self.filtered(lambda m: m.author_id.id not in internal)
        if not messages:
            return
        reads = {}
        for message in messages.sorted("id"):
            reads.setdefault(message.res_id, []).append(message)
        # (sudo, from create) the reader writes only the lead's qualification fields
        leads = self.env["crm.lead"].browse(list(reads))
        leads._lead_apply_message_signals(reads)

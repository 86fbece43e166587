import json
import logging
from datetime import timedelta

from odoo import Command, api, fields, models
from odoo.osv import expression

from ..core import meta
from ..core.phone import contact_keys
from .lead_channel_capture import _from_timestamp, _partner_values

_logger = logging.getLogger(__name__)

# seconds before Odoo's own cron sends what the inbox job has not
NOTIFY_SAFETY_DELAY = 60


class ReplayOneByOne(Exception):
    """A chunk must be rolled back and processed again one event per transaction."""


class PostBuffer(list):
    """The customer messages of a chunk, buffered in the context for
    ``_post_inbound_batch``. Odoo hands back any live environment whose
    context compares equal (``Environment.__new__``), and two empty lists are
    equal: the environment of an earlier attempt, still held by its failure's
    traceback, would collect this chunk's messages and they would be lost. A
    buffer equals only itself."""
    def __eq__(self, other):  # also asked first when a plain list is compared to it
        return self is other

    def __ne__(self, other):
        return self is not other

    __hash__ = object.__hash__


class LeadChannelCapture(models.AbstractModel):
    """The capture of a chunk of events at once: the leads of new contacts
    created together (scoring and routing run set-based) and the customers'
    messages created together, their notifications queued."""
    _inherit = "lead.channel.capture"

    @api.model
    def _prepare_new_contacts(self, events, transient_errors=()):
        """Create in one go the leads of the new WhatsApp contacts of a chunk.

        ``events``: the chunk's events, locked. For the first message of each
        contact without an open lead, the partner (when none matches) and the
        lead are created with one ``create()`` each, so scoring and routing
        run set-based; the message is then posted by ``_capture_whatsapp``.
        The values are those ``_ingest`` would give, under the same contact
        key locks. Returns ``{event id: (lead id, partner id)}``; any
        non-transient error replays the chunk one event at a time.
        """
        candidates, claimed = [], set()
        for event in events.sudo():
            if event.kind != meta.WA_MESSAGE or event.state not in ("new", "failed"):
                continue
            try:
                data, phone = self._whatsapp_message(event)
            except Exception:  # noqa: BLE001 - fails in its own processing
                continue
            if data["system"] or data["type"] == "reaction":
                continue  # opens no lead: the normal path says why
            ref = data["contact_ref"]
            keys = {(key, event.company_id.id) for key in contact_keys(phone, ref, None)}
            if not keys or keys & claimed:
                claimed |= keys  # a later message of a contact of this chunk: normal path
                continue
            claimed |= keys
            candidates.append((event, data, phone, ref, keys))
        if len(candidates) < 2:
            return {}
        try:
            return self._create_new_contacts(candidates)
        except transient_errors:
            raise
        except Exception as exc:  # noqa: BLE001 - the one-by-one path records each error
            _logger.info("lead_channels: batch creation skipped: %s", exc)
            raise ReplayOneByOne() from exc

    @api.model
    def _lock_new_contact_keys(self, candidates):
        Key = self.env["lead.channel.contact.key"].sudo()
        by_company = {}
        for _event, _data, _phone, _ref, keys in candidates:
            for key, company_id in keys:
                by_company.setdefault(company_id, set()).add(key)
        for company_id in sorted(by_company):  # _lock_keys sorts the keys: the same lock order as _ingest
            Key._lock_keys(company_id, by_company[company_id])
        return list(by_company)

    @api.model
    def _without_open_lead(self, candidates, company_ids):
        """The candidates whose contact has no open lead yet."""
        phones = [c[2] for c in candidates if c[2]]
        refs = [c[3] for c in candidates if c[3]]
        Lead = self.env["crm.lead"].sudo()
        open_leads = Lead.search_fetch(expression.AND([
            expression.OR([[("phone_sanitized", "in", phones)], [("channel_contact_ref", "in", refs)]]),
            [("company_id", "in", company_ids + [False])],
            Lead._lead_open_domain(),
        ]), ["phone_sanitized", "channel_contact_ref", "company_id"])
        taken = set()
        for lead in open_leads:
            taken.add(("phone", lead.phone_sanitized, lead.company_id.id))
            taken.add(("ref", lead.channel_contact_ref, lead.company_id.id))
        new_contacts = []
        for event, data, phone, ref, _keys in candidates:
            company_id = event.company_id.id
            if any(k in taken for k in (("phone", phone, company_id), ("ref", ref, company_id),
                                         ("phone", phone, False), ("ref", ref, False)) if k[1]):
                continue  # the contact has an open lead: the normal path updates it
            new_contacts.append((event, data, phone, ref))
        return new_contacts

    @api.model
    def _create_new_contacts(self, candidates):
        company_ids = self._lock_new_contact_keys(candidates)
        new_contacts = self._without_open_lead(candidates, company_ids)
        if not new_contacts:
            return {}
        known = self._find_partners(new_contacts)
        todo = [(event, data, phone, {"name": data["name"], "phone": phone, "contact_ref": ref},
                 known.get(event.id) or self.env["res.partner"])
                for event, data, phone, ref in new_contacts]
        missing = [row for row in todo if not row[4]]
        created = self.env["res.partner"].sudo().with_context(mail_create_nolog=True).create(
            [_partner_values(contact, phone, None) for _e, _d, phone, contact, _p in missing])
        partners = {row[0].id: partner for row, partner in zip(missing, created)}
        vals_list, events, lead_partners = [], [], []
        for event, data, phone, contact, partner in todo:
            partner = partner or partners[event.id]
            sent_at = _from_timestamp(data["timestamp"])
            lead_values = {k: v for k, v in self._referral_values(event, data["referral"]).items()
                           if v not in (None, "")}
            vals_list.append(self._new_lead_values(event, contact, phone, None, partner, lead_values,
                                                   {"body": data["text"]}, sent_at))
            events.append(event)
            lead_partners.append(partner)
        Lead = self._lead_model().with_context(
            # a router (lead_distribution) routes them as the chunk commits: its
            # lock on the rules is then not held while the messages are posted
            lead_distribution_route_at_commit=True)
        leads = Lead.create(vals_list)
        return {event.id: (lead.id, partner.id) for event, lead, partner in zip(events, leads, lead_partners)}

    @api.model
    def _find_partners(self, contacts):
        """``_find_partner`` for the new contacts ``[(event, data, phone, ref)]`` of
        a chunk, set-based: {event id: partner} of those already known."""
        found = {}
        by_company = {}
        for contact in contacts:
            by_company.setdefault(contact[0].channel_id.company_id.id, []).append(contact)
        for company_id, rows in by_company.items():
            by_phone, closed = self._known_partners(rows, [company_id, False])
            for event, _data, phone, ref in rows:
                if phone and phone in by_phone:
                    found[event.id] = by_phone[phone]
                    continue
                hits = [closed[key] for key in (("phone", phone), ("ref", ref)) if key[1] and key in closed]
                if hits:
                    found[event.id] = max(hits, key=lambda lead: lead.id).partner_id
        return found

    @api.model
    def _known_partners(self, rows, companies):
        """(partners by phone, latest closed lead by ("phone"|"ref", key)) of a company's new contacts."""
        Partner = self.env["res.partner"].sudo()
        phones = [phone for _e, _d, phone, _r in rows if phone]
        by_phone = {}
        if phones:  # same order as _find_partner's search: the first one wins
            for partner in Partner.search_fetch([("phone_sanitized", "in", phones),
                                                 ("company_id", "in", companies)], ["phone_sanitized"]):
                by_phone.setdefault(partner.phone_sanitized, partner)
        # returning customers: their latest closed lead knows the partner
        closed = {}
        rest = [row for row in rows if row[2] not in by_phone]
        match = []
        if rest_phones := [phone for _e, _d, phone, _r in rest if phone]:
            match.append([("phone_sanitized", "in", rest_phones)])
        if rest_refs := [ref for _e, _d, _p, ref in rest if ref]:
            match.append([("channel_contact_ref", "in", rest_refs)])
        if match:
            leads = self.env["crm.lead"].sudo().with_context(active_test=False).search_fetch(
                expression.AND([expression.OR(match), [("partner_id", "!=", False)],
                                [("company_id", "in", companies)]]),
                ["phone_sanitized", "channel_contact_ref", "partner_id"], order="id desc")
            for lead in leads:
                for key in (("phone", lead.phone_sanitized), ("ref", lead.channel_contact_ref)):
                    if key[1]:
                        closed.setdefault(key, lead)
        return by_phone, closed

    @api.model
    def _post_inbound_batch(self, posts):
        """Create the customer messages of a chunk ``[(event id, lead id, values)]``
        together, with the values ``message_post`` gives them, and queue their
        notifications in Odoo's scheduled-notification queue.

        ``message_post`` costs ~10 ms a message (half of it rendering the
        followers' e-mails) and would make a burst of deliveries wait for the
        e-mails of the messages before them. Here the chunk's messages are in
        the chatter when the chunk commits; followers are notified (inbox,
        e-mail, push: Odoo's own ``_notify_thread``) as soon as the inbox is
        drained (``lead.channel.event._send_inbound_notifications``).
        """
        Lead = self.env["crm.lead"].sudo()
        leads = Lead.browse(list(dict.fromkeys(post[1] for post in posts)))
        values_list = self._inbound_message_values(leads, posts)
        messages = leads[:1]._message_create(values_list)
        # a new lead's later messages hang under its first one, created just now
        firsts = {}
        for message in messages:
            if message.parent_id:
                continue
            if message.res_id in firsts:
                message.parent_id = firsts[message.res_id]
            else:
                firsts[message.res_id] = message
        self._subscribe_authors(messages)
        for message, values in zip(messages, values_list):
            Lead.browse(message.res_id)._message_post_after_hook(message, values)
        # the job sends them once the inbox is drained; Odoo's own cron is the
        # safety net if the job cannot (its run ends, the server stops)
        at = fields.Datetime.now() + timedelta(seconds=NOTIFY_SAFETY_DELAY)
        self.env["mail.message.schedule"].sudo().create([{
            "mail_message_id": message.id, "scheduled_datetime": at,
            "notification_parameters": json.dumps({"force_send": False}),
        } for message in messages])
        # our own table, one statement for the chunk (the ORM would write row by row)
        self.env.cr.execute("""
            UPDATE lead_channel_event e SET posted_message_id = v.message_id
              FROM unnest(%s::int[], %s::int[]) AS v(event_id, message_id) WHERE e.id = v.event_id
        """, [[post[0] for post in posts], messages.ids])
        self.env["lead.channel.event"].browse([post[0] for post in posts]).invalidate_recordset(
            ["posted_message_id"])
        return messages

    @api.model
    def _subscribe_authors(self, messages):
        """The customers follow their leads, as ``message_post`` subscribes
        its author, with Odoo's default subtypes: one search and one create
        for the chunk (``_message_subscribe`` subscribes one partner list to
        all its records, so a burst of new contacts would cost one call each)."""
        pairs = {(message.res_id, message.author_id.id) for message in messages
                 if message.author_id.active}
        if not pairs:
            return
        Followers = self.env["mail.followers"].sudo()
        existing = Followers.search_fetch([
            ("res_model", "=", "crm.lead"), ("res_id", "in", list({pair[0] for pair in pairs})),
            ("partner_id", "in", list({pair[1] for pair in pairs}))], ["res_id", "partner_id"])
        pairs -= {(follower.res_id, follower.partner_id.id) for follower in existing}
        if not pairs:
            return
        default, _internal, external = self.env["mail.message.subtype"]._default_subtypes("crm.lead")
        customers = set(self.env["res.partner"].sudo().browse(
            {pair[1] for pair in pairs}).filtered("partner_share").ids)
        Followers.create([{
            "res_model": "crm.lead", "res_id": res_id, "partner_id": partner_id,
            "subtype_ids": [Command.set(external if partner_id in customers else default)],
        } for res_id, partner_id in sorted(pairs)])

    @api.model
    def _inbound_message_values(self, leads, posts):
        """The values ``message_post`` would give each customer message of a chunk."""
        Lead = self.env["crm.lead"].sudo()
        authors = self.env["res.partner"].sudo().browse({post[2]["author_id"] for post in posts})
        emails = {author.id: author.email_formatted for author in authors}
        alias_domains = leads._mail_get_alias_domains(default_company=self.env.company)
        companies = leads._mail_get_companies(default=self.env.company)
        reply_to = leads._notify_get_reply_to(default=False)
        subtype_ids = {xmlid: self.env["ir.model.data"]._xmlid_to_res_id(xmlid)
                       for xmlid in ("mail.mt_comment", "mail.mt_note")}
        # flat threads: every message hangs under the lead's first message
        first_messages = self.env["mail.message"].sudo()._read_group(
            [("model", "=", "crm.lead"), ("res_id", "in", leads.ids),
             ("message_type", "!=", "user_notification")], ["res_id"], ["id:min"])
        parents = dict(first_messages)
        values_list = []
        for _event_id, lead_id, post in posts:
            values = dict(post)
            subtype_id = subtype_ids[values.pop("subtype_xmlid")]
            author_id = values["author_id"]
            values.update({
                "model": "crm.lead", "res_id": lead_id, "subtype_id": subtype_id,
                "email_from": emails[author_id], "email_add_signature": True,
                "record_name": Lead.browse(lead_id).display_name,
                "record_alias_domain_id": alias_domains[lead_id].id,
                "record_company_id": companies[lead_id].id,
                "reply_to": reply_to.get(lead_id) or emails[author_id],
                "parent_id": parents.get(lead_id, False),
            })
            values_list.append(values)
        return values_list

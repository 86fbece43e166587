from datetime import datetime

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression
from odoo.tools import email_normalize

from ..core import email_parsers, mapping, meta
from ..core.phone import contact_keys
from ..vocabulary import MANUAL_TYPES

# Manual captures after which the agent has spoken to the customer: when the
# agent owns the lead, the capture is its first response.
SPOKEN_TYPES = ("walk_in", "phone")
# A web form's utm_medium values that mean a paid ad (compared lower-cased).
PAID_MEDIUMS = ("cpc", "ppc", "paid", "paid_social", "paidsocial", "display", "ads")


class LeadChannelCapture(models.AbstractModel):
    """The capture service: turns one inbox event into the contact's lead.

    It reads the event's payload (one reader per kind), finds the contact's
    open lead or creates partner and lead, and posts the conversation on it.
    The inbox (``lead.channel.event``) decides when and in which transaction;
    this service only captures. The chunk path for many new contacts at once
    is in ``lead_channel_capture_batch.py``.

    The inbox calls it with ``sudo()``: a delivery belongs to no user (public
    webhook, cron), so leads, partners and messages are written as the
    system, with the channel's team and company. Quick Capture records the
    agent as the note's author and checks what the agent may see.
    """
    _name = "lead.channel.capture"
    _description = "Lead Channel Capture Service"

    @api.model
    def _capture(self, event):
        """Capture one event (already locked by the inbox): it ends done or ignored."""
        handler = {
            meta.WA_MESSAGE: self._capture_whatsapp,
            meta.WA_STATUS: self._capture_whatsapp_status,
            meta.LEADGEN: self._capture_leadgen,
            meta.MESSENGER: self._capture_messaging,
            meta.INSTAGRAM: self._capture_messaging,
            "email": self._capture_email,
            "form": self._capture_form,
            "manual": self._capture_manual,
        }.get(event.kind)
        if not handler:
            errors = meta.delivery_errors(event._payload()) if event.kind == meta.UNKNOWN else ""
            event._finish("ignored", error=_("Meta could not deliver a message: %s. Ask the customer to "
                                             "send it again.", errors) if errors
                          else _("Nothing to do for %s notifications.", event.kind))
            return
        handler(event)

    # ------------------------------------------------------------------
    # WhatsApp
    # ------------------------------------------------------------------
    @api.model
    def _whatsapp_message(self, event):
        """(parsed message, E.164 phone or None) of a stored WhatsApp message."""
        data = meta.parse_whatsapp_message(event._payload())
        return data, self._wa_phone(event.channel_id, data["wa_id"])

    @api.model
    def _wa_phone(self, channel, wa_id):
        """The phone of a ``wa_id`` in E.164: formatted by phone_validation, or
        kept as ``+`` and its digits when the library does not know the range
        (WhatsApp verified the number: never drop it)."""
        if not wa_id:
            return None
        return channel._phone_e164(wa_id, international=True) or meta.wa_id_e164(wa_id)

    @api.model
    def _capture_whatsapp(self, event):
        data, phone = self._whatsapp_message(event)
        if self._already_posted(event, data["wamid"]):
            return
        if data["system"]:
            self._capture_whatsapp_system(event, data, phone)
            return
        if data["type"] == "reaction" and not data["text"]:
            event._finish("ignored", error=_("The customer removed a reaction: nothing to post."))
            return
        reaction = data["type"] == "reaction"
        sent_at = _from_timestamp(data["timestamp"])
        # a reaction is shown, but it is no message from the customer: not counted,
        # no reply due, no response clock or follow-up stopped (a notice, not a comment)
        message = {"body": data["text"], "date": sent_at, "wa_message_id": data["wamid"],
                   "count": not reaction, "notice": reaction}
        prepared = (self.env.context.get("lead_channels_prepared") or {}).get(event.id)
        if prepared:  # lead created with the chunk's other new contacts (_prepare_new_contacts)
            lead = self.env["crm.lead"].sudo().browse(prepared[0])
            partner = self.env["res.partner"].sudo().browse(prepared[1])
            if message["body"]:
                self._post_inbound(event, lead, partner, message)
        elif reaction:  # a reaction answers one of our messages: it opens no lead
            lead, _match = self._find_open_lead(event, phone, data["contact_ref"], None)
            if not lead:
                event._finish("ignored", error=_("The customer reacted to an earlier message, but has no open "
                                                 "lead: nothing to post."))
                return
            self._post_inbound(event, lead, lead.partner_id, message)
        else:
            contact = {"name": data["name"], "phone": phone, "contact_ref": data["contact_ref"]}
            lead = self._ingest(event, contact, message, self._referral_values(event, data["referral"]),
                                wa_inbound_at=sent_at)
        if data["shared_contacts"]:
            self.env["lead.channel.shared.contact"].sudo()._store_shared(
                lead, lead.partner_id, data["shared_contacts"], data["wamid"], event.channel_id)
        event._finish("done", lead)

    @api.model
    def _already_posted(self, event, wamid):
        """Whether this WhatsApp message is already in a lead's chatter (the
        same wamid, from another event: a retry after its content was kept, a
        second channel of the same number). The event is then done, linked
        to that message: content is never posted twice."""
        if not wamid:
            return False
        posts = self.env.context.get("lead_channels_posts") or []
        if any(post[2].get("wa_message_id") == wamid for post in posts):
            event._finish("ignored", error=_("This WhatsApp message came twice in one batch: posted once."))
            return True
        Message = self.env["mail.message"].sudo()
        known = self.env.context.get("lead_channels_posted_wamids")  # found for the whole batch
        if known and wamid in known[0]:
            posted = Message.browse(known[0][wamid])
        elif known and wamid not in known[1]:
            return False
        else:
            posted = Message.search(
                [("wa_message_id", "=", wamid), ("wa_state", "=", "received"), ("model", "=", "crm.lead")],
                limit=1)
        if not posted:
            return False
        event.posted_message_id = posted
        event._finish("done", self.env["crm.lead"].browse(posted.res_id))
        return True

    @api.model
    def _capture_whatsapp_system(self, event, data, phone):
        """The customer changed their number or their business-scoped id: the
        same customer's lead and contact learn the new one, so their next
        messages reach the same lead."""
        system = data["system"]
        old_ref = data["contact_ref"] if system["type"] != "user_changed_user_id" else (
            data["user_id"] or data["contact_ref"])
        new_ref = system["new_wa_id"] if system["type"] == "user_changed_number" else system["new_user_id"]
        if system["type"] not in ("user_changed_number", "user_changed_user_id") or not new_ref:
            event._finish("ignored", error=_("WhatsApp system message: %s", system["body"] or system["type"]))
            return
        lead = self.env["crm.lead"]
        if phone or old_ref:
            lead, _match = self._find_open_lead(event, phone, old_ref, None)
        if not lead:
            event._finish("ignored", error=_("The customer changed their WhatsApp number or id, but no open "
                                             "lead knows the old one: nothing to update."))
            return
        new_phone = self._wa_phone(event.channel_id, new_ref) if system["type"] == "user_changed_number" else None
        self.env["lead.channel.contact.key"].sudo()._lock_keys(
            event.company_id.id, contact_keys(new_phone, new_ref, None))
        updates = {"channel_contact_ref": new_ref} if lead.channel_contact_ref in (old_ref, False) else {}
        if new_phone:
            updates["phone"] = new_phone
            partner = lead.partner_id
            if partner and (not partner.phone or partner.phone_sanitized == phone):
                partner.phone = new_phone
            body = _("Customer changed number from %(old)s to %(new)s", old=phone or old_ref, new=new_phone)
        else:
            body = _("Customer changed their WhatsApp user id from %(old)s to %(new)s", old=old_ref, new=new_ref)
        lead.write(updates)
        self._post_inbound(event, lead, lead.partner_id, {
            "body": body, "date": _from_timestamp(data["timestamp"]), "wa_message_id": data["wamid"]})
        event._finish("done", lead)

    @api.model
    def _capture_whatsapp_status(self, event):
        data = meta.parse_whatsapp_status(event._payload())
        message = self.env["mail.message"].sudo().search(
            [("wa_message_id", "=", data["wamid"]), ("wa_state", "!=", "received")], limit=1)
        if not message:
            event._finish("ignored", error=_("Status of a message not sent from Odoo."))
            return
        if meta.status_moves_forward(message.wa_state, data["status"]):
            message.write({"wa_state": data["status"], "wa_error": data["error"] or False})
            reason = _("Delivery status of a message sent from Odoo: %s.", data["status"])
        else:  # statuses arrive out of order
            reason = _("Delivery status %(new)s of a message sent from Odoo came after %(current)s: "
                       "kept %(current)s.", new=data["status"], current=message.wa_state)
        lead = self.env["crm.lead"].browse(message.res_id) if message.model == "crm.lead" else None
        event._finish("ignored", lead, error=reason)

    # ------------------------------------------------------------------
    # Lead Ads, Messenger / Instagram
    # ------------------------------------------------------------------
    @api.model
    def _capture_leadgen(self, event):
        info = meta.parse_leadgen(event._payload())
        data = event.channel_id._graph_call("GET", info["leadgen_id"])
        answers = mapping.leadgen_answers(data.get("field_data"))
        values, extra = self._map_answers(event, answers)
        summary = "\n".join("%s: %s" % (k, ", ".join(v) if isinstance(v, list) else v) for k, v in answers)
        ad = {"ad_id": data.get("ad_id") or info.get("ad_id"),
              "headline": data.get("ad_name") or data.get("campaign_name")}
        # a Lead Ads form is always answered from an ad
        lead_values = self._referral_values(event, ad, paid=True)
        lead_values.update(values)
        if extra:
            lead_values["description"] = "\n".join(extra)
        lead = self._ingest(
            event, {"name": values.pop("contact_name", None), "phone": lead_values.pop("phone", None),
                    "email": lead_values.pop("email_from", None), "contact_ref": None},
            {"body": _("Lead Ads form answered:\n%s", summary)}, lead_values)
        event._finish("done", lead)

    @api.model
    def _map_answers(self, event, answers):
        """Answers -> (lead values, unmapped lines) through the channel's field map."""
        channel = event.channel_id
        field_map = channel.field_map_ids._as_dict()
        Lead = self.env["crm.lead"]
        fields_info = {}
        for fname in set(field_map.values()):
            field = Lead._fields.get(fname)
            if field:
                selection = field._description_selection(self.env) if field.type == "selection" else None
                fields_info[fname] = (field.type, selection)
        values, extra, problems = mapping.map_answers(answers, field_map, fields_info)
        if values.get("phone"):
            values["phone"] = channel._phone_e164(values["phone"]) or values["phone"]
        if values.get("email_from"):
            values["email_from"] = email_normalize(values["email_from"]) or values["email_from"]
        extra += [_("Could not map %s", p) for p in problems]
        return values, extra

    @api.model
    def _capture_messaging(self, event):
        data = meta.parse_messaging(event._payload())
        name = self._messaging_placeholder(event, data["contact_ref"])
        lead = self._ingest(
            event, {"name": name, "contact_ref": data["contact_ref"], "anonymous": True},
            {"body": data["text"] or _("(opened the conversation)"), "date": _from_timestamp(data["timestamp"])},
            self._referral_values(event, data["referral"]))
        event._finish("done", lead)

    @api.model
    def _messaging_placeholder(self, event, contact_ref):
        """The name of a Messenger / Instagram contact until Meta gives the real one."""
        label = _("Instagram user") if event.kind == meta.INSTAGRAM else _("Messenger user")
        return "%s %s" % (label, (contact_ref or "")[-4:])

    # ------------------------------------------------------------------
    # E-mail, web form
    # ------------------------------------------------------------------
    @api.model
    def _capture_email(self, event):
        payload = event._payload()
        parsed = email_parsers.parse_email(payload.get("subject"), payload.get("body"), payload.get("from"))
        phone = event.channel_id._phone_e164(parsed.get("phone"))
        email = email_normalize(parsed.get("email") or "") or None
        body = parsed.get("message") or payload.get("body") or ""
        if parsed.get("listing_ref"):
            body = "%s\n\n%s" % (body, _("Listing: %(title)s (ref. %(ref)s)",
                                        title=parsed.get("listing_title") or "", ref=parsed["listing_ref"]))
        lead_values = {"channel_listing_ref": parsed.get("listing_ref")}
        if not (phone or email):
            lead_values["description"] = payload.get("body")
        lead = self._ingest(
            event, {"name": parsed.get("name"), "phone": phone, "email": email},
            {"body": body, "subject": payload.get("subject")}, lead_values,
            title_hint=parsed.get("listing_title"))
        event._finish("done", lead)

    @api.model
    def _capture_form(self, event):
        data = event._payload()
        channel = event.channel_id
        values, extra = self._map_answers(event, data.get("extra") or [])
        values.update(self._form_utm_values(channel, data.get("utm") or {}))
        if extra:
            values["description"] = "\n".join(extra)
        values.pop("contact_name", None)
        lead = self._ingest(
            event, {"name": data.get("name"), "phone": data.get("phone_e164")
                    or channel._phone_e164(values.pop("phone", None)),
                    "email": data.get("email") or values.pop("email_from", None)},
            {"body": data.get("message") or _("(form sent without a message)")}, values)
        event._finish("done", lead)

    @api.model
    def _form_utm_values(self, channel, utm):
        """UTM values of a web-form submission: paid-ad and referral mediums
        are read as the shipped Paid and Referral mediums (they score); a
        channel's own medium wins over the submission's."""
        Utm = self.env["utm.mixin"].sudo()
        values = {}
        for key, model, fname in (("utm_source", "utm.source", "source_id"),
                                  ("utm_campaign", "utm.campaign", "campaign_id")):
            if utm.get(key):
                values[fname] = Utm._find_or_create_record(model, utm[key]).id
        medium = (utm.get("utm_medium") or "").strip()
        if medium and not channel.medium_id:
            known = {"referral": "lead_scoring.utm_medium_referral"}
            known.update(dict.fromkeys(PAID_MEDIUMS, "lead_scoring.utm_medium_paid"))
            xmlid = known.get(medium.lower())
            values["medium_id"] = self.env["ir.model.data"]._xmlid_to_res_id(xmlid) if xmlid \
                else Utm._find_or_create_record("utm.medium", medium).id
        return values

    # ------------------------------------------------------------------
    # Find or create the lead, post the customer's message
    # ------------------------------------------------------------------
    @api.model
    def _ingest(self, event, contact, message=None, lead_values=None, wa_inbound_at=None, title_hint=None):
        """Give the contact's message to their open lead, creating lead and partner if needed.

        Contact keys are row-locked first (lead.channel.contact.key) so two
        deliveries of one new contact cannot create two leads.
        """
        phone, ref = contact.get("phone"), contact.get("contact_ref")
        email = email_normalize(contact.get("email") or "") or None
        lead, match = self._find_open_lead(event, phone, ref, email)
        partner = lead.partner_id or self._find_partner(phone, email, match, event.company_id)
        lead_values = {k: v for k, v in (lead_values or {}).items() if v not in (None, "")}
        if lead:
            self._update_lead(lead, partner, phone, email, ref, lead_values, message, wa_inbound_at)
        else:
            lead = self._create_lead(event, contact, phone, email, partner, lead_values, message,
                                     wa_inbound_at, title_hint)
            partner = lead.partner_id
        if message and message.get("body"):
            self._post_inbound(event, lead, partner, message)
        return lead

    @api.model
    def _find_open_lead(self, event, phone, ref, email):
        """Lock the contact's keys, then find their open lead.

        :return: ``(lead or empty, match domains)``
        """
        company = event.company_id
        keys = contact_keys(phone, ref, email)
        if not keys:
            raise UserError(_("The delivery names no phone, e-mail or contact id: nobody to answer."))
        self.env["lead.channel.contact.key"].sudo()._lock_keys(company.id, keys)
        Lead = self._lead_model()
        match = []
        if phone:
            match.append([("phone_sanitized", "=", phone)])
        if ref:
            match.append([("channel_contact_ref", "=", ref)])
        if email:
            match.append([("email_normalized", "=", email)])
        lead = Lead.search(expression.AND([
            expression.OR(match), [("company_id", "in", [company.id, False])], Lead._lead_open_domain(),
        ]), order="id desc", limit=1)
        return lead, match

    @api.model
    def _lead_model(self):
        return self.env["crm.lead"].sudo().with_context(
            default_user_id=False, mail_create_nosubscribe=True, tracking_disable=False,
            # the customer's message opens the chatter, as for Odoo's mail gateway
            mail_create_nolog=True)

    @api.model
    def _update_lead(self, lead, partner, phone, email, ref, lead_values, message, inbound_at):
        """Fill what the contact's open lead does not know yet (never overwrite)."""
        updates = {}
        if partner and not lead.partner_id:
            updates["partner_id"] = partner.id
        if phone and not lead.phone:
            updates["phone"] = phone
        if email and not lead.email_from:
            updates["email_from"] = email
        if ref and not lead.channel_contact_ref:
            updates["channel_contact_ref"] = ref
        for fname, value in lead_values.items():
            current = lead[fname]
            if fname == "description":
                updates[fname] = "%s\n\n%s" % (current, value) if current else value
            elif not current or (fname == "lead_timeline" and current == "unknown"):
                updates[fname] = value
        if message and message.get("count", True):
            updates["lead_inbound_count"] = lead.lead_inbound_count + 1
        if inbound_at and (not lead.wa_last_inbound_at or lead.wa_last_inbound_at < inbound_at):
            updates["wa_last_inbound_at"] = inbound_at
        if updates:
            lead.write(updates)

    @api.model
    def _create_lead(self, event, contact, phone, email, partner, lead_values, message, inbound_at,
                     title_hint=None):
        if not partner:
            partner = self.env["res.partner"].sudo().with_context(mail_create_nolog=True).create(
                _partner_values(contact, phone, email))
        return self._lead_model().create(self._new_lead_values(
            event, contact, phone, email, partner, lead_values, message, inbound_at, title_hint))

    @api.model
    def _new_lead_values(self, event, contact, phone, email, partner, lead_values, message, inbound_at,
                         title_hint=None):
        """Values of the lead of a new contact (one source for _ingest and the batch path)."""
        channel = event.channel_id
        ref = contact.get("contact_ref")
        display = contact.get("name") or phone or email or ref
        values = {
            "name": "%s - %s" % (title_hint or display, channel.name),
            "contact_name": contact.get("name") if not contact.get("anonymous") else False,
            "partner_id": partner.id,
            "phone": phone or False,
            "email_from": email or partner.email or False,
            "channel_id": channel.id,
            "channel_contact_ref": ref or False,
            "company_id": channel.company_id.id,
            "team_id": channel._default_team().id,
            "lead_inbound_count": 1 if message else 0,
            "wa_last_inbound_at": inbound_at or False,
        }
        values.update(channel._utm_values())
        values.update(lead_values)
        if channel.medium_id:  # a channel's own medium wins over the origin's
            values["medium_id"] = channel.medium_id.id
        if "lead_timeline" in values and values["lead_timeline"] not in dict(
                self.env["crm.lead"]._fields["lead_timeline"]._description_selection(self.env)):
            values.pop("lead_timeline")
        return values

    @api.model
    def _find_partner(self, phone, email, match, company):
        Partner = self.env["res.partner"].sudo()
        domain = []
        if phone:
            domain.append([("phone_sanitized", "=", phone)])
        if email:
            domain.append([("email_normalized", "=", email)])
        if domain:
            partner = Partner.search(expression.AND([
                expression.OR(domain), [("company_id", "in", [company.id, False])]]), limit=1)
            if partner:
                return partner
        if match:  # a returning customer: their closed leads know the partner
            closed = self.env["crm.lead"].sudo().with_context(active_test=False).search(
                expression.AND([expression.OR(match), [("partner_id", "!=", False)],
                                [("company_id", "in", [company.id, False])]]), order="id desc", limit=1)
            return closed.partner_id
        return Partner

    @api.model
    def _post_inbound(self, event, lead, partner, message):
        """Post the customer's message on the lead, as from the customer.

        In the inbox job (a chunk of events) the message is only buffered:
        ``_post_inbound_batch`` creates the chunk's messages together.
        """
        body = Markup("<br/>").join(escape(line) for line in str(message["body"]).split("\n"))
        notice = message.get("notice")
        values = {"author_id": partner.id, "message_type": "notification" if notice else "comment",
                  "subtype_xmlid": "mail.mt_note" if notice else "mail.mt_comment", "body": body}
        if message.get("subject"):
            values["subject"] = message["subject"]
        if message.get("date"):
            values["date"] = min(message["date"], fields.Datetime.now())
        if message.get("wa_message_id"):
            values.update(wa_message_id=message["wa_message_id"], wa_state="received")
        posts = self.env.context.get("lead_channels_posts")
        if posts is not None:
            posts.append((event.id, lead.id, values))
            return
        # followers' e-mails are queued for the mail cron, not sent inside the job
        event.posted_message_id = lead.with_context(
            mail_post_autofollow=False, mail_notify_force_send=False).message_post(**values)

    @api.model
    def _referral_values(self, event, referral, paid=False):
        """Lead values of an ad referral (click-to-WhatsApp / Messenger ad,
        Lead Ads): an ad is a paid origin (the shipped Paid medium)."""
        if not referral:
            return {}
        values = {"ad_id": referral.get("ad_id"), "ad_headline": referral.get("headline"),
                  "ad_source_url": referral.get("source_url")}
        if referral.get("headline"):
            values["campaign_id"] = self.env["utm.mixin"].sudo()._find_or_create_record(
                "utm.campaign", referral["headline"]).id
        source_type = str(referral.get("source_type") or "").lower()
        from_ad = source_type in ("ad", "ads") or (referral.get("ad_id") and source_type != "post")
        if paid or from_ad:
            values["medium_id"] = self.env["ir.model.data"]._xmlid_to_res_id("lead_scoring.utm_medium_paid")
        return {k: v for k, v in values.items() if v}

    # ------------------------------------------------------------------
    # Quick Capture (walk-in, phone call, referral)
    # ------------------------------------------------------------------
    @api.model
    def _capture_manual(self, event):
        """An enquiry typed in by an agent. The contact's open lead is found by
        phone or e-mail as for any channel, but the capture never overwrites
        it or its contact, and never links it to another contact (the person
        may not be the one on the lead): what is new or different goes into
        the agent's note, with the name given. Only when the name given is
        the lead's does the lead learn the phone or e-mail it lacks."""
        data = event._payload()
        channel = event.channel_id
        phone = channel._phone_e164(data.get("phone")) if data.get("phone") else None
        email = email_normalize(data.get("email") or "") or None
        agent = self.env["res.users"].browse(data.get("captured_by") or self.env.uid).exists() or self.env.user
        lead, match = self._find_open_lead(event, phone, None, email)
        if lead:
            details = self._manual_differences(lead, data, phone, email)
            updates = {"lead_inbound_count": lead.lead_inbound_count + 1}
            if _same_name(data.get("name"), lead.contact_name or lead.partner_id.name):
                # the same person: what the lead lacks is learnt (nothing is overwritten)
                if phone and not lead.phone:
                    updates["phone"] = phone
                if email and not lead.email_from:
                    updates["email_from"] = email
            lead.write(updates)
        else:
            values = {"lead_referred_by_id": data.get("referred_by_id") or False}
            partner = self._find_partner(phone, email, match, event.company_id)
            lead = self._create_lead(event, {"name": data.get("name")}, phone, email, partner, values, data, None)
            details = []
        event.posted_message_id = self._post_capture_note(event, lead, agent, data, details)
        event._finish("done", lead)

    @api.model
    def _manual_differences(self, lead, data, phone, email):
        """Lines for what the agent typed that the lead does not say."""
        lines = []
        if phone and phone != lead.phone_sanitized:
            lines.append(_("Phone given: %s", phone))
        if email and email != lead.email_normalized:
            lines.append(_("E-mail given: %s", email))
        referrer = self.env["res.partner"].browse(data.get("referred_by_id") or [])
        if referrer and referrer != lead.lead_referred_by_id:
            lines.append(_("Referred by: %s", referrer.display_name))
        return lines

    @api.model
    def _post_capture_note(self, event, lead, agent, data, details):
        """The agent's note on the lead, authored by the agent.

        When the agent owns a walk-in or phone-call lead, the note is a
        message (not an internal note): the agent spoke to the customer, and
        a response tracker (lead_sla) counts it as the first response. The
        customer is never e-mailed a copy (see crm.lead._notify_get_recipients).
        When the lead is another agent's, its owner is notified.
        """
        channel_type = event.channel_id.channel_type
        title = {
            "walk_in": _("Walk-in enquiry from %s", data.get("name") or ""),
            "phone": _("Phone enquiry from %s", data.get("name") or ""),
            "referral": _("Referral enquiry from %s", data.get("name") or ""),
        }.get(channel_type) if channel_type in MANUAL_TYPES else _("Enquiry from %s", data.get("name") or "")
        text = "%s: %s" % (title, data.get("message") or _("(no message)"))
        body = Markup("<br/>").join(escape(line) for line in [*text.split("\n"), *details])
        spoken = channel_type in SPOKEN_TYPES and lead.user_id == agent
        owner = lead.user_id if lead.user_id and lead.user_id != agent else self.env["res.users"]
        readable = lead.with_user(agent).has_access("read")
        return lead.with_context(
            lead_channels_capture=True, mail_post_autofollow=False, mail_notify_force_send=False,
            # the note carries the customer's own words: lead_scoring reads its signals
            lead_signals_from_customer=True,
            # an agent who cannot read the lead does not follow it either
            mail_create_nosubscribe=not readable,
        ).message_post(
            body=body, author_id=agent.partner_id.id, message_type="comment",
            subtype_xmlid="mail.mt_comment" if spoken else "mail.mt_note",
            partner_ids=owner.partner_id.ids,
        )


def _same_name(given, known):
    """Whether two names are the same person's (case and spacing aside)."""
    def fold(name):
        return " ".join(str(name or "").split()).casefold()
    return bool(fold(given)) and fold(given) == fold(known)


def _partner_values(contact, phone, email):
    return {"name": contact.get("name") or phone or email or contact.get("contact_ref"),
            "phone": phone or False, "email": email or False}


def _from_timestamp(timestamp):
    if not timestamp:
        return fields.Datetime.now()
    try:
        return datetime.utcfromtimestamp(int(timestamp)).replace(microsecond=0)
    except (OverflowError, OSError, ValueError):
        return fields.Datetime.now()


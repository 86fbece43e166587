import json
import secrets

from odoo import _, api, fields, models
from odoo.exceptions import UserError


class LeadChannelSharedContact(models.Model):
    """A contact card a customer shared on WhatsApp: a referral in the making.

    Stored by the capture of a ``contacts`` message, beside the chatter line
    that shows it; one click on the lead turns the cards into referral leads
    (``crm.lead.action_create_referral_leads``), referred by the customer.
    """
    _name = "lead.channel.shared.contact"
    _description = "Contact Shared by a Customer"
    _order = "id"

    lead_id = fields.Many2one("crm.lead", string="Shared on Lead", required=True, index=True,
                              ondelete="cascade", readonly=True)
    company_id = fields.Many2one(related="lead_id.company_id", store=True, index=True)
    referrer_id = fields.Many2one("res.partner", string="Shared By", readonly=True, ondelete="set null",
                                  help="The customer who shared the contact: the referral's referrer.")
    name = fields.Char(readonly=True)
    phone = fields.Char(readonly=True, help="In E.164 when it could be read, else as the customer's phone book has it.")
    email = fields.Char(readonly=True)
    key = fields.Char(required=True, readonly=True, help="Phone, else e-mail, else name: one row per contact and lead.")
    wa_message_id = fields.Char(string="WhatsApp Message ID", readonly=True)
    referral_lead_id = fields.Many2one("crm.lead", string="Referral Lead", readonly=True, ondelete="set null",
                                       index="btree_not_null")

    _sql_constraints = [
        ("lead_key_uniq", "unique (lead_id, key)", "A contact is shared once per lead."),
    ]

    @api.model
    def _store_shared(self, lead, partner, cards, wa_message_id, channel):
        """Keep the cards of a ``contacts`` message (see core.meta.shared_contacts)
        on the customer's lead; a card shared again is kept once."""
        known = set(lead.channel_shared_contact_ids.mapped("key"))
        vals_list = []
        for card in cards:
            phone = None
            for number in card["phones"]:
                phone = self.env["lead.channel.capture"]._wa_phone(channel, number["wa_id"]) if number["wa_id"] \
                    else channel._phone_e164(number["phone"])
                phone = phone or number["phone"]
                if phone:
                    break
            key = (phone or card["email"] or card["name"] or "").strip()[:255]
            if not key or key in known:
                continue
            known.add(key)
            vals_list.append({"lead_id": lead.id, "referrer_id": partner.id or False, "name": card["name"],
                              "phone": phone, "email": card["email"], "key": key,
                              "wa_message_id": wa_message_id})
        return self.create(vals_list)

    def _create_referral_leads(self):
        """One referral lead per shared contact (the company's Referral
        channel: Referral medium, referred by the customer who shared it),
        through Quick Capture's path: a contact who already has an open lead
        gets a note on it instead of a second lead. Never twice for a row."""
        todo = self.filtered(lambda row: not row.referral_lead_id)
        for row in todo:
            if not (row.phone or row.email):
                raise UserError(_("%s was shared without a phone or an e-mail: create the lead by hand "
                                  "once the customer gives a way to reach them.", row.name or _("A contact")))
            channel = self.env["lead.channel"].search([("company_id", "=", row.company_id.id),
                                                       ("channel_type", "=", "referral")], limit=1)
            if not channel:
                raise UserError(_("No Referral channel in %s: create one (CRM > Configuration > Channels, "
                                  "type Referral), then try again.", row.company_id.name))
            lead = row._capture_referral(channel)
            # sudo: salespeople only read these rows; the link mirrors the capture they just made
            row.sudo().referral_lead_id = lead
        return todo

    def _capture_referral(self, channel):
        self.ensure_one()
        referrer = self.referrer_id or self.lead_id.partner_id
        payload = {"name": self.name or self.phone or self.email, "phone": self.phone, "email": self.email,
                   "message": _("Contact shared on WhatsApp by %s.", referrer.display_name),
                   "referred_by_id": referrer.id or False, "captured_by": self.env.uid}
        # the inbox is readable by managers only: the agent's capture is stored on their behalf
        event = self.env["lead.channel.event"].sudo().create({
            "channel_id": channel.id, "kind": "manual", "payload": json.dumps(payload),
            "external_id": "referral:%s:%s" % (self.id, secrets.token_hex(6)),
        })
        event._process()
        if event.state != "done":
            raise UserError(_("The referral lead of %(name)s could not be created: %(error)s",
                              name=self.name, error=event.error))
        return event.lead_id

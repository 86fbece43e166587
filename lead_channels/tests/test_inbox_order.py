from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon


@tagged("post_install", "-at_install")
class TestInboxOrder(ChannelsCommon, TransactionCase):
    """The inbox job takes the first message of a new contact first (their lead
    has no owner yet), the rest in arrival order, a contact's messages in order."""

    def test_first_message_of_new_contacts_first(self):
        self.deliver_direct(self.wa, self.wa_one("wamid.K1", wa_id="60123450001"))
        self.process_all()  # a known contact now (its lead and contact keys exist)
        ids = {}
        for wamid, wa_id in (("K2", "60123450001"), ("N1", "60123450002"), ("N2", "60123450002"),
                             ("M1", "60123450003"), ("K3", "60123450001")):
            new_ids, _dups = self.deliver_direct(self.wa, self.wa_one("wamid." + wamid, wa_id=wa_id))
            ids[new_ids[0]] = wamid
        # a payload that cannot be read keeps its place in the queue (it fails on its own)
        other, _dups = self.Event.sudo()._store(self.wa.id, [("whatsapp_message", "wamid.BROKEN", "{}")])
        ids[other[0]] = "BROKEN"
        run = {"first": {}, "keys": set()}
        next_ids, new_contacts = self.Event._next_ids(run, 200)
        self.assertTrue(new_contacts)
        self.assertEqual([ids[i] for i in next_ids if i in ids], ["N1", "M1"],
                         "the first messages of new contacts, alone")
        # classified once per run; a later delivery of N is not moved ahead any more
        new_ids, _dups = self.deliver_direct(self.wa, self.wa_one("wamid.N3", wa_id="60123450002"))
        ids[new_ids[0]] = "N3"
        self.assertEqual([ids[i] for i in self.Event._next_ids(run, 200)[0] if i in ids], ["N1", "M1"])
        self.Event.browse(next_ids)._process()
        # then everything else, in arrival order
        next_ids, new_contacts = self.Event._next_ids(run, 200)
        self.assertFalse(new_contacts)
        self.assertEqual([ids[i] for i in next_ids if i in ids], ["K2", "N2", "K3", "BROKEN", "N3"])
        # processing in that order: one lead per contact, messages counted
        self.Event.browse(next_ids)._process()
        for wa_id, count in (("60123450001", 3), ("60123450002", 3), ("60123450003", 1)):
            lead = self.Lead.search([("channel_contact_ref", "=", wa_id)])
            self.assertEqual(len(lead), 1)
            self.assertEqual(lead.lead_inbound_count, count)

    def test_chunk_creates_the_leads_of_new_contacts_together(self):
        partner = self.env["res.partner"].create({"name": "Known Customer", "phone": "+60 12-345 0011"})
        self.deliver_direct(self.wa, self.wa_one("wamid.K1", wa_id="60123450019"))
        self.process_all()
        known_lead = self.Lead.search([("channel_contact_ref", "=", "60123450019")])
        ids = {}
        for wamid, wa_id, name in (("A1", "60123450011", "Aina"), ("B1", "60123450012", "Bala"),
                                   ("K2", "60123450019", "Kim"), ("B2", "60123450012", "Bala"),
                                   ("C1", "60123450013", "Chong")):
            new_ids, _dups = self.deliver_direct(
                self.wa, self.wa_one("wamid." + wamid, wa_id=wa_id, name=name, text="Hello from " + wamid))
            ids[wamid] = new_ids[0]
        events = self.Event.sudo().browse(list(ids.values()))
        prepared = events._prepare_new_contacts()
        self.assertEqual(set(prepared), {ids["A1"], ids["B1"], ids["C1"]},
                         "first messages of contacts without a lead only")
        events.with_context(lead_channels_prepared=prepared)._process()
        self.assertEqual(set(events.mapped("state")), {"done"})
        for wamid, wa_id, count in (("A1", "60123450011", 1), ("B1", "60123450012", 2),
                                    ("C1", "60123450013", 1), ("K2", "60123450019", 2)):
            lead = self.Lead.search([("channel_contact_ref", "=", wa_id)])
            self.assertEqual(len(lead), 1, wa_id)
            self.assertEqual(lead.lead_inbound_count, count, wa_id)
            self.assertEqual(lead.channel_id, self.wa)
            self.assertEqual(lead.team_id, self.team)
            self.assertTrue(lead.wa_last_inbound_at)
            message = lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid." + wamid)
            self.assertEqual(message.author_id, lead.partner_id)
            self.assertIn("Hello from " + wamid, message.body)
        lead_a = self.Lead.search([("channel_contact_ref", "=", "60123450011")])
        self.assertEqual(lead_a.partner_id, partner, "an existing customer's partner is reused")
        self.assertEqual(lead_a.phone_sanitized, "+60123450011")
        self.assertEqual(self.Lead.search([("channel_contact_ref", "=", "60123450012")]).partner_id.name, "Bala")
        self.assertEqual(self.Lead.search([("channel_contact_ref", "=", "60123450019")]), known_lead)
        # the same chunk again: nothing left to prepare, nothing doubled
        self.assertEqual(events._prepare_new_contacts(), {})

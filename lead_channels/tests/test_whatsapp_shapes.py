from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon


@tagged("post_install", "-at_install")
class TestWhatsappShapes(ChannelsCommon, TransactionCase):
    """Issue 19, the shapes that lost data: each ends done or ignored with a reason."""

    def deliver(self, message, contacts=None):
        self.deliver_direct(self.wa, self.wa_delivery([message], contacts if contacts is not None else [
            {"profile": {"name": "Customer"}, "wa_id": message.get("from")}]))
        events = self.process_all()
        return events

    def customer_lines(self, lead):
        return lead.message_ids.filtered(lambda m: m.author_id == lead.partner_id).mapped("body")

    def test_number_outside_the_phone_library_is_kept(self):
        first = self.deliver({"from": "972987654321", "id": "wamid.IL1", "timestamp": "1763880000",
                              "type": "text", "text": {"body": "Shalom, price?"}})
        second = self.deliver({"from": "972987654321", "id": "wamid.IL2", "timestamp": "1763880010",
                               "type": "image", "image": {"id": "MEDIA1", "caption": "this one"}})
        self.assertEqual((first.state, second.state), ("done", "done"), (first.error, second.error))
        lead = self.leads_of(self.wa)
        self.assertEqual(len(lead), 1, "the second message reaches the same lead")
        self.assertEqual(lead.phone, "+972987654321", "WhatsApp verified the number: it is kept")
        self.assertEqual(len(self.customer_lines(lead)), 2)

    def test_removed_reaction_posts_nothing_and_reactions_do_not_count(self):
        self.deliver(self.wa_message("wamid.T1")[0])
        lead = self.leads_of(self.wa)
        lines = len(lead.message_ids)
        removed = self.deliver({"from": "60123456789", "id": "wamid.R0", "timestamp": "1763880020",
                                "type": "reaction", "reaction": {"message_id": "wamid.OUT", "emoji": ""}})
        self.assertEqual(removed.state, "ignored")
        self.assertIn("removed a reaction", removed.error)
        self.assertEqual(len(lead.message_ids), lines, "nothing posted")
        added = self.deliver({"from": "60123456789", "id": "wamid.R1", "timestamp": "1763880030",
                              "type": "reaction", "reaction": {"message_id": "wamid.OUT", "emoji": "\U0001F44D"}})
        self.assertEqual(added.state, "done")
        self.assertIn("[reaction] \U0001F44D", self.customer_lines(lead)[0])
        self.assertEqual(lead.lead_inbound_count, 1, "a reaction is no new message from the customer")

    def test_user_changed_number_moves_the_conversation(self):
        self.deliver(self.wa_message("wamid.N1")[0])
        lead = self.leads_of(self.wa)
        change = self.deliver({"from": "60123456789", "id": "wamid.SYS1", "timestamp": "1763880040",
                               "type": "system", "system": {
                                   "body": "User Ahmad changed from +60 12-345 6789 to +60 13-999 8888",
                                   "new_wa_id": "60139998888", "type": "user_changed_number"}}, contacts=[])
        self.assertEqual(change.state, "done", change.error)
        self.assertEqual(lead.phone_sanitized, "+60139998888")
        self.assertEqual(lead.partner_id.phone_sanitized, "+60139998888", "the contact learns it too")
        self.assertIn("Customer changed number from +60123456789 to +60139998888", self.customer_lines(lead)[0])
        self.deliver(self.wa_message("wamid.N2", wa_id="60139998888", text="It's me, new phone")[0])
        self.assertEqual(self.leads_of(self.wa), lead, "the new number reaches the same lead")

    def test_user_changed_user_id(self):
        withheld = {"from_user_id": "MY.BSUID.1", "id": "wamid.U1", "timestamp": "1763880000",
                    "type": "text", "text": {"body": "Hi"}}
        self.deliver(withheld, contacts=[{"profile": {"name": "Mei"}, "user_id": "MY.BSUID.1"}])
        lead = self.leads_of(self.wa)
        change = self.deliver({"from_user_id": "MY.BSUID.1", "id": "wamid.U2", "timestamp": "1763880050",
                               "type": "system", "system": {"body": "Mei changed their user id",
                                                            "user_id": "MY.BSUID.2",
                                                            "type": "user_changed_user_id"}}, contacts=[])
        self.assertEqual(change.state, "done", change.error)
        self.assertEqual(lead.channel_contact_ref, "MY.BSUID.2")
        unknown = self.deliver({"from_user_id": "MY.BSUID.9", "id": "wamid.U3", "timestamp": "1763880060",
                                "type": "system", "system": {"body": "x", "user_id": "MY.BSUID.10",
                                                             "type": "user_changed_user_id"}}, contacts=[])
        self.assertEqual(unknown.state, "ignored", "not failed: nothing to retry")
        self.assertIn("no open lead knows the old one", unknown.error)

    def test_order_unsupported_and_meta_errors_say_what_came(self):
        self.deliver(self.wa_message("wamid.O0")[0])
        lead = self.leads_of(self.wa)
        order = self.deliver({"from": "60123456789", "id": "wamid.O1", "timestamp": "1763880070",
                              "type": "order", "order": {"catalog_id": "C1", "text": "Friday please",
                                                         "product_items": [{"product_retailer_id": "SKU-1",
                                                                            "quantity": "2", "item_price": "10.50",
                                                                            "currency": "MYR"}]}})
        self.assertEqual(order.state, "done")
        self.assertIn("2 x SKU-1 @ 10.50 MYR", self.customer_lines(lead)[0])
        self.assertIn("Friday please", self.customer_lines(lead)[0])
        unsupported = self.deliver({"from": "60123456789", "id": "wamid.X1", "timestamp": "1763880080",
                                    "type": "unsupported", "errors": [{"code": 131051, "title": "Message type unknown"}]})
        self.assertEqual(unsupported.state, "done")
        self.assertIn("Message type unknown", self.customer_lines(lead)[0])
        self.deliver_direct(self.wa, {"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{
            "field": "messages", "value": {"messaging_product": "whatsapp", "errors": [
                {"code": 131000, "title": "Something went wrong",
                 "error_data": {"details": "Media download failed"}}]}}]}]})
        failed_delivery = self.process_all()
        self.assertEqual(failed_delivery.state, "ignored")
        self.assertIn("Something went wrong - Media download failed", failed_delivery.error)


@tagged("post_install", "-at_install")
class TestSharedContactReferrals(ChannelsCommon, TransactionCase):
    """A customer sharing a friend's contact is a referral in the making: one
    click turns the cards into referral leads, never twice."""

    def share(self, wamid, cards, wa_id="60123456789", name="Aisyah Rahman"):
        message = {"from": wa_id, "id": wamid, "timestamp": "1764490090", "type": "contacts", "contacts": cards}
        self.deliver_direct(self.wa, self.wa_delivery([message], [{"profile": {"name": name}, "wa_id": wa_id}]))
        event = self.process_all()
        self.assertEqual(event.state, "done", event.error)
        return event.lead_id

    LIM = {"name": {"formatted_name": "Lim Wei Ming", "first_name": "Wei Ming", "last_name": "Lim"},
           "phones": [{"phone": "+60 12-888 7766", "wa_id": "60128887766", "type": "CELL"}],
           "emails": [{"email": "weiming.lim@example.com", "type": "WORK"}]}
    PRIYA = {"name": {"formatted_name": "Priya Nair"}, "phones": [{"phone": "017-222 3344", "type": "MOBILE"}]}

    def test_one_click_creates_referral_leads_once(self):
        aisyah = self.share("wamid.SC1", [self.LIM, self.PRIYA])
        line = aisyah.message_ids.filtered(lambda m: m.wa_message_id == "wamid.SC1").body
        self.assertIn("Lim Wei Ming (+60 12-888 7766)", line, "names and phones are shown")
        self.assertIn("Priya Nair (017-222 3344)", line)
        shared = aisyah.channel_shared_contact_ids
        self.assertEqual(shared.mapped("phone"), ["+60128887766", "+60172223344"])
        self.assertTrue(aisyah.channel_referrals_pending)

        aisyah.with_user(self.salesman).action_create_referral_leads()
        referrals = shared.referral_lead_id
        self.assertEqual(len(referrals), 2)
        referral_medium = self.env.ref("lead_scoring.utm_medium_referral")
        for lead in referrals:
            self.assertEqual(lead.medium_id, referral_medium, "scores as came via referral")
            self.assertEqual(lead.lead_referred_by_id, aisyah.partner_id, "referred by the customer")
            self.assertEqual(lead.channel_id.channel_type, "referral")
        lim = shared.filtered(lambda row: row.name == "Lim Wei Ming").referral_lead_id
        self.assertEqual((lim.phone_sanitized, lim.email_from), ("+60128887766", "weiming.lim@example.com"))
        self.assertTrue(lim.message_ids.filtered(lambda m: "Contact shared on WhatsApp by Aisyah Rahman" in m.body))
        self.assertFalse(aisyah.channel_referrals_pending)
        with self.assertRaisesRegex(UserError, "No contact shared by this customer is waiting"):
            aisyah.with_user(self.salesman).action_create_referral_leads()

        # the same card shared again, and by another customer: still one lead for Lim
        self.share("wamid.SC2", [self.LIM])
        self.assertEqual(len(aisyah.channel_shared_contact_ids), 2, "a card shared again is kept once")
        mei = self.share("wamid.SC3", [self.LIM], wa_id="60197776655", name="Tan Mei Ling")
        mei.with_user(self.salesman).action_create_referral_leads()
        self.assertEqual(mei.channel_shared_contact_ids.referral_lead_id, lim, "never twice for the same phone")
        self.assertEqual(self.Lead.search_count([("phone_sanitized", "=", "+60128887766")]), 1)

    def test_a_card_without_phone_or_email_says_what_to_do(self):
        lead = self.share("wamid.SC4", [{"name": {"formatted_name": "Uncle Tan"}}])
        self.assertEqual(lead.channel_shared_contact_ids.name, "Uncle Tan")
        with self.assertRaisesRegex(UserError, "Uncle Tan was shared without a phone or an e-mail"):
            lead.with_user(self.salesman).action_create_referral_leads()


@tagged("post_install", "-at_install")
class TestNeverPostedAndFailed(ChannelsCommon, TransactionCase):
    """Issue 19: no state in which content was posted but the event is failed,
    and no retry posts content twice."""

    def test_nul_characters_do_not_fail_forever(self):
        # JSON may carry \u0000, PostgreSQL text cannot: every retry failed the same way
        self.deliver_direct(self.wa, self.wa_one("wamid.NUL1", text="Harga\u0000 unit?", name="Ah\u0000mad"))
        event = self.process_all()
        self.assertEqual(event.state, "done", event.error)
        lead = event.lead_id
        self.assertEqual(lead.partner_id.name, "Ahmad")
        self.assertEqual(len(lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.NUL1")), 1)
        self.assertIn("Harga unit?", event.posted_message_id.body)

    def test_retry_of_posted_content_never_posts_twice(self):
        # the state the issue saw: the image's content posted, its event failed
        self.deliver_direct(self.wa, self.wa_one("wamid.IL1", wa_id="972987654321", text="Shalom, price?"))
        self.process_all()
        self.deliver_direct(self.wa, self.wa_delivery([{
            "from": "972987654321", "id": "wamid.IL2", "timestamp": "1763880010", "type": "image",
            "image": {"id": "MEDIA1", "caption": "this one"}}], [{"profile": {"name": "Dov"}, "wa_id": "972987654321"}]))
        image = self.process_all()
        self.assertEqual(image.state, "done", image.error)
        image.write({"state": "failed", "error": "a failure after posting", "posted_message_id": False})
        image.action_retry()
        lead = self.leads_of(self.wa)
        self.assertEqual(len(lead), 1)
        self.assertEqual(image.state, "done", "its content is on the lead: done, not failed (%s)" % image.error)
        self.assertEqual(len(lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.IL2")), 1,
                         "the retry did not post the image twice")
        self.assertEqual(lead.lead_inbound_count, 2, "nor count it twice")
        self.assertEqual(image.posted_message_id.wa_message_id, "wamid.IL2")

    def test_failure_after_posting_keeps_the_event_done(self):
        # an event whose message is on the lead, failing later (e.g. its media), is not failed
        self.deliver_direct(self.wa, self.wa_one("wamid.P1"))
        event = self.process_all()
        event._mark_failed(UserError("The media could not be downloaded"))
        self.assertEqual(event.state, "done")
        self.assertIn("The media could not be downloaded", event.error)

    def test_second_channel_of_the_same_number_posts_once(self):
        twin = self.wa.copy({"name": "WhatsApp Sales (2)"})
        self.deliver_direct(self.wa, self.wa_one("wamid.TW1"))
        self.deliver_direct(twin, self.wa_one("wamid.TW1"))
        first, second = self.process_all().sorted("id")
        self.assertEqual((first.state, second.state), ("done", "done"), (first.error, second.error))
        self.assertEqual(second.posted_message_id, first.posted_message_id)
        self.assertEqual(first.lead_id.lead_inbound_count, 1)

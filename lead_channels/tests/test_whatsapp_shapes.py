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

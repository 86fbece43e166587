from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon

NOW = datetime(2026, 11, 23, 10, 0, 0)


@tagged("post_install", "-at_install")
class TestWhatsappEchoes(ChannelsCommon, TransactionCase):
    """Messages the business sends from the WhatsApp Business app (coexistence),
    which Meta reports as ``smb_message_echoes``."""

    def echo(self, wamid, text, to="60123456789", at=NOW, field="smb_message_echoes"):
        self.deliver_direct(self.wa, {"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [
            {"field": field, "value": {
                "messaging_product": "whatsapp",
                "metadata": {"display_phone_number": "60380001000", "phone_number_id": "PNID1"},
                "message_echoes": [{"from": "60380001000", "to": to, "id": wamid, "type": "text",
                                    "timestamp": str(int(at.timestamp())), "text": {"body": text}}]}}]}]})
        return self.process_all()

    @freeze_time(NOW)
    def test_echo_is_the_answer_once_and_never_a_lead(self):
        self.deliver_direct(self.wa, self.wa_one("wamid.IN1", timestamp=int(NOW.timestamp()) - 600))
        lead = self.process_all().lead_id
        lead.user_id = self.salesman
        self.assertTrue(lead.channel_awaiting_reply)
        comments = lead.message_ids.filtered(lambda m: m.message_type == "comment")
        event = self.echo("wamid.ECHO1", "Yes, the unit is available. Viewing Saturday?", at=NOW - timedelta(minutes=2))
        self.assertEqual((event.kind, event.state, event.lead_id), ("echo", "done", lead))
        posted = lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.ECHO1")
        self.assertEqual(len(posted), 1)
        self.assertEqual((posted.author_id, posted.message_type), (self.salesman.partner_id, "comment"))
        self.assertIn("Viewing Saturday?", posted.body)
        self.assertFalse(lead.channel_awaiting_reply)
        self.assertEqual(lead.channel_last_message, "Yes, the unit is available. Viewing Saturday?")
        self.assertEqual(lead.lead_inbound_count, 1, "our own message is no customer message")
        if "sla_first_response_date" in lead._fields:  # lead_sla installed: it is the first response
            self.assertTrue(lead.sla_first_response_date)
        # Meta delivers it again (other field name): still one message
        self.echo("wamid.ECHO1", "Yes, the unit is available. Viewing Saturday?", field="message_echoes")
        self.assertEqual(len(lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.ECHO1")), 1)
        self.assertEqual(len(lead.message_ids.filtered(lambda m: m.message_type == "comment")), len(comments) + 1)
        # a message of ours to a number without an open lead creates nothing
        leads_before = self.Lead.search_count([])
        stray = self.echo("wamid.ECHO2", "Happy Deepavali!", to="60199998888")
        self.assertEqual((stray.state, stray.lead_id.id), ("ignored", False))
        self.assertEqual(self.Lead.search_count([]), leads_before)

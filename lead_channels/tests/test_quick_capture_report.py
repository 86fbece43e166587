from datetime import timedelta

from freezegun import freeze_time

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import TransactionCase, tagged

from .common import ChannelsCommon


@tagged("post_install", "-at_install")
class TestQuickCaptureAndReports(ChannelsCommon, TransactionCase):

    def capture(self, channel, **values):
        wizard = self.env["lead.channel.quick.capture"].with_user(self.salesman).create(
            dict({"channel_id": channel.id}, **values))
        return wizard.action_capture()

    def test_walk_in_normalises_phone(self):
        action = self.capture(self.walk_in, name="Encik Razak", phone="013 456 7890", message="Show unit B-12-3")
        lead = self.env["crm.lead"].browse(action["res_id"])
        self.assertEqual(lead.channel_id, self.walk_in)
        self.assertEqual(lead.phone_sanitized, "+60134567890")
        self.assertEqual(lead.source_id, self.env.ref("lead_channels.utm_source_walk_in"))
        msg = lead.message_ids.filtered(lambda m: m.message_type == "comment")
        # issue 17.1: the agent typed it, so the agent is its author (it was the customer before)
        self.assertEqual(msg.author_id, self.salesman.partner_id)
        self.assertNotEqual(msg.author_id, lead.partner_id)

    def test_walk_in_words_are_read_for_buying_signals(self):
        """The agent types what the customer said: lead_scoring reads it like a
        customer's own message (issue 18: walk-in notes are read too)."""
        self.env.company.write({"lead_read_signals": True, "currency_id": self.env.ref("base.MYR").id})
        action = self.capture(self.walk_in, name="Puan Aminah", phone="013 456 7891",
                              message="Budget bawah RM 700k, nak tengok unit contoh minggu ni")
        lead = self.env["crm.lead"].browse(action["res_id"])
        self.assertEqual(lead.lead_budget, 700000)
        self.assertTrue(lead.lead_meeting_requested)
        self.assertEqual(lead.lead_timeline, "week")

    def test_referral_records_referrer_separately(self):
        referrer = self.env["res.partner"].create({"name": "Puan Zainab (happy buyer)"})
        with self.assertRaisesRegex(UserError, "referred"):
            self.capture(self.referral, name="Hafiz", phone="0145556666")
        lead = self.env["crm.lead"].browse(self.capture(
            self.referral, name="Hafiz", phone="0145556666", referred_by_id=referrer.id)["res_id"])
        self.assertEqual(lead.lead_referred_by_id, referrer)
        self.assertNotEqual(lead.partner_id, referrer)
        self.assertEqual(lead.partner_id.name, "Hafiz")

    def test_capture_rejects_bad_phone(self):
        with self.assertRaisesRegex(UserError, "not a valid phone"):
            self.capture(self.walk_in, name="X", phone="12")
        with self.assertRaisesRegex(UserError, "phone number or an e-mail"):
            self.capture(self.walk_in, name="X")

    def test_channel_health_and_conversion(self):
        self.assertEqual(self.wa.health_state, "idle")
        for wamid, wa_id in (("wamid.H1", "60120000001"), ("wamid.H2", "60120000002")):
            self.deliver_direct(self.wa, self.wa_one(wamid, wa_id=wa_id))
        self.deliver_direct(self.wa, self.wa_one("wamid.H1", wa_id="60120000001"))  # duplicate
        self.process_all()
        self.wa.invalidate_recordset()
        self.assertEqual((self.wa.event_count, self.wa.duplicate_count, self.wa.failed_count), (3, 1, 0))
        self.assertEqual(self.wa.health_state, "ok")
        won = self.env["crm.stage"].search([("is_won", "=", True)], limit=1)
        self.leads_of(self.wa)[0].stage_id = won
        self.env.flush_all()
        self.wa.invalidate_recordset()
        self.assertEqual((self.wa.lead_count, self.wa.won_count), (2, 1))
        self.assertEqual(self.wa.conversion_rate, 50.0)
        rows = self.env["lead.channel.report"]._read_group(
            [("channel_id", "=", self.wa.id)], ["channel_id"], ["lead_count:sum", "won_count:sum", "conversion_rate:avg"])
        self.assertEqual(rows[0][1:], (2, 1, 50.0))
        with freeze_time(fields.Datetime.now() + timedelta(days=3)):
            self.wa.invalidate_recordset()
            self.assertEqual(self.wa.health_state, "warning")
            self.assertIn("no delivery since", self.wa.health_message)

    def test_failed_events_warn(self):
        self.deliver_direct(self.wa, {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [
            {"field": "messages", "value": {"messages": [{"id": "wamid.NOSENDER", "type": "text"}]}}]}]})
        self.process_all()
        self.wa.invalidate_recordset()
        self.assertEqual(self.wa.health_state, "warning")
        self.assertIn("failed", self.wa.health_message)

    def test_retention_purges_processed_events_only(self):
        self.env.company.lead_channel_retention_days = 30
        self.deliver_direct(self.wa, self.wa_one("wamid.OLD"))
        self.deliver_direct(self.wa, {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [
            {"field": "messages", "value": {"messages": [{"id": "wamid.OLDFAIL", "type": "text"}]}}]}]})
        self.process_all()
        self.env.cr.execute("UPDATE lead_channel_event SET received_at = received_at - interval '40 days'")
        self.deliver_direct(self.wa, self.wa_one("wamid.NEW", wa_id="60120000009"))
        self.process_all()
        self.Event._gc_processed_events()
        self.env.invalidate_all()
        remaining = self.Event.search([("channel_id", "=", self.wa.id)]).mapped("external_id")
        self.assertEqual(sorted(remaining), ["wamid.NEW", "wamid.OLDFAIL"])

    def test_settings(self):
        settings = self.env["res.config.settings"].create({
            "lead_channel_team_id": self.team.id, "lead_channel_retention_days": 15})
        settings.execute()
        self.assertEqual(self.env.company.lead_channel_team_id, self.team)
        self.assertEqual(self.env.company.lead_channel_retention_days, 15)
        self.assertEqual(settings.action_lead_channels()["res_model"], "lead.channel")
        lead = self.env["crm.lead"].browse(self.capture(self.walk_in, name="T", phone="011-2345 6789")["res_id"])
        self.assertEqual(lead.team_id, self.team, "channel without team: the default team")

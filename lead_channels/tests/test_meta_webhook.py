import json

from odoo.tests import HttpCase, tagged

from .common import VERIFY_TOKEN, ChannelsCommon


@tagged("post_install", "-at_install")
class TestMetaWebhook(ChannelsCommon, HttpCase):

    def post(self, channel_or_token, body, signature="auto", headers=None):
        token = channel_or_token if isinstance(channel_or_token, str) else channel_or_token.token
        hdrs = {"Content-Type": "application/json"}
        if signature == "auto":
            hdrs["X-Hub-Signature-256"] = self.sign(body)
        elif signature:
            hdrs["X-Hub-Signature-256"] = signature
        hdrs.update(headers or {})
        return self.opener.post(self.base_url() + "/lead_channels/meta/%s" % token, data=body,
                                headers=hdrs, timeout=20)

    # ------------------------------------------------------------ handshake
    def test_verification_handshake(self):
        url = "/lead_channels/meta/%s?hub.mode=subscribe&hub.verify_token=%s&hub.challenge=1158201444"
        ok = self.url_open(url % (self.wa.token, VERIFY_TOKEN))
        self.assertEqual((ok.status_code, ok.text), (200, "1158201444"))
        wrong = self.url_open(url % (self.wa.token, "nope"))
        self.assertEqual(wrong.status_code, 403)
        self.assertNotIn("1158201444", wrong.text)
        bad_mode = self.url_open(url.replace("subscribe", "unsubscribe") % (self.wa.token, VERIFY_TOKEN))
        self.assertEqual(bad_mode.status_code, 403)
        self.assertEqual(self.url_open(url % ("unknown-token", VERIFY_TOKEN)).status_code, 404)

    # ------------------------------------------------------------ signatures
    def test_valid_signature_non_ascii_creates_lead_with_customer_author(self):
        text = "Salam, rumah di Cheras masih ada? 价格多少？ ✓"
        body = self.body_of(self.wa_one("wamid.NA1", text=text, name="Nur Aisyah"))
        response = self.post(self.wa, body)
        self.assertEqual(response.status_code, 200)
        event = self.Event.search([("channel_id", "=", self.wa.id), ("external_id", "=", "wamid.NA1")])
        self.assertEqual(event.state, "new", "stored first, processed by the triggered cron")
        self.assertEqual(event.payload.encode("utf-8"), body, "the raw body is kept verbatim")
        for lane in ("lead_channels.ir_cron_process_events", "lead_channels.ir_cron_process_new_contacts"):
            self.assertTrue(self.env["ir.cron.trigger"].search([("cron_id", "=", self.env.ref(lane).id)]),
                            "both inbox jobs are woken up")
        self.Event._cron_process_events()
        self.assertEqual(event.state, "done")
        lead = event.lead_id
        self.assertEqual(lead.channel_id, self.wa)
        self.assertEqual(lead.phone_sanitized, "+60123456789")
        self.assertEqual(lead.channel_contact_ref, "60123456789")
        self.assertEqual(lead.team_id, self.team)
        self.assertFalse(lead.user_id, "routing is left to whoever routes leads")
        self.assertEqual(lead.lead_inbound_count, 1)
        self.assertTrue(lead.wa_last_inbound_at)
        self.assertEqual(lead.source_id, self.env.ref("lead_channels.utm_source_whatsapp"))
        message = lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.NA1")
        self.assertEqual(len(message), 1)
        self.assertIn("价格多少", message.body)
        self.assertEqual(message.author_id, lead.partner_id)
        self.assertEqual(message.author_id.name, "Nur Aisyah")
        self.assertEqual(message.message_type, "comment")
        self.assertEqual(message.subtype_id, self.env.ref("mail.mt_comment"))
        self.assertFalse(message.author_id.user_ids, "the customer, not OdooBot nor the public user")

    def test_missing_and_wrong_signatures_store_nothing(self):
        body = self.body_of(self.wa_one("wamid.SIG", text="Boleh nego? ü"))
        before = self.Event.search_count([])
        self.assertEqual(self.post(self.wa, body, signature=None).status_code, 403)
        self.assertEqual(self.post(self.wa, body, signature="sha256=" + "0" * 64).status_code, 403)
        self.assertEqual(self.post(self.wa, body, signature=self.sign(body, "other-secret")).status_code, 403)
        self.assertEqual(self.post(self.wa, body, signature="sha1=abc").status_code, 403)
        # signature of the body re-encoded differently (escaped unicode) is not the raw body's
        other = json.dumps(json.loads(body)).encode()
        self.assertEqual(self.post(self.wa, body, signature=self.sign(other)).status_code, 403)
        self.assertEqual(self.Event.search_count([]), before)

    def test_unknown_token_malformed_oversize(self):
        body = self.body_of(self.wa_one("wamid.X"))
        self.assertEqual(self.post("no-such-token", body).status_code, 404)
        archived = self.wa.copy({"name": "Old line"})
        archived.active = False
        self.assertEqual(self.post(archived, body).status_code, 404)
        bad = b'{"object": "whatsapp_business_account", "entry": ['
        response = self.post(self.wa, bad)
        self.assertEqual(response.status_code, 400)
        self.assertIn("not JSON", response.text)
        self.assertLess(len(response.text), 100)
        big = b'{"pad": "' + b"x" * (1024 * 1024 + 10) + b'"}'
        self.assertEqual(self.post(self.wa, big).status_code, 413)
        self.assertFalse(self.Event.search([("channel_id", "=", self.wa.id)]))

    # ------------------------------------------------------------ duplicates / order
    def test_duplicate_delivery_one_lead_one_message(self):
        body = self.body_of(self.wa_one("wamid.DUP"))
        self.assertEqual(self.post(self.wa, body).status_code, 200)
        self.Event._cron_process_events()
        self.assertEqual(self.post(self.wa, body).status_code, 200)  # Meta retries
        self.Event._cron_process_events()
        events = self.Event.search([("external_id", "=", "wamid.DUP")])
        self.assertEqual(sorted(events.mapped("state")), ["done", "duplicate"])
        self.assertEqual(events.mapped("payload")[0], events.mapped("payload")[1], "the copy is kept too")
        leads = self.leads_of(self.wa)
        self.assertEqual(len(leads), 1)
        self.assertEqual(len(leads.message_ids.filtered(lambda m: m.wa_message_id == "wamid.DUP")), 1)
        self.assertEqual(leads.lead_inbound_count, 1)
        self.assertEqual(self.wa.duplicate_count, 1)

    def test_out_of_order_and_batches(self):
        later, contact = self.wa_message("wamid.B2", text="second", timestamp=1763880100)
        earlier, _c = self.wa_message("wamid.B1", text="first", timestamp=1763880000)
        other, other_contact = self.wa_message("wamid.C1", wa_id="60198765432", name="Chong")
        # later message first; then a batch with two entries, the earlier message and another sender
        self.assertEqual(self.post(self.wa, self.body_of(self.wa_delivery([later], [contact]))).status_code, 200)
        batch = self.wa_delivery([earlier], [contact])
        batch["entry"].append(self.wa_delivery([other], [other_contact])["entry"][0])
        self.assertEqual(self.post(self.wa, self.body_of(batch)).status_code, 200)
        self.Event._cron_process_events()
        leads = self.leads_of(self.wa)
        self.assertEqual(len(leads), 2)
        ahmad = leads.filtered(lambda lead: lead.phone_sanitized == "+60123456789")
        self.assertEqual(ahmad.lead_inbound_count, 2)
        wa_messages = ahmad.message_ids.filtered("wa_message_id").sorted("date")
        self.assertEqual(wa_messages.mapped("wa_message_id"), ["wamid.B1", "wamid.B2"],
                         "chatter follows the customer's timestamps, not the delivery order")
        from datetime import datetime
        self.assertEqual(ahmad.wa_last_inbound_at, datetime.utcfromtimestamp(1763880100))

    def test_status_only_payload_is_ignored(self):
        body = self.body_of(self.wa_delivery(statuses=[
            {"id": "wamid.OUT1", "status": "delivered", "timestamp": "1763880000",
             "recipient_id": "60123456789"}]))
        self.assertEqual(self.post(self.wa, body).status_code, 200)
        self.Event._cron_process_events()
        event = self.Event.search([("channel_id", "=", self.wa.id)])
        self.assertEqual((event.kind, event.state), ("whatsapp_status", "ignored"))
        self.assertFalse(self.leads_of(self.wa))

    def test_bsuid_when_phone_withheld(self):
        data = self.wa_delivery(
            [{"from_user_id": "MY.1234567890", "id": "wamid.BS1", "timestamp": "1763880000",
              "type": "location", "location": {"latitude": 3.139, "longitude": 101.6869, "name": "KL Sentral"}}],
            [{"profile": {"name": "Hidden Number"}, "user_id": "MY.1234567890"}])
        self.assertEqual(self.post(self.wa, self.body_of(data)).status_code, 200)
        self.Event._cron_process_events()
        lead = self.leads_of(self.wa)
        self.assertEqual(lead.channel_contact_ref, "MY.1234567890")
        self.assertFalse(lead.phone)
        self.assertIn("maps.google.com/?q=3.139,101.6869", lead.message_ids[0].body)

    def test_referral_sets_ad_attribution(self):
        message, contact = self.wa_message("wamid.AD1", referral={
            "source_url": "https://fb.me/3cXyZ", "source_id": "120210000000001", "source_type": "ad",
            "headline": "Condo Cheras from RM450k", "body": "Book a viewing"})
        self.post(self.wa, self.body_of(self.wa_delivery([message], [contact])))
        self.Event._cron_process_events()
        lead = self.leads_of(self.wa)
        self.assertEqual(lead.ad_id, "120210000000001")
        self.assertEqual(lead.ad_headline, "Condo Cheras from RM450k")
        self.assertEqual(lead.ad_source_url, "https://fb.me/3cXyZ")
        self.assertEqual(lead.campaign_id.name, "Condo Cheras from RM450k")

    def test_messenger_instagram_and_echo(self):
        page = {"object": "page", "entry": [{"id": "PAGE1", "time": 1763880000000, "messaging": [
            {"sender": {"id": "PSID-77"}, "recipient": {"id": "PAGE1"}, "timestamp": 1763880000000,
             "message": {"mid": "m_1", "text": "Hello, price?"},
             "referral": {"ad_id": "AD55", "source": "ADS", "type": "OPEN_THREAD",
                          "ads_context_data": {"ad_title": "Raya Promo"}}},
            {"sender": {"id": "PAGE1"}, "recipient": {"id": "PSID-77"}, "timestamp": 1763880001000,
             "message": {"mid": "m_2", "text": "Thanks for asking", "is_echo": True}}]}]}
        self.assertEqual(self.post(self.messenger, self.body_of(page)).status_code, 200)
        insta = {"object": "instagram", "entry": [{"id": "IG1", "time": 1, "messaging": [
            {"sender": {"id": "IGSID-9"}, "recipient": {"id": "IG1"}, "timestamp": 1763880000000,
             "message": {"mid": "ig_1", "text": "Still available?"}}]}]}
        self.assertEqual(self.post(self.instagram, self.body_of(insta)).status_code, 200)
        self.Event._cron_process_events()
        lead = self.leads_of(self.messenger)
        self.assertEqual((lead.channel_contact_ref, lead.ad_id), ("PSID-77", "AD55"))
        comments = lead.message_ids.filtered(lambda m: m.message_type == "comment")
        # the echo (our reply from Meta's app) is the company's answer, posted once
        self.assertEqual(len(comments), 2)
        echo = self.Event.search([("external_id", "=", "m_2")])
        self.assertEqual((echo.state, echo.lead_id), ("done", lead))
        self.assertEqual(comments.filtered(lambda m: m.meta_message_id == "m_2").author_id,
                         self.env.company.partner_id)
        self.assertFalse(lead.channel_awaiting_reply)
        self.assertEqual(lead.channel_last_message, "Thanks for asking")
        self.assertEqual(self.leads_of(self.instagram).channel_contact_ref, "IGSID-9")

    def test_unrecognised_payload_is_kept_not_dropped(self):
        body = self.body_of({"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [
            {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}]}]})
        self.assertEqual(self.post(self.wa, body).status_code, 200)
        self.Event._cron_process_events()
        event = self.Event.search([("channel_id", "=", self.wa.id)])
        self.assertEqual((event.kind, event.state), ("unknown", "ignored"))
        self.assertIn("VERIFIED_ACCOUNT", event.payload)

    def test_public_routes_expose_no_secret(self):
        body = self.body_of(self.wa_one("wamid.SEC"))
        for response in (self.post(self.wa, body), self.post(self.wa, body, signature=None),
                         self.url_open("/lead_channels/meta/%s?hub.mode=subscribe" % self.wa.token)):
            for secret in ("test-app-secret", VERIFY_TOKEN, "wa-token"):
                self.assertNotIn(secret, response.text)

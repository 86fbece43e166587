from odoo.tests import TransactionCase, tagged

from ..core.form import validate_submission
from .common import ChannelsCommon, GraphServer
from .test_lead_ads import LEADGEN


@tagged("post_install", "-at_install")
class TestOriginMedium(ChannelsCommon, TransactionCase):
    """Issue 11.5: the origin of a lead feeds scoring (Paid / Referral mediums)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.paid = cls.env.ref("lead_scoring.utm_medium_paid")
        cls.referral_medium = cls.env.ref("lead_scoring.utm_medium_referral")
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        cls.fb.graph_url = cls.graph.url

    def form_lead(self, name, channel=None, **utm):
        clean, errors = validate_submission(dict({"name": name, "email": "%s@example.com" % name}, **utm))
        self.assertFalse(errors)
        self.Event.sudo()._store((channel or self.form).id, [("form", "sub-%s" % name, clean)])
        return self.process_all().lead_id

    def test_click_to_whatsapp_ad_is_paid(self):
        message, contact = self.wa_message("wamid.CTWA", referral={
            "source_url": "https://fb.me/x", "source_id": "1202", "source_type": "ad", "headline": "Condo"})
        self.deliver_direct(self.wa, self.wa_delivery([message], [contact]))
        post, post_contact = self.wa_message("wamid.POST", wa_id="60129998877", referral={
            "source_url": "https://fb.me/p", "source_id": "99", "source_type": "post"})
        self.deliver_direct(self.wa, self.wa_delivery([post], [post_contact]))
        self.process_all()
        leads = {lead.phone_sanitized: lead for lead in self.leads_of(self.wa)}
        self.assertEqual(leads["+60123456789"].medium_id, self.paid)
        self.assertNotEqual(leads["+60129998877"].medium_id, self.paid, "an organic post is not an ad")
        self.assertGreater(leads["+60123456789"].lead_score, leads["+60129998877"].lead_score,
                           "the paid-ad rule scores it")

    def test_click_to_messenger_ad_is_paid(self):
        self.deliver_direct(self.messenger, {"object": "page", "entry": [{"id": "PAGE1", "messaging": [
            {"sender": {"id": "PSID-5"}, "recipient": {"id": "PAGE1"}, "timestamp": 1763880000000,
             "message": {"mid": "m_ad", "text": "Price?"},
             "referral": {"ad_id": "AD9", "source": "ADS", "type": "OPEN_THREAD"}}]}]})
        self.process_all()
        self.assertEqual(self.leads_of(self.messenger).medium_id, self.paid)

    def test_lead_ads_are_paid(self):
        self.graph.routes[("GET", "/v21.0/900001")] = (200, LEADGEN)
        self.deliver_direct(self.fb, {"object": "page", "entry": [{"id": "PAGE1", "changes": [
            {"field": "leadgen", "value": {"leadgen_id": "900001", "page_id": "PAGE1"}}]}]})
        event = self.process_all()
        self.assertEqual(event.state, "done", event.error)
        self.assertEqual(event.lead_id.medium_id, self.paid)

    def test_referral_channel_is_referral(self):
        referrer = self.env["res.partner"].create({"name": "Happy buyer"})
        lead = self.env["crm.lead"].browse(self.env["lead.channel.quick.capture"].create({
            "channel_id": self.referral.id, "name": "Hafiz", "phone": "0145556666",
            "referred_by_id": referrer.id}).action_capture()["res_id"])
        self.assertEqual(lead.medium_id, self.referral_medium)

    def test_web_form_mediums(self):
        self.assertEqual(self.form_lead("a", utm_medium="CPC").medium_id, self.paid)
        self.assertEqual(self.form_lead("b", utm_medium="Paid_Social").medium_id, self.paid)
        self.assertEqual(self.form_lead("c", utm_medium="display").medium_id, self.paid)
        self.assertEqual(self.form_lead("d", utm_medium="referral").medium_id, self.referral_medium)
        self.assertEqual(self.form_lead("e", utm_medium="newsletter").medium_id.name, "newsletter",
                         "other values work as before")
        self.assertFalse(self.env["utm.medium"].search([("name", "=ilike", "cpc")]), "no medium named cpc")

    def test_channels_own_medium_wins(self):
        own = self.env["utm.medium"].create({"name": "Partner site"})
        self.form.medium_id = own
        self.assertEqual(self.form_lead("f", utm_medium="cpc").medium_id, own)
        self.wa.medium_id = own
        message, contact = self.wa_message("wamid.OWN", referral={"source_id": "1", "source_type": "ad"})
        self.deliver_direct(self.wa, self.wa_delivery([message], [contact]))
        self.process_all()
        self.assertEqual(self.leads_of(self.wa).medium_id, own)

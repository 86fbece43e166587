from datetime import timedelta

from freezegun import freeze_time

from odoo.tests import tagged

from .common import T0
from .test_lead_nurture import DAY, LeadNurtureCase

SHIPPED = ("lead_sla.mail_template_nurture_cold_day1", "lead_sla.mail_template_nurture_cold_day3",
           "lead_sla.mail_template_nurture_lost_day30")


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadNurtureBatch(LeadNurtureCase):
    """The cron's e-mail steps render a template for many leads at once: the
    customers get exactly the texts of Odoo's per-record rendering, and one
    lead whose rendering fails does not stop the others."""

    def _leads(self):
        anon = self.env["res.partner"].create({"name": "", "email": "anon@customer.example.com"})
        siti = self.env["res.partner"].create({"name": "Siti <Aminah> & Co",
                                               "email": "siti@customer.example.com"})
        self.bob.phone = "+60 12-555 0101"
        leads = self._lead(partner_id=siti.id, name="Batch one")
        leads |= self._lead(partner_id=anon.id, contact_name="Ah Kow", name="Batch two",
                            user=self.bob)
        leads |= self._lead(partner_id=False, email_from="raj@customer.example.com",
                            contact_name="Raj", name="Batch three", user=self.env.ref("base.user_root"))
        return leads

    def test_batch_rendering_equals_per_record_rendering(self):
        leads = self._leads()
        for xmlid in SHIPPED:
            template = self.env.ref(xmlid)
            options = {"preserve_comments": True}
            expected = template._render_field("body_html", leads.ids, compute_lang=True,
                                              options=options)
            batch = template.with_context(lead_nurture_batch_render=True)
            rendered = batch._lead_nurture_render_body_batch(leads.ids, compute_lang=True,
                                                             options=options)
            self.assertIsNotNone(rendered, "the batch path must be taken for %s" % xmlid)
            self.assertEqual(rendered, expected, xmlid)
            self.assertIn("Siti &lt;Aminah&gt; &amp; Co", rendered[leads[0].id])
            self.assertIn("Ah Kow", rendered[leads[1].id])
            self.assertIn("+60 12-555 0101", rendered[leads[1].id])

    def test_cron_sends_each_lead_its_own_text(self):
        self.template.body_html = (
            "<p>Hello <t t-out=\"object.partner_id.name or object.contact_name\"/>,"
            " from <t t-out=\"object.user_id.name\"/>.</p>")
        leads = self.env["crm.lead"]
        for name in ("Aminah", "Kumar", "Mei Ling"):
            partner = self.env["res.partner"].create({"name": name,
                                                      "email": "%s@c.example.com" % len(name)})
            leads |= self._enrolled(partner_id=partner.id, name="Lead of %s" % name)
        sent, failed = self._run(T0 + DAY)
        self.assertEqual((sent, failed), (leads, leads.browse()))
        for lead in leads:
            mail = self.env["mail.mail"].search([("model", "=", "crm.lead"),
                                                 ("res_id", "=", lead.id)])
            self.assertEqual(len(mail), 1)
            self.assertIn("Hello %s, from Sla Alice." % lead.partner_id.name, mail.body_html)
            self.assertEqual(mail.recipient_ids, lead.partner_id)

    def test_one_failing_lead_does_not_stop_the_batch(self):
        # renders for a lead with a customer, fails for one without
        self.template.body_html = "<p>Hello <t t-out=\"object.partner_id.name.upper()\"/></p>"
        good = self._enrolled(name="Good lead")
        bad = self._enrolled(partner_id=False, email_from="nobody@customer.example.com",
                             name="Bad lead")
        sent, failed = self._run(T0 + DAY)
        self.assertEqual(sent, good)
        self.assertEqual(failed, bad)
        mail = self.env["mail.mail"].search([("model", "=", "crm.lead"), ("res_id", "=", good.id)])
        self.assertIn("Hello CUSTOMER CARL", mail.body_html)
        self.assertFalse(self.env["mail.mail"].search([("model", "=", "crm.lead"),
                                                       ("res_id", "=", bad.id)]))
        self.assertEqual(bad.nurture_failures, 1)
        self.assertEqual(bad.nurture_next_date, T0 + DAY + timedelta(minutes=15))
        with freeze_time(T0 + DAY):
            self.assertEqual(len(self._logs(good, "sent")), 1)
            self.assertFalse(self._logs(bad, "sent"))

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

    def test_batch_inline_fields_equal_per_record_rendering(self):
        # subject, sender and recipients: each {{ }} expression is evaluated
        # once for the batch, with the texts of Odoo's per-record rendering
        leads = self._leads()
        batched = 0
        for xmlid in SHIPPED:
            template = self.env.ref(xmlid)
            batch = template.with_context(lead_nurture_batch_render=True)
            for field in ("subject", "email_from", "partner_to", "email_to"):
                expected = template._render_field(field, leads.ids)
                self.assertEqual(batch._render_field(field, leads.ids), expected)
                # a fixed text or a plain field path is not evaluated at all
                if not template._has_unsafe_expression_template_inline_template(
                        template[field], "crm.lead"):
                    continue
                rendered = batch._lead_nurture_render_inline_batch(
                    template[field], "crm.lead", leads.ids)
                self.assertIsNotNone(rendered, "the batch path must be taken for %s.%s"
                                     % (xmlid, field))
                self.assertEqual(rendered, expected, "%s.%s" % (xmlid, field))
                batched += 1
        self.assertGreaterEqual(batched, 9)
        subjects = self.env.ref(SHIPPED[0])._render_field("subject", leads.ids)
        self.assertIn("Siti <Aminah> & Co", subjects[leads[0].id], "a subject is plain text")
        self.assertIn("Ah Kow", subjects[leads[1].id], "the default of an empty name")

    def test_each_customer_gets_one_email_kept_in_the_chatter(self):
        leads = self.env["crm.lead"]
        for name in ("Aminah", "Kumar", "Mei Ling"):
            partner = self.env["res.partner"].create({"name": name,
                                                      "email": "%s@c.example.com" % len(name)})
            leads |= self._enrolled(partner_id=partner.id, name="Lead of %s" % name)
        blocked = leads[2].partner_id
        self.env["mail.blacklist"].create({"email": blocked.email})
        sent, failed = self._run(T0 + DAY)
        self.assertEqual((sent, failed), (leads, leads.browse()))
        for lead in leads:
            customer = lead.partner_id
            mail = self.env["mail.mail"].search([("model", "=", "crm.lead"),
                                                 ("res_id", "=", lead.id)])
            self.assertEqual(len(mail), 1, "one e-mail per step and customer")
            self.assertEqual(mail.recipient_ids, customer)
            self.assertEqual(mail.author_id, self.alice.partner_id)
            self.assertEqual(mail.subject, "Still looking, %s?" % customer.name)
            shown = lead.message_ids.filtered(lambda m: m.message_type == "email_outgoing")
            self.assertEqual(shown, mail.mail_message_id, "the team sees that e-mail on the lead")
            self.assertIn("Hello %s, our offer stands." % customer.name, shown.body)
            self.assertFalse(shown.is_internal)
            self.assertNotIn(customer, lead.message_partner_ids,
                             "the customer is not made a follower of the lead")
            self.assertFalse(self.env["mail.notification"].search(
                [("mail_message_id", "=", shown.id)]), "nobody is notified a second time")
            if customer == blocked:
                self.assertEqual((mail.state, mail.failure_type), ("cancel", "mail_bl"),
                                 "a blacklisted address gets no e-mail")
            else:
                self.assertEqual(mail.state, "outgoing", "queued, not sent inline")

    def test_failing_subject_of_one_lead_does_not_stop_the_batch(self):
        self.template.subject = "Still looking, {{ object.partner_id.name.upper() }}?"
        good = self._enrolled(name="Good lead")
        bad = self._enrolled(partner_id=False, email_from="nobody@customer.example.com",
                             name="Bad lead")
        sent, failed = self._run(T0 + DAY)
        self.assertEqual((sent, failed), (good, bad))
        mail = self.env["mail.mail"].search([("model", "=", "crm.lead"), ("res_id", "=", good.id)])
        self.assertEqual(mail.subject, "Still looking, CUSTOMER CARL?")
        note = bad.message_ids.filtered(lambda m: "could not be sent" in (m.body or ""))
        self.assertIn("could not be rendered", note.body)
        self.assertEqual(bad.nurture_step_id, self.step1, "kept for a retry")

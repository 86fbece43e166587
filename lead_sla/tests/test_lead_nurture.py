from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import COLD, HOT, T0, LeadSlaCase

DAY = timedelta(days=1)


class LeadNurtureCase(LeadSlaCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # sequences of other data (a demo's) are not this test's: the cron
        # runs below would send their leads' due steps too
        cls.env["lead.nurture.sequence"].search([]).active = False
        cls.template = cls.env["mail.template"].create({
            "name": "Nurture test day 1",
            "model_id": cls.env["ir.model"]._get_id("crm.lead"),
            "subject": "Still looking, {{ object.partner_id.name }}?",
            "partner_to": "{{ object.partner_id.id or '' }}",
            "body_html": "<p>Hello <t t-out=\"object.partner_id.name\"/>, our offer stands.</p>",
        })
        cls.lost_template = cls.template.copy({"name": "Nurture test lost",
                                               "subject": "We miss you"})
        cls.cold_seq = cls.env["lead.nurture.sequence"].create({
            "name": "Cold test", "trigger": "cold", "sequence": 1,
            "step_ids": [
                (0, 0, {"sequence": 1, "delay_days": 1, "action": "email",
                        "template_id": cls.template.id}),
                (0, 0, {"sequence": 2, "delay_days": 3, "action": "activity",
                        "summary": "Call to check on the quotation"}),
            ],
        })
        cls.price = cls.env["crm.lost.reason"].create({"name": "Too expensive"})
        cls.lost_seq = cls.env["lead.nurture.sequence"].create({
            "name": "Lost test", "trigger": "lost", "sequence": 2,
            "lost_reason_ids": [(6, 0, cls.price.ids)],
            "step_ids": [(0, 0, {"delay_days": 30, "action": "email",
                                 "template_id": cls.lost_template.id})],
        })
        cls.step1, cls.step2 = cls.cold_seq.step_ids

    def _cold_lead(self, **vals):
        lead = self._lead(COLD, **vals)
        self.assertEqual(lead.lead_tier, "cold")
        return lead

    def _enrolled(self, **vals):
        with freeze_time(T0):
            lead = self._cold_lead(**vals)
            lead.action_lead_sla_mark_contacted("Called, sent the brochure by WhatsApp as asked")
        self.assertEqual(lead.nurture_state, "running")
        return lead

    def _run(self, when):
        with freeze_time(when):
            return self.env["crm.lead"]._lead_nurture_run(now=when)

    def _logs(self, lead, kind):
        return self.env["lead.nurture.log"].search([("lead_id", "=", lead.id), ("kind", "=", kind)])

    def _customer_writes(self, lead, body="Hi, is the promotion still on?"):
        return lead.message_post(body=body, author_id=self.customer.id,
                                 message_type="email", subtype_xmlid="mail.mt_comment")


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadNurtureEnrolment(LeadNurtureCase):

    def test_cold_lead_enters_at_mark_contacted(self):
        with freeze_time(T0):
            lead = self._cold_lead()
            self.assertFalse(lead.nurture_state, "no nurture before the first response")
            lead.action_lead_sla_mark_contacted("Called, sent the brochure by WhatsApp as asked")
        self.assertEqual(lead.nurture_sequence_id, self.cold_seq)
        self.assertEqual(lead.nurture_step_id, self.step1)
        self.assertEqual(lead.nurture_next_date, T0 + DAY)
        self.assertEqual(lead.nurture_enrolled_at, T0)
        self.assertEqual(len(self._logs(lead, "enrolled")), 1)
        cron = self.env.ref("lead_sla.ir_cron_nurture")
        with freeze_time(T0):
            self.env.cr.precommit.run()
        self.assertTrue(self.env["ir.cron.trigger"].search(
            [("cron_id", "=", cron.id), ("call_at", "=", T0 + DAY)]))

    def test_cold_lead_without_clock_enters_at_stage_move(self):
        # the shipped cold policy runs a clock since issue 11.1: a policy without one
        self.env.ref("lead_sla.sla_policy_cold").write({"response_minutes": 0, "warn_minutes": 0})
        lead = self._cold_lead()
        self.assertNotIn(lead.sla_status, ("running", "warning"), "the cold policy runs no clock")
        lead.stage_id = self.stages[1]
        self.assertTrue(lead.sla_first_response_date)
        self.assertEqual(lead.nurture_state, "running")

    def test_outbound_message_and_done_call_enrol(self):
        lead = self._cold_lead()
        lead.with_user(self.alice).message_post(
            body="Here is our price list", message_type="comment",
            subtype_xmlid="mail.mt_comment", partner_ids=self.customer.ids)
        self.assertEqual(lead.nurture_state, "running")
        other = self._cold_lead(name="Called lead")
        other.activity_schedule("mail.mail_activity_data_call", user_id=self.alice.id)
        other.activity_ids.action_done()
        self.assertEqual(other.nurture_state, "running")

    def test_hot_lead_is_not_nurtured(self):
        lead = self._lead(HOT)
        lead.action_lead_sla_mark_contacted("Called, booked a viewing on Saturday morning")
        self.assertFalse(lead.nurture_state)

    def test_inactive_sequence_enrols_nobody(self):
        self.cold_seq.active = False
        lead = self._cold_lead()
        lead.action_lead_sla_mark_contacted("Called, sent the brochure by WhatsApp as asked")
        self.assertFalse(lead.nurture_state)

    def test_domain_and_company_select_the_sequence(self):
        self.cold_seq.domain = "[('city', '=', 'Penang')]"
        lead = self._enrolled(city="Penang")
        self.assertEqual(lead.nurture_sequence_id, self.cold_seq)
        other = self._cold_lead(city="Ipoh")
        other.action_lead_sla_mark_contacted("Called, sent the brochure by WhatsApp as asked")
        self.assertFalse(other.nurture_state)

    def test_lost_lead_enters_lost_sequence_after_cold_stops(self):
        lead = self._enrolled()
        self.env["crm.lead.lost"].create({
            "lead_ids": [(6, 0, lead.ids)], "lost_reason_id": self.price.id,
        }).action_lost_reason_apply()
        self.assertFalse(lead.active)
        self.assertEqual(lead.nurture_sequence_id, self.lost_seq)
        self.assertEqual(lead.nurture_state, "running")
        self.assertEqual(self._logs(lead, "stopped").stop_reason, "lost",
                         "the cold sequence stopped before the lost one started")
        self.assertEqual(len(self._logs(lead, "enrolled")), 2)

    def test_lost_reason_filter(self):
        lead = self._cold_lead()
        other_reason = self.env["crm.lost.reason"].create({"name": "Chose a competitor"})
        lead.action_set_lost(lost_reason_id=other_reason.id)
        self.assertFalse(lead.nurture_state, "the lost sequence is for price losses only")
        self.lost_seq.lost_reason_ids = False
        second = self._cold_lead(name="Second")
        second.action_set_lost(lost_reason_id=other_reason.id)
        self.assertEqual(second.nurture_sequence_id, self.lost_seq, "empty reasons = any reason")


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadNurtureStops(LeadNurtureCase):

    def assertStopped(self, lead, reason):
        self.assertEqual((lead.nurture_state, lead.nurture_stop_reason), ("stopped", reason))
        self.assertEqual(self._logs(lead, "stopped").stop_reason, reason)
        self.assertFalse(self._run(T0 + 2 * DAY)[0], "a stopped sequence sends nothing")

    def test_customer_reply_stops(self):
        lead = self._enrolled()
        lead.with_user(self.alice).message_post(body="Internal: call her back", message_type="comment",
                                                subtype_xmlid="mail.mt_note")
        self.assertEqual(lead.nurture_state, "running", "a note is no reply")
        self._customer_writes(lead)
        self.assertStopped(lead, "replied")

    def test_whatsapp_style_comment_from_customer_stops(self):
        lead = self._enrolled()
        lead.message_post(body="Boleh saya dapat sebut harga?", author_id=self.customer.id,
                          message_type="comment", subtype_xmlid="mail.mt_comment")
        self.assertStopped(lead, "replied")

    def test_customer_reply_that_reads_hot_stops_as_replied(self):
        lead = self._enrolled()
        (lead.company_id or self.env.company).lead_read_signals = True
        self._customer_writes(lead, "Budget RM 800k, can I view the unit this Saturday? Need it next month.")
        self.assertNotEqual(lead.lead_tier, "cold", "the reply's signals raised the tier")
        self.assertStopped(lead, "replied")

    def test_warming_up_stops(self):
        lead = self._enrolled()
        lead.write({k: v for k, v in HOT.items() if k != "phone"} | {"phone": "+60 12-345 6789"})
        self.assertIn(lead.lead_tier, ("warm", "hot"))
        self.assertStopped(lead, "warmed")

    def test_won_stops(self):
        lead = self._enrolled()
        lead.action_set_won()
        self.assertStopped(lead, "won")

    def test_lost_stops_cold_sequence(self):
        self.lost_seq.active = False
        lead = self._enrolled()
        lead.action_set_lost(lost_reason_id=self.price.id)
        self.assertStopped(lead, "lost")

    def test_restoring_stops_lost_sequence(self):
        lead = self._cold_lead()
        lead.action_set_lost(lost_reason_id=self.price.id)
        self.assertEqual(lead.nurture_sequence_id, self.lost_seq)
        lead.action_unarchive()
        self.assertStopped(lead, "unarchived")

    def test_salesperson_stops_by_hand(self):
        lead = self._enrolled()
        lead.with_user(self.alice).action_lead_nurture_stop()
        self.assertStopped(lead, "manual")


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadNurtureSending(LeadNurtureCase):

    def test_steps_sent_once_in_order_then_done(self):
        lead = self._enrolled()
        self.assertFalse(self._run(T0 + DAY - timedelta(minutes=1))[0], "not due yet")
        sent, failed = self._run(T0 + DAY)
        self.assertEqual((sent, failed), (lead, lead.browse()))
        message = lead.message_ids.filtered(lambda m: m.subject == "Still looking, Customer Carl?")
        self.assertEqual(len(message), 1, "the e-mail is kept in the lead's chatter")
        self.assertEqual(message.message_type, "email_outgoing")
        self.assertEqual(message.author_id, self.alice.partner_id)
        mail = self.env["mail.mail"].search([("mail_message_id", "=", message.id)])
        self.assertEqual(mail.recipient_ids, self.customer, "a normal e-mail to the customer")
        self.assertIn("Customer Carl, our offer stands", mail.body_html)
        self.assertEqual(lead.nurture_step_id, self.step2)
        self.assertEqual(lead.nurture_next_date, T0 + 3 * DAY, "days count from enrolment")
        self.assertFalse(self._run(T0 + DAY)[0], "the step is not sent twice")
        self._run(T0 + 3 * DAY)
        todo = lead.activity_ids.filtered(lambda a: a.summary == "Call to check on the quotation")
        self.assertEqual(todo.user_id, self.alice)
        self.assertEqual(lead.nurture_state, "done")
        self.assertEqual(len(self._logs(lead, "sent")), 2)
        self.assertEqual(len(self._logs(lead, "done")), 1)

    def test_template_failing_to_render_is_retried_and_reported(self):
        lead = self._enrolled()
        self.template.body_html = "<p>Hello <t t-out=\"object.no_such_field.name\"/></p>"
        sent, failed = self._run(T0 + DAY)
        self.assertEqual(failed, lead)
        self.assertFalse(lead.message_ids.filtered(lambda m: m.message_type == "email_outgoing"))
        self.assertFalse(self.env["mail.mail"].search([("model", "=", "crm.lead"),
                                                       ("res_id", "=", lead.id)]))
        note = lead.message_ids.filtered(lambda m: "could not be sent" in (m.body or ""))
        self.assertEqual(len(note), 1)
        self.assertIn("could not be rendered", note.body)
        self.assertIn("Nurture test day 1", note.body)
        self.assertEqual(lead.nurture_step_id, self.step1, "the step is kept for a retry")
        self.assertEqual(lead.nurture_failures, 1)
        self.assertEqual(lead.nurture_next_date, T0 + DAY + timedelta(minutes=15))
        self.assertFalse(self._logs(lead, "sent"), "no step counted as sent")
        self.assertEqual(len(self._logs(lead, "failed")), 1)
        # the template is fixed: the retry sends the step
        self.template.body_html = "<p>Hello <t t-out=\"object.partner_id.name\"/></p>"
        sent, failed = self._run(T0 + DAY + timedelta(minutes=15))
        self.assertEqual(sent, lead)
        self.assertEqual(lead.nurture_step_id, self.step2)
        self.assertEqual(len(self._logs(lead, "sent")), 1)

    def test_failure_after_last_retry_becomes_a_todo(self):
        lead = self._enrolled()
        self.template.body_html = "<p><t t-out=\"object.no_such_field\"/></p>"
        when = T0 + DAY
        for _attempt in range(4):
            self._run(when)
            when = lead.nurture_next_date
        self.assertEqual(len(self._logs(lead, "failed")), 4)
        todo = lead.activity_ids.filtered(lambda a: "Nurture step not sent" in (a.summary or ""))
        self.assertEqual(todo.user_id, self.alice)
        self.assertEqual(lead.nurture_step_id, self.step2, "the sequence goes on")
        self.assertEqual(lead.nurture_failures, 0)

    def test_lead_without_email_is_reported(self):
        nobody = self.env["res.partner"].create({"name": "No Mail"})
        lead = self._enrolled(partner_id=nobody.id, email_from=False)
        sent, failed = self._run(T0 + DAY)
        self.assertEqual(failed, lead)
        self.assertTrue(lead.message_ids.filtered(lambda m: "no e-mail address" in (m.body or "")))

    def test_cron_reports_progress_and_schedules_next(self):
        lead = self._enrolled()
        cron = self.env.ref("lead_sla.ir_cron_nurture")
        with freeze_time(T0 + DAY):
            self.env["crm.lead"]._cron_lead_nurture()
        self.assertEqual(lead.nurture_step_id, self.step2)
        self.assertTrue(self.env["ir.cron.trigger"].search(
            [("cron_id", "=", cron.id), ("call_at", "=", T0 + 3 * DAY)]))


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadNurtureConfig(LeadNurtureCase):

    def test_email_step_needs_a_lead_template(self):
        with self.assertRaisesRegex(ValidationError, "has no template"):
            self.env["lead.nurture.step"].create({
                "sequence_id": self.cold_seq.id, "delay_days": 5, "action": "email"})
        partner_template = self.env["mail.template"].create({
            "name": "Partner mail", "model_id": self.env["ir.model"]._get_id("res.partner")})
        with self.assertRaisesRegex(ValidationError, "not for leads"):
            self.env["lead.nurture.step"].create({
                "sequence_id": self.cold_seq.id, "delay_days": 5, "action": "email",
                "template_id": partner_template.id})

    def test_activity_step_needs_a_summary(self):
        with self.assertRaisesRegex(ValidationError, "has no summary"):
            self.env["lead.nurture.step"].create({
                "sequence_id": self.cold_seq.id, "delay_days": 5, "action": "activity"})

    def test_lost_reasons_only_on_lost_sequences(self):
        with self.assertRaisesRegex(ValidationError, "lost reasons only apply"):
            self.cold_seq.lost_reason_ids = self.price

    def test_active_sequence_needs_steps(self):
        with self.assertRaisesRegex(ValidationError, "has no step"):
            self.env["lead.nurture.sequence"].create({"name": "Empty", "trigger": "cold"})

    def test_bad_filter_is_refused_by_name(self):
        with self.assertRaisesRegex(ValidationError, "nurture sequence 'Cold test'"):
            self.cold_seq.domain = "[('no_such_field', '=', 1)]"

    def test_shipped_sequences_are_off_and_complete(self):
        cold = self.env.ref("lead_sla.nurture_sequence_cold")
        lost = self.env.ref("lead_sla.nurture_sequence_lost")
        self.assertFalse(cold.active or lost.active, "no customer is messaged out of the box")
        self.assertEqual(cold.step_ids.mapped("delay_days"), [1, 3, 7, 14])
        self.assertEqual(lost.step_ids.mapped("delay_days"), [30, 90, 180])
        lead = self._cold_lead(contact_name="Aisyah")
        for step in (cold | lost).step_ids:
            values = step.template_id._generate_template(
                lead.ids, ("subject", "body_html"))[lead.id]
            self.assertTrue(values["subject"])
            self.assertIn("Customer Carl", values["body_html"])
            self.assertNotIn("lorem", values["body_html"].lower())

    def test_report_counts_enrolled_replied_won(self):
        replied = self._enrolled(name="Replied")
        won = self._enrolled(name="Won")
        self._enrolled(name="Quiet")
        self._customer_writes(replied)
        self._run(T0 + DAY)
        with freeze_time(T0 + 2 * DAY):
            won.action_set_won()
        self.env.flush_all()
        groups = self.env["lead.nurture.report"]._read_group(
            [("sequence_id", "=", self.cold_seq.id)], [],
            ["enrolled:sum", "sent:sum", "replied:sum", "stopped:sum", "won:sum"])
        self.assertEqual(groups[0], (3, 2, 1, 2, 1))

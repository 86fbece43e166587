from datetime import timedelta

from freezegun import freeze_time

from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import HOT, T0, LeadSlaCase


@tagged("post_install", "-at_install", "lead_sla")
class TestLeadSlaFirstResponse(LeadSlaCase):

    def setUp(self):
        super().setUp()
        with freeze_time(T0):
            self.lead = self._lead(HOT)
        self.answer_at = T0 + timedelta(minutes=2)

    def assertMet(self, kind):
        self.lead.flush_recordset()
        self.assertEqual(self.lead.sla_status, "met")
        self.assertEqual(self.lead.sla_first_response_date, self.answer_at)
        self.assertEqual(self.lead.sla_first_response_kind, kind)
        self.assertEqual(self.lead.sla_response_minutes, 2)

    def assertRunning(self):
        self.lead.flush_recordset()
        self.assertEqual(self.lead.sla_status, "running")
        self.assertFalse(self.lead.sla_first_response_date)

    def test_stage_move_past_first_stage(self):
        with freeze_time(self.answer_at):
            self.lead.stage_id = self.stages[1]
        self.assertMet("stage")

    def test_stage_move_within_first_stage_does_not_count(self):
        with freeze_time(self.answer_at):
            self.lead.stage_id = self.stages[0]
        self.assertRunning()

    def test_email_to_customer_by_owner(self):
        with freeze_time(self.answer_at):
            self.lead.with_user(self.alice).message_post(
                body="Hello Carl, when can we call you?", message_type="email",
                subtype_xmlid="mail.mt_comment", partner_ids=self.customer.ids)
        self.assertMet("message")

    def test_whatsapp_like_comment_by_agent(self):
        # lead_channels posts the agent's reply as a plain comment by the agent
        with freeze_time(self.answer_at):
            self.lead.with_user(self.leader).message_post(
                body="Hi, thanks for your message", message_type="comment",
                subtype_xmlid="mail.mt_comment")
        self.assertMet("message")

    def test_sms_counts(self):
        with freeze_time(self.answer_at):
            self.lead.with_user(self.alice).message_post(
                body="SMS reply", message_type="sms", subtype_xmlid="mail.mt_comment")
        self.assertMet("message")

    def test_sms_from_the_sms_composer_counts(self):
        # Odoo's SMS composer posts SMS under the note subtype
        if not hasattr(self.lead, "_message_sms"):
            self.skipTest("the sms module is not installed")
        with freeze_time(self.answer_at):
            self.lead.with_user(self.alice)._message_sms(
                "We received your request, calling you in 5 minutes.",
                subtype_id=self.env.ref("mail.mt_note").id,
                sms_numbers=["+32470123456"], sms_pid_to_number={})
        self.assertMet("message")

    def test_internal_note_does_not_count(self):
        with freeze_time(self.answer_at):
            self.lead.with_user(self.alice).message_post(
                body="note to self", message_type="comment", subtype_xmlid="mail.mt_note")
        self.assertRunning()

    def test_customer_message_does_not_count(self):
        with freeze_time(self.answer_at):
            self.lead.message_post(
                body="Any news?", message_type="email", subtype_xmlid="mail.mt_comment",
                author_id=self.customer.id)
        self.assertRunning()

    def test_odoobot_and_notifications_do_not_count(self):
        with freeze_time(self.answer_at):
            self.lead.message_post(
                body="bot", message_type="comment", subtype_xmlid="mail.mt_comment",
                author_id=self.env.ref("base.partner_root").id)
            self.lead.with_user(self.alice).message_post(
                body="auto", message_type="notification", subtype_xmlid="mail.mt_comment")
        self.assertRunning()

    def test_call_activity_done(self):
        activity = self.lead.activity_schedule(
            "mail.mail_activity_data_call", user_id=self.alice.id)
        with freeze_time(self.answer_at):
            activity.with_user(self.alice).action_feedback(feedback="Spoke to Carl")
        self.assertMet("activity")

    def test_meeting_category_activity_done(self):
        meeting_type = self.env["mail.activity.type"].create({
            "name": "Site visit", "category": "meeting"})
        activity = self.lead.activity_schedule(activity_type_id=meeting_type.id,
                                               user_id=self.alice.id)
        with freeze_time(self.answer_at):
            activity.action_done()
        self.assertMet("activity")

    def test_todo_activity_done_does_not_count(self):
        activity = self.lead.activity_schedule("mail.mail_activity_data_todo",
                                               user_id=self.alice.id)
        with freeze_time(self.answer_at):
            activity.action_done()
        self.assertRunning()

    def test_mark_contacted_requires_long_enough_note(self):
        action = self.lead.with_user(self.alice).action_lead_sla_mark_contacted()
        wizard = self.env["lead.sla.contacted"].with_user(self.alice).with_context(
            action["context"]).create({"note": "too short"})
        with self.assertRaises(UserError):
            wizard.action_confirm()
        self.assertRunning()
        note = "Called Carl, he wants a quote for 20 seats by Friday."
        wizard.note = note
        with freeze_time(self.answer_at):
            wizard.action_confirm()
        self.assertMet("contacted")
        self.assertIn(note, self.lead.message_ids[0].body)

    def test_note_min_length_setting(self):
        self.env["ir.config_parameter"].set_param("lead_sla.contacted_note_min_length", "5")
        with freeze_time(self.answer_at):
            self.lead.with_user(self.alice)._lead_sla_mark_contacted("Called")
        self.assertMet("contacted")

    def test_response_after_breach_is_late(self):
        self._sweep(T0 + timedelta(minutes=6))
        self.assertEqual(self.lead.sla_status, "breached")
        with freeze_time(T0 + timedelta(minutes=9)):
            self.lead.with_user(self.alice).message_post(
                body="Sorry for the delay", message_type="comment",
                subtype_xmlid="mail.mt_comment")
        self.lead.flush_recordset()
        # issue 17.4: answered after the deadline is "late", not "met"
        self.assertEqual(self.lead.sla_status, "late")
        self.assertEqual(self.lead.sla_breach_count, 1)
        self.assertEqual(self.lead.sla_response_minutes, 9)

    def test_mark_contacted_over_rpc_style_call(self):
        with freeze_time(self.answer_at):
            result = self.lead.with_user(self.alice).action_lead_sla_mark_contacted(
                note="Phoned the customer, meeting booked for Thursday 10:00.")
        self.assertTrue(result)
        self.assertMet("contacted")
        with self.assertRaises(UserError):
            self.lead.with_user(self.alice).action_lead_sla_mark_contacted(note="")

    def test_salesperson_creates_and_answers_own_lead(self):
        with freeze_time(T0):
            lead = self.env["crm.lead"].with_user(self.alice).create(dict(
                HOT, name="Own lead", type="opportunity", user_id=self.alice.id))
            self.assertEqual(lead.sla_status, "running")
            self.assertEqual(lead.sla_deadline, T0 + timedelta(minutes=5))
        with freeze_time(T0 + timedelta(minutes=1)):
            lead.message_post(body="Hello, thanks for reaching out!", message_type="comment",
                              subtype_xmlid="mail.mt_comment")
        lead.flush_recordset()
        self.assertEqual(lead.sla_status, "met")
        self.assertEqual(lead.sla_response_minutes, 1)

"""Issue 19: a WhatsApp reaction (a thumbs-up on our message) is shown on the
lead, but it is no message from the customer: not counted as inbound, no
reply due, no first response, and no follow-up sequence stopped as if the
customer had replied. Runs through the inbox job's own chunk path."""
from odoo.tests import new_test_user, tagged

from odoo.addons.lead_channels.core import meta
from odoo.addons.lead_channels.tests.common import ChannelsCommon

from .common import SuiteTransactionCase


@tagged("post_install", "-at_install", "lead_suite")
class TestReactionIsNoReply(SuiteTransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.company.country_id = env.ref("base.my")
        env["lead.routing.rule"].search([]).active = False
        cls.ali = new_test_user(env, "reaction_ali", name="Ali", tz="UTC",
                                groups="sales_team.group_sale_salesman", email="ali@example.com")
        cls.channel = env["lead.channel"].create({"name": "WhatsApp", "channel_type": "whatsapp",
                                                  "app_secret": "s", "wa_phone_number_id": "PNID1"})
        env.ref("lead_sla.nurture_sequence_cold").active = True

    def deliver(self, message, contact):
        Event = self.env["lead.channel.event"].sudo()
        Event._store(self.channel.id, meta.split_delivery(ChannelsCommon.wa_delivery([message], [contact])))
        events = Event.search([("state", "=", "new")])
        Event._process_chunk(events.ids)
        self.env.cr.flush()
        self.env.invalidate_all()
        return events

    def test_a_reaction_is_no_reply(self):
        message, contact = ChannelsCommon.wa_message("wamid.RX1", text="Is the unit still available?")
        lead = self.deliver(message, contact).lead_id
        lead.user_id = self.ali
        lead._lead_nurture_enrol("cold")
        self.assertEqual(lead.nurture_state, "running")
        self.assertTrue(lead.channel_awaiting_reply)
        self.assertFalse(lead.sla_first_response_date)
        status = lead.sla_status
        reaction = self.deliver({"from": "60123456789", "id": "wamid.RX2", "timestamp": "1763880100",
                                 "type": "reaction", "reaction": {"message_id": "wamid.OUT", "emoji": "\U0001F44D"}},
                                contact)
        self.assertEqual((reaction.state, reaction.lead_id), ("done", lead), reaction.error)
        self.assertIn("\U0001F44D", reaction.posted_message_id.body, "the reaction is shown")
        self.assertEqual(lead.lead_inbound_count, 1, "not one more message from the customer")
        self.assertFalse(lead.sla_first_response_date, "never a first response")
        self.assertEqual(lead.sla_status, status)
        self.assertEqual(lead.nurture_state, "running", "a thumbs-up is no reply: the sequence goes on")
        self.assertEqual(lead.channel_last_message, "Is the unit still available?")

        # the agent answers; the customer's thumbs-up asks for no new reply
        lead.with_user(self.ali).message_post(body="Yes! When can you view it?", message_type="comment",
                                              subtype_xmlid="mail.mt_comment")
        self.assertFalse(lead.channel_awaiting_reply)
        self.deliver({"from": "60123456789", "id": "wamid.RX3", "timestamp": "1763880200",
                      "type": "reaction", "reaction": {"message_id": "wamid.OUT2", "emoji": "\U0001F64F"}}, contact)
        self.assertFalse(lead.channel_awaiting_reply, "no reply is due after a reaction")
        self.assertEqual(lead.lead_inbound_count, 1)

from odoo.exceptions import AccessError
from odoo.tests import TransactionCase, tagged

from .common import APP_SECRET, ChannelsCommon

SECRETS = ("app_secret", "access_token", "verify_token")


@tagged("post_install", "-at_install")
class TestAccess(ChannelsCommon, TransactionCase):

    def test_salesperson_and_manager_cannot_read_secrets(self):
        for user in (self.salesman, self.manager):
            channel = self.wa.with_user(user)
            for fname in SECRETS:
                with self.assertRaises(AccessError):
                    channel.read([fname])
            data = channel.read()[0]
            self.assertFalse(set(SECRETS) & set(data), "secrets never leave for the browser")
            self.assertNotIn(APP_SECRET, str(data))
            arch = channel.get_views([(False, "form")])["views"]["form"]["arch"]
            for fname in SECRETS:
                self.assertNotIn('name="%s"' % fname, arch)
            self.assertEqual(data["webhook_url"], self.wa.webhook_url)
        admin = self.env.ref("base.user_admin")
        self.assertEqual(self.wa.with_user(admin).read(["app_secret"])[0]["app_secret"], APP_SECRET)

    def test_salesperson_rights(self):
        with self.assertRaises(AccessError):
            self.wa.with_user(self.salesman).write({"name": "renamed"})
        with self.assertRaises(AccessError):
            self.env["lead.channel.event"].with_user(self.salesman).search([])
        self.deliver_direct(self.wa, self.wa_one("wamid.ACC"))
        event = self.process_all()
        # the manager sees the inbox and can retry, the salesperson sees the lead it produced
        self.assertEqual(self.Event.with_user(self.manager).search([("id", "=", event.id)]), event)
        lead = event.lead_id.with_user(self.salesman)
        self.assertEqual(lead.channel_id.name, "WhatsApp Sales")
        self.assertEqual(lead.channel_event_count, 0, "no inbox access, no count, no crash")

    def test_multi_company_rule(self):
        other = self.env["res.company"].create({"name": "Other Sdn Bhd"})
        foreign = self.env["lead.channel"].create({"name": "Other WA", "channel_type": "whatsapp",
                                                   "company_id": other.id})
        self.assertNotIn(foreign, self.env["lead.channel"].with_user(self.manager).search([]))

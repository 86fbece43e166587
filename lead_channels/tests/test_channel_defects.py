from lxml import etree

from odoo.exceptions import AccessError
from odoo.tests import Form, TransactionCase, new_test_user, tagged

from .common import ChannelsCommon


@tagged("post_install", "-at_install")
class TestChannelDefects(ChannelsCommon, TransactionCase):
    """Issue 17.2 / 17.3 / 17.9 and issue 10's security points."""

    def test_urls_of_several_channels_at_once(self):
        channels = self.wa | self.fb | self.form | self.walk_in
        rows = {row["id"]: row for row in self.env["lead.channel"].search_read(
            [("id", "in", channels.ids)], ["webhook_url", "form_url"])}
        self.assertTrue(rows[self.fb.id]["webhook_url"].endswith("/lead_channels/meta/%s" % self.fb.token))
        self.assertTrue(rows[self.form.id]["form_url"].endswith("/lead_channels/form/%s" % self.form.token))
        self.assertFalse(rows[self.walk_in.id]["webhook_url"])
        exported = channels.export_data(["name", "webhook_url"])["datas"]
        self.assertEqual(len(exported), 4, "exporting several channels works")

    def test_no_url_before_the_first_save(self):
        form = Form(self.env["lead.channel"])
        form.name = "WhatsApp Johor"
        form.channel_type = "whatsapp"
        self.assertFalse(form.webhook_url, "an unsaved channel shows no URL that would die at save")
        channel = form.save()
        self.assertTrue(channel.webhook_url.endswith("/lead_channels/meta/%s" % channel.token))
        arch = channel.get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("Save the channel to get its webhook URL", arch)

    def test_regenerate_token_is_for_system_administrators(self):
        old = self.wa.token
        with self.assertRaisesRegex(AccessError, "system administrator"):
            self.wa.with_user(self.manager).action_regenerate_token()
        self.assertEqual(self.wa.token, old, "nothing changed")
        admin = new_test_user(self.env, "chan_admin", groups="base.group_system,sales_team.group_sale_manager")
        self.wa.with_user(admin).action_regenerate_token()
        self.assertNotEqual(self.wa.token, old)

    def test_channel_report_shows_own_and_unassigned_leads_only(self):
        colleague = new_test_user(self.env, "chan_colleague2", groups="sales_team.group_sale_salesman")
        Lead = self.env["crm.lead"]
        for name, user in (("mine", self.salesman), ("theirs", colleague), ("nobody's", None)):
            Lead.create({"name": name, "channel_id": self.wa.id, "user_id": user.id if user else False})
        self.env.flush_all()
        Report = self.env["lead.channel.report"]
        names = Report.with_user(self.salesman).search([("channel_id", "=", self.wa.id)]).lead_id.sudo().mapped("name")
        self.assertEqual(sorted(names), ["mine", "nobody's"])
        self.assertEqual(Report.with_user(self.manager).search_count([("channel_id", "=", self.wa.id)]), 3)

    def test_kanban_card_shows_the_channel_icon(self):
        for channel, icon in ((self.wa, "fa-whatsapp"), (self.messenger, "fa-comments"),
                              (self.instagram, "fa-instagram"), (self.form, "fa-wpforms"),
                              (self.walk_in, "fa-street-view"), (self.referral, "fa-handshake-o")):
            lead = self.env["crm.lead"].create({"name": "L", "channel_id": channel.id})
            self.assertEqual(lead.channel_icon, icon)
        self.assertFalse(self.env["crm.lead"].create({"name": "no channel"}).channel_icon)
        for view in ("crm.crm_case_kanban_view_leads", "crm.view_crm_lead_kanban"):
            arch = self.env["crm.lead"].get_views([(self.env.ref(view).id, "kanban")])["views"]["kanban"]["arch"]
            self.assertIn("o_lead_channel_icon", arch, view)
            self.assertLess(arch.index("lead_tier"), arch.index("o_lead_channel_icon"), "beside the tier badge")
        pipeline = self.env["crm.lead"].with_user(self.manager).get_views(
            [(self.env.ref("crm.crm_case_kanban_view_leads").id, "kanban")])["views"]["kanban"]["arch"]
        action = self.env.ref("lead_channels.lead_channel_quick_capture_action")
        # a kanban shows the buttons of its last <header> only: ours, with the others' buttons
        header = etree.fromstring(pipeline).xpath("//kanban/header")[-1]
        names = [button.get("name") for button in header.iter("button")]
        self.assertIn(str(action.id), names, "Quick Capture in one tap from the pipeline")
        if self.env["ir.module.module"].search_count([("name", "=", "crm_iap_mine"), ("state", "=", "installed")]):
            self.assertIn("action_generate_leads", names, "other modules' buttons stay visible")

from odoo.tests import TransactionCase, tagged
from odoo.tools.safe_eval import safe_eval

from odoo.addons.lead_channels.tests.common import ChannelsCommon


@tagged("post_install", "-at_install")
class TestConversationSlaBadge(ChannelsCommon, TransactionCase):
    """CRM > Conversations (lead_channels) shows lead_sla's badge when both are installed."""

    def test_conversations_show_the_sla_badge(self):
        self.deliver_direct(self.wa, self.wa_one("wamid.SLA1"))
        lead = self.process_all().lead_id
        lead.write({"user_id": self.salesman.id, "sla_status": "breached"})
        action = self.env["ir.actions.act_window"]._for_xml_id("lead_channels.crm_lead_conversation_action")
        Lead = self.env["crm.lead"].with_user(self.salesman).with_context(safe_eval(action["context"]))
        views = Lead.get_views([(view_id, mode) for view_id, mode in action["views"]], {"load_filters": True})
        for mode in ("list", "kanban"):
            self.assertIn('name="sla_status"', views["views"][mode]["arch"], mode)
        kanban = views["views"]["kanban"]["arch"]
        self.assertIn("o_lead_sla_badge", kanban)
        rows = Lead.web_search_read(safe_eval(action["domain"]),
                                    {"partner_id": {"fields": {"display_name": {}}}, "sla_status": {},
                                     "sla_time_left": {}}, limit=80)["records"]
        row = next(r for r in rows if r["id"] == lead.id)
        self.assertEqual(row["sla_status"], "breached")

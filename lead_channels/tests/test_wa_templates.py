import json
from datetime import datetime, timedelta

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged
from odoo.tools.safe_eval import safe_eval

from .common import ChannelsCommon, GraphServer

NOW = datetime(2026, 11, 23, 10, 0, 0)
LISTING = "/v21.0/WABA1/message_templates"


def template(name, status, body, language="en", category="UTILITY"):
    return {"name": name, "language": language, "status": status, "category": category, "id": "T-" + name,
            "components": [{"type": "HEADER", "format": "TEXT", "text": "Hello"},
                           {"type": "BODY", "text": body}]}


@tagged("post_install", "-at_install")
class TestWaTemplates(ChannelsCommon, TransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.graph = GraphServer()
        cls.addClassCleanup(cls.graph.stop)
        cls.wa.write({"graph_url": cls.graph.url, "wa_business_account_id": "WABA1"})
        cls.Template = cls.env["lead.channel.wa.template"]

    def setUp(self):
        super().setUp()
        self.graph.routes.clear()
        self.graph.requests.clear()

    def serve_listing(self, page1, page2):
        next_url = "%s/WABA1/message_templates?after=CURSOR2&limit=100" % self.graph.url

        def listing(request):
            if request["query"].get("after") == ["CURSOR2"]:
                return 200, {"data": page2, "paging": {"cursors": {"before": "CURSOR2", "after": "END"}}}
            return 200, {"data": page1, "paging": {"cursors": {"after": "CURSOR2"}, "next": next_url}}
        self.graph.routes[("GET", LISTING)] = listing

    def whatsapp_lead(self, hours_ago):
        self.deliver_direct(self.wa, self.wa_one(
            "wamid.IN-%s" % hours_ago, timestamp=int((NOW - timedelta(hours=hours_ago)).timestamp())))
        lead = self.process_all().lead_id
        lead.user_id = self.salesman
        return lead

    def approved(self, name="viewing_reminder", body="Hi {{1}}, your viewing is on {{2}}.", **kw):
        return self.Template.create(dict({"channel_id": self.wa.id, "name": name, "language": "en_US",
                                          "status": "approved", "body": body, "param_count": body.count("{{")}, **kw))

    def composer(self, lead, **values):
        action = lead.with_user(self.salesman).action_open_channel_composer()
        return self.env["lead.channel.composer"].with_user(self.salesman).with_context(
            action["context"]).create(values)

    # ------------------------------------------------------------------ sync
    def test_sync_follows_paging_and_keeps_statuses_apart(self):
        self.serve_listing(
            [template("viewing_reminder", "APPROVED", "Hi {{1}}, your viewing is on {{2}}."),
             template("promo_raya", "REJECTED", "Raya promo {{1}}!", language="ms", category="MARKETING")],
            [template("follow_up", "APPROVED", "Hi {{1}}, still looking for a home?")])
        with self.assertRaises(AccessError):
            self.wa.with_user(self.salesman).action_sync_wa_templates()
        self.assertFalse(self.graph.requests, "a salesperson cannot sync")
        self.wa.with_user(self.manager).action_sync_wa_templates()
        self.assertEqual([r["query"].get("after") for r in self.graph.requests], [None, ["CURSOR2"]])
        self.assertEqual(self.graph.requests[0]["headers"]["Authorization"], "Bearer wa-token")
        templates = self.Template.search([("channel_id", "=", self.wa.id)])
        self.assertEqual(sorted(templates.mapped("name")), ["follow_up", "promo_raya", "viewing_reminder"])
        reminder = templates.filtered(lambda t: t.name == "viewing_reminder")
        self.assertEqual((reminder.status, reminder.param_count, reminder.category, reminder.language),
                         ("approved", 2, "utility", "en"))
        self.assertEqual(reminder.body, "Hi {{1}}, your viewing is on {{2}}.")
        self.assertEqual(templates.filtered(lambda t: t.status == "rejected").name, "promo_raya")
        self.assertEqual(self.wa.wa_template_count, 2, "only approved templates are counted")
        # a salesperson reads them (the composer offers them)
        self.assertEqual(len(self.Template.with_user(self.salesman).search([("channel_id", "=", self.wa.id)])), 3)

        # next day: the promo got approved on appeal, follow_up was deleted at Meta
        self.graph.requests.clear()
        self.serve_listing([template("viewing_reminder", "APPROVED", "Hi {{1}}, your viewing is on {{2}}."),
                            template("promo_raya", "APPROVED", "Raya promo {{1}}!", language="ms")], [])
        self.env["lead.channel"]._cron_sync_wa_templates()
        templates = self.Template.search([("channel_id", "=", self.wa.id)])
        self.assertEqual(len(templates), 3, "updated in place, no duplicate")
        self.assertEqual({t.name: t.status for t in templates},
                         {"viewing_reminder": "approved", "promo_raya": "approved", "follow_up": "deleted"})
        cron = self.env.ref("lead_channels.ir_cron_sync_wa_templates")
        self.assertEqual((cron.interval_type, cron.code), ("days", "model._cron_sync_wa_templates()"))

    def test_sync_errors_are_plain_and_change_nothing(self):
        self.approved()
        self.graph.routes[("GET", LISTING)] = (
            400, {"error": {"message": "Invalid OAuth access token.", "code": 190}})
        with self.assertRaisesRegex(UserError, "access token has expired") as caught:
            self.wa.with_user(self.manager).action_sync_wa_templates()
        self.assertNotIn("Traceback", str(caught.exception))
        self.assertEqual(self.Template.search([("channel_id", "=", self.wa.id)]).status, "approved")
        self.env["lead.channel"]._cron_sync_wa_templates()  # logged, not raised: other channels go on
        self.wa.wa_business_account_id = False
        with self.assertRaisesRegex(UserError, "WhatsApp Business Account ID"):
            self.wa.with_user(self.manager).action_sync_wa_templates()

    # ------------------------------------------------------------------ composer
    @freeze_time(NOW)
    def test_template_with_params_outside_window(self):
        lead = self.whatsapp_lead(hours_ago=30)
        reminder = self.approved()
        self.approved(name="old_promo", body="Promo", status="rejected")
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (200, {"messages": [{"id": "wamid.TPL1"}]})
        composer = self.composer(lead)
        self.assertTrue(composer.wa_window_closed)
        offered = self.Template.with_user(self.salesman).search(
            safe_eval(composer._fields["template_id"].domain, {"channel_id": composer.channel_id.id}))
        self.assertEqual(offered, reminder, "only the channel's approved templates are offered")
        composer.template_id = reminder
        self.assertEqual(composer.template_params, "Ahmad Faiz\n", "{{1}} is prefilled with the customer's name")
        composer.template_params = "Ahmad Faiz\nSaturday 10am"
        self.assertEqual(composer.template_preview, "Hi Ahmad Faiz, your viewing is on Saturday 10am.")
        composer.action_send()
        sent = json.loads(self.graph.requests[-1]["body"])
        self.assertEqual((sent["to"], sent["type"]), ("60123456789", "template"))
        self.assertEqual(sent["template"], {
            "name": "viewing_reminder", "language": {"code": "en_US"},
            "components": [{"type": "body", "parameters": [{"type": "text", "text": "Ahmad Faiz"},
                                                           {"type": "text", "text": "Saturday 10am"}]}]})
        reply = lead.message_ids.filtered(lambda m: m.wa_message_id == "wamid.TPL1")
        self.assertEqual(reply.author_id, self.salesman.partner_id)
        self.assertIn("Hi Ahmad Faiz, your viewing is on Saturday 10am.", reply.body)
        self.assertFalse(lead.channel_awaiting_reply)

    @freeze_time(NOW)
    def test_outside_window_a_template_must_be_picked(self):
        lead = self.whatsapp_lead(hours_ago=30)
        self.approved()
        composer = self.composer(lead, body="Hello again!")
        self.assertFalse(composer.template_id, "the channel's setting 'follow_up' is not an approved template here")
        with self.assertRaisesRegex(UserError, "pick an approved template"):
            composer.action_send()
        rejected = self.approved(name="old_promo", body="Promo", status="rejected")
        composer.template_id = rejected
        with self.assertRaisesRegex(UserError, "not approved"):
            composer.action_send()
        self.assertFalse(self.graph.requests, "nothing is sent")

    @freeze_time(NOW)
    def test_missing_params_refused_before_sending(self):
        lead = self.whatsapp_lead(hours_ago=30)
        reminder = self.approved()
        messages = lead.message_ids
        for params, missing in (("Ahmad Faiz", "{{2}}"), ("Ahmad Faiz\n   ", "{{2}}"), ("\nSaturday", "{{1}}"),
                                ("", "{{1}}")):
            composer = self.composer(lead, template_id=reminder.id)
            composer.template_params = params
            with self.assertRaisesRegex(UserError, r"parameter %s is missing" % missing.replace("{", r"\{")):
                composer.action_send()
        composer.template_params = "a\nb\nc"
        with self.assertRaisesRegex(UserError, "extra lines"):
            composer.action_send()
        self.assertFalse(self.graph.requests, "no HTTP call")
        self.assertEqual(lead.message_ids, messages)

    @freeze_time(NOW)
    def test_graph_error_posts_nothing(self):
        lead = self.whatsapp_lead(hours_ago=30)
        composer = self.composer(lead, template_id=self.approved().id, template_params="Ahmad\nSunday")
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (
            400, {"error": {"message": "Template name does not exist in the translation", "code": 132001}})
        comments = lead.message_ids.filtered(lambda m: m.message_type == "comment")
        with self.assertRaisesRegex(UserError, "not approved yet") as caught:
            composer.action_send()
        self.assertNotIn("Traceback", str(caught.exception))
        self.assertEqual(lead.message_ids.filtered(lambda m: m.message_type == "comment"), comments)
        self.assertTrue(lead.channel_awaiting_reply)

    @freeze_time(NOW)
    def test_window_rules_and_the_fixed_template_setting(self):
        # inside the window: free text, as before
        lead = self.whatsapp_lead(hours_ago=2)
        self.graph.routes[("POST", "/v21.0/PNID1/messages")] = (200, {"messages": [{"id": "wamid.T2"}]})
        composer = self.composer(lead, body="Yes, Saturday works.")
        self.assertFalse(composer.wa_window_closed)
        self.assertFalse(composer.template_id)
        composer.action_send()
        self.assertEqual(json.loads(self.graph.requests[-1]["body"])["type"], "text")
        # outside it, on a channel whose templates were never synced: the fixed setting, as before
        with freeze_time(NOW + timedelta(hours=26)):
            self.env.invalidate_all()  # a new request, a day later
            composer = self.composer(lead, body="ignored")
            self.assertTrue(composer.wa_window_closed)
            composer.action_send()
            self.assertEqual(json.loads(self.graph.requests[-1]["body"])["template"],
                             {"name": "follow_up", "language": {"code": "en"}})
            # once synced, the setting preselects its approved template
            follow_up = self.approved(name="follow_up", body="Hi {{1}}, still looking?", language="en")
            composer = self.composer(lead)
            self.assertEqual(composer.template_id, follow_up)
            self.assertEqual(composer.template_params, "Ahmad Faiz")

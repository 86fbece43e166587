"""Two inbox lanes capture a burst of new contacts at once (two cron workers).

Each lane claims its own chunk of first messages, creates the leads and posts
the messages; the leads are routed as each chunk commits. The second lane to
commit waits for the first one's lock on the routing rule, then routes from
the rotation the first one left: no slot is handed out twice, no chunk fails
and is replayed. Real transactions: the data is committed by other cursors
and removed at cleanup.
"""
import threading

from odoo import SUPERUSER_ID, api

from odoo.addons.lead_channels.core import meta
from odoo.addons.lead_channels.tests.common import ChannelsCommon

from .common import SuiteTransactionCase, waits_for_rule_lock

SENDERS = ["6017888000%d" % i for i in range(1, 5)]


class TestInboxLanes(SuiteTransactionCase):

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            group = env.ref("sales_team.group_sale_salesman")
            users = env["res.users"].create([
                {"name": "Lane agent %s" % n, "login": "lane_agent_%s" % n, "email": "lane_%s@example.com" % n,
                 "notification_type": "inbox", "groups_id": [(6, 0, [group.id])]} for n in ("a", "b")])
            team = env["crm.team"].create({"name": "Lanes team"})
            env["crm.team.member"].create([{"crm_team_id": team.id, "user_id": u.id} for u in users])
            channel = env["lead.channel"].create({"name": "WA lanes", "channel_type": "whatsapp",
                                                  "app_secret": "x", "team_id": team.id})
            rule = env["lead.routing.rule"].create({
                "name": "Lanes", "team_id": team.id, "strategy": "round_robin", "sequence": -100,
                "domain": "[('channel_id', '=', %d)]" % channel.id})
            env.company.lead_distribution_instant = True
            items = []
            for i, wa_id in enumerate(SENDERS):
                items += meta.split_delivery(ChannelsCommon.wa_one(
                    "wamid.LANE%d" % i, wa_id=wa_id, name="Lane customer %d" % i, text="Harga? %d" % i))
            event_ids, _dups = env["lead.channel.event"]._store(channel.id, items)
            self.ids = dict(users=users.ids, partners=users.partner_id.ids, team=team.id, channel=channel.id,
                            rule=rule.id, events=event_ids)
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            leads = env["crm.lead"].search([("channel_id", "=", self.ids["channel"])])
            customers = leads.partner_id
            env["lead.channel.event"].browse(self.ids["events"]).unlink()
            leads.unlink()
            customers.unlink()
            env["lead.channel"].browse(self.ids["channel"]).unlink()
            env["lead.routing.rule"].browse(self.ids["rule"]).unlink()
            env["lead.distribution.share"].search([("team_id", "=", self.ids["team"])]).unlink()
            env["crm.team"].browse(self.ids["team"]).unlink()
            env["res.users"].browse(self.ids["users"]).unlink()
            env["res.partner"].browse(self.ids["partners"]).unlink()
            cr.execute("DELETE FROM lead_channel_contact_key WHERE key LIKE '%%6017888000%%'")
        self.registry.clear_cache()

    def test_two_lanes_capture_and_route_at_once(self):
        events = self.ids["events"]
        with self.registry.cursor() as cr_a, self.registry.cursor() as cr_b:
            lane_a = api.Environment(cr_a, SUPERUSER_ID, {})["lead.channel.event"]
            lane_b = api.Environment(cr_b, SUPERUSER_ID, {})["lead.channel.event"]
            # each lane claims its own chunk of the same candidates
            claimed_a = lane_a._claim_new_contacts_chunk(events, limit=2)
            claimed_b = lane_b._claim_new_contacts_chunk(events, limit=2)
            self.assertEqual(claimed_a, events[:2], "the oldest first")
            self.assertEqual(claimed_b, events[2:], "what the other lane holds is skipped")
            # both capture their contacts; the leads wait for the commit to be routed
            lane_a._process_chunk(claimed_a, locked=True)
            lane_b._process_chunk(claimed_b, locked=True)
            leads_a = lane_a.browse(claimed_a).lead_id
            self.assertEqual(len(leads_a), 2)
            self.assertFalse(leads_a.user_id, "routed as the chunk commits, after the messages")
            cr_a.flush()  # lane A routes: it holds the rule's row lock until it commits
            self.assertEqual(len(leads_a.user_id), 2)

            errors = []

            def commit_b():
                try:
                    lane_b._commit_chunk(claimed_b)
                except Exception as exc:  # noqa: BLE001 - reported by the assertion below
                    errors.append(exc)

            thread = threading.Thread(target=commit_b)
            thread.start()
            try:
                waited = waits_for_rule_lock(self.registry, thread)  # lane B waits for the rule's lock...
                lane_a._commit_chunk(claimed_a)  # ...until lane A commits
            finally:
                if thread.is_alive():
                    cr_a.rollback()  # never leave lane B blocked behind a failed test
                thread.join(30)
            self.assertTrue(waited, "lane B waited for lane A's lock on the rule")
            self.assertFalse(thread.is_alive())
            self.assertFalse(errors, "READ COMMITTED: the second lane waits, it does not fail")

        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            events = env["lead.channel.event"].browse(events)
            self.assertEqual(events.mapped("state"), ["done"] * 4)
            self.assertTrue(all(e.processed_at >= e.received_at for e in events))
            leads = events.lead_id
            self.assertEqual(len(leads), 4, "one lead per new contact")
            self.assertEqual(sorted(leads.mapped("channel_contact_ref")), SENDERS)
            owners = [lead.user_id.id for lead in leads.sorted("id")]
            self.assertEqual(sorted(owners), sorted(self.ids["users"] * 2),
                             "round robin across both lanes: two leads each, no slot given twice")
            logs = env["lead.assignment.log"].search([("lead_id", "in", leads.ids)])
            self.assertEqual(len(logs), 4)
            for lead in leads:
                self.assertIn(lead.user_id.partner_id, lead.message_partner_ids, "the owner follows")
                self.assertEqual(len(lead.message_ids.filtered("wa_message_id")), 1)

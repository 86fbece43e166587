import psycopg2

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import HOT, LeadDistributionCase


@tagged("post_install", "-at_install")
class TestTierRise(LeadDistributionCase):
    """A lead that turns hot before anyone answered goes to the hot leads' pool."""

    def setUp(self):
        super().setUp()
        self.hot_rule = self._rule(name="Hot leads to seniors", sequence=1,
                                   domain="[('lead_tier', '=', 'hot')]", member_ids=[(6, 0, self.m_bo.ids)])
        self.all_rule = self._rule(name="Everything else", sequence=5,
                                   member_ids=[(6, 0, (self.m_ali | self.m_siti).ids)])

    def test_rising_to_hot_moves_the_lead_to_the_hot_pool(self):
        lead = self._leads(1)
        self.assertEqual((lead.lead_tier, lead.user_id), ("cold", self.ali))
        lead.write(HOT)
        self.assertEqual(lead.lead_tier, "hot")
        self.assertEqual(lead.user_id, self.bo, "moved to the hot leads' pool")
        log = lead.lead_assignment_log_ids.filtered(lambda line: line.kind == "tier")
        self.assertRecordValues(log, [{"user_id": self.bo.id, "previous_user_id": self.ali.id,
                                       "rule_id": self.hot_rule.id}])
        self.assertEqual(log.reason, "Tier rose from Cold to Hot before the first response: "
                                     "Round robin in 'Routing Team' pool: Bo")
        told = lead.message_ids.filtered(lambda m: "before its first response" in (m.body or ""))
        self.assertEqual(len(told), 1)
        self.assertEqual(told.partner_ids, (self.ali | self.bo).partner_id, "old and new owners notified")

    def test_same_rule_keeps_the_owner(self):
        self.hot_rule.active = False
        lead = self._leads(1)
        lead.write(HOT)
        self.assertEqual(lead.user_id, self.ali)
        self.assertFalse(lead.lead_assignment_log_ids.filtered(lambda line: line.kind == "tier"))

    def test_manual_owner_is_never_moved(self):
        given = self._leads(1, user_id=self.siti.id)  # chosen at creation
        reassigned = self._leads(1)
        self.env["lead.reassign"].with_user(self.manager).create({
            "lead_ids": [(6, 0, reassigned.ids)], "user_id": self.siti.id,
            "reason": "Knows the customer"}).action_reassign()
        taken = self._leads(1)
        self.assertEqual(taken.user_id, self.siti, "routed by the rule")
        taken.with_user(self.manager).user_id = self.ali  # then changed by hand, no log
        (given | reassigned | taken).write(HOT)
        self.assertEqual([given.user_id, reassigned.user_id, taken.user_id], [self.siti, self.siti, self.ali])
        self.assertFalse((given | reassigned | taken).lead_assignment_log_ids.filtered(
            lambda line: line.kind == "tier"))

    def test_nobody_free_in_the_hot_pool_keeps_the_owner(self):
        self.m_bo.lead_available = False
        lead = self._leads(1)
        lead.write(HOT)
        self.assertEqual(lead.user_id, self.ali)
        self.assertFalse(lead.lead_routing_pending)

    def test_falling_tier_changes_nothing(self):
        lead = self.Lead.create(dict(HOT, name="Hot from the start"))
        self.assertEqual(lead.user_id, self.bo)
        lead.write({"lead_meeting_requested": False, "lead_timeline": "later"})
        self.assertNotEqual(lead.lead_tier, "hot")
        self.assertEqual(lead.user_id, self.bo)
        self.assertEqual(len(lead.lead_assignment_log_ids), 1)

    def test_unassigned_lead_turning_hot_is_routed_by_the_hot_rule(self):
        self.all_rule.active = False  # only hot leads are routed
        lead = self._leads(1, user_id=False)
        self.assertFalse(lead.user_id, "no rule matched the cold lead")
        lead.write(HOT)
        self.assertEqual(lead.user_id, self.bo)
        self.assertRecordValues(lead.lead_assignment_log_ids, [{"kind": "auto", "rule_id": self.hot_rule.id}])

    def test_unassigned_lead_turning_warm_stays_unassigned_when_no_rule_matches(self):
        self.all_rule.active = False
        lead = self._leads(1, user_id=False)
        lead.write({"phone": "+60123456789", "lead_timeline": "week"})
        self.assertEqual(lead.lead_tier, "warm")
        self.assertFalse(lead.user_id)
        self.assertFalse(lead.lead_assignment_log_ids)


@tagged("post_install", "-at_install")
class TestTierRiseConcurrency(TransactionCase):
    """Two transactions raise the same lead's tier at once: one move, one log line."""

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
            users = env["res.users"].create([
                {"name": "Tier %s" % n, "login": "ld_tier_%s" % n,
                 "groups_id": [(6, 0, [env.ref("sales_team.group_sale_salesman").id])]}
                for n in ("junior", "senior")])
            team = env["crm.team"].create({"name": "Tier team"})
            junior, senior = env["crm.team.member"].create(
                [{"crm_team_id": team.id, "user_id": u.id} for u in users])
            rules = env["lead.routing.rule"].create([
                {"name": "Tier hot", "team_id": team.id, "sequence": -101,
                 "domain": "[('name', '=like', 'ld-tier-%'), ('lead_tier', '=', 'hot')]",
                 "member_ids": [(6, 0, senior.ids)]},
                {"name": "Tier all", "team_id": team.id, "sequence": -100,
                 "domain": "[('name', '=like', 'ld-tier-%')]", "member_ids": [(6, 0, junior.ids)]}])
            lead = env["crm.lead"].create({"name": "ld-tier-1", "type": "lead", "user_id": False})
            assert lead.user_id == users[0]
            self.ids = dict(users=users.ids, team=team.id, rules=rules.ids, lead=lead.id,
                            partners=users.partner_id.ids)
        self.addCleanup(self._cleanup)

    def _cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"active_test": False})
            env["crm.lead"].browse(self.ids["lead"]).unlink()
            env["lead.routing.rule"].browse(self.ids["rules"]).unlink()
            env["lead.distribution.share"].search([("team_id", "=", self.ids["team"])]).unlink()
            env["crm.team"].browse(self.ids["team"]).unlink()
            env["res.users"].browse(self.ids["users"]).unlink()
            env["res.partner"].browse(self.ids["partners"]).unlink()
        self.registry.clear_cache()

    def _raise(self, cr):
        env = api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})
        lead = env["crm.lead"].browse(self.ids["lead"])
        lead.write(HOT)
        env.flush_all()
        return lead.user_id.id

    def test_two_concurrent_rises_make_one_move(self):
        junior, senior = self.ids["users"]
        with self.registry.cursor() as cr1, self.registry.cursor() as cr2:
            cr2.execute("SELECT 1")  # both snapshots taken before either raises the tier
            self.assertEqual(self._raise(cr1), senior)
            cr1.commit()
            with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.errors.SerializationFailure):
                self._raise(cr2)
            cr2.rollback()
            self.assertEqual(self._raise(cr2), senior, "the retry finds the lead already hot and moved")
            cr2.commit()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            logs = env["lead.assignment.log"].search([("lead_id", "=", self.ids["lead"]), ("kind", "=", "tier")])
            self.assertEqual(len(logs), 1, "one move, one log line")
            self.assertEqual((logs.previous_user_id.id, logs.user_id.id), (junior, senior))

from collections import Counter
from datetime import datetime

from freezegun import freeze_time

from odoo.tests import Form, new_test_user, tagged

from .common import HOT, LeadDistributionCase


@tagged("post_install", "-at_install")
class TestRoutingStrategies(LeadDistributionCase):

    def test_round_robin_at_creation(self):
        self._rule()
        leads = self._leads(6)
        self.assertEqual(self._owners(leads), [self.ali, self.siti, self.bo] * 2)
        self.assertEqual(set(leads.team_id.ids), {self.team.id})
        self.assertFalse(any(leads.mapped("lead_routing_pending")))

    def test_route_at_commit_for_bulk_creators(self):
        """A bulk creator (the inbox job) asks for routing as its transaction
        commits: the leads wait, unassigned, until then, and are routed in the
        same transaction, in one batch, as at creation."""
        self._rule()
        Lead = self.Lead.with_context(lead_distribution_route_at_commit=True)
        leads = Lead.create([{"name": "Bulk %s" % i, "type": "lead"} for i in range(3)])
        manual = Lead.create({"name": "Given by hand", "type": "lead"})
        self.assertFalse(leads.user_id | manual.user_id)
        manual.user_id = self.bo  # an owner given meanwhile is kept
        self.env.cr.flush()  # what commit() runs: the ORM's writes, then the pre-commit hooks
        self.assertEqual(self._owners(leads), [self.ali, self.siti, self.bo])
        self.assertEqual(manual.user_id, self.bo)
        logs = self.env["lead.assignment.log"].search([("lead_id", "in", (leads | manual).ids)])
        self.assertEqual(logs.lead_id, leads, "one decision logged per routed lead")
        self.assertEqual(self._owners(self._leads(1)), [self.ali], "the rotation goes on")

    def test_weighted_2_1_1_exact_and_interleaved(self):
        self.m_ali.lead_weight = 2.0
        self._rule(strategy="weighted")
        leads = self._leads(100)
        owners = self._owners(leads)
        self.assertEqual(Counter(u.login for u in owners), {"ld_ali": 50, "ld_siti": 25, "ld_bo": 25})
        self.assertEqual([u.name for u in owners[:4]], ["Ali", "Siti", "Bo", "Ali"])

    def test_weighted_rotation_persists_across_transactions_of_creation(self):
        rule = self._rule(strategy="weighted")
        self._leads(1)
        self._leads(1)
        state = {s.user_id: s.assigned_count for s in rule.state_ids}
        self.assertEqual(state[self.ali], 1)
        self.assertEqual(state[self.siti], 1)
        self.assertEqual(self._owners(self._leads(1)), [self.bo])

    def test_least_loaded(self):
        self._leads(3, user_id=self.ali.id)
        self._leads(1, user_id=self.siti.id)
        self._rule(strategy="least_loaded")
        leads = self._leads(4)
        # Bo has none, Siti one, Ali three: Bo; then Siti/Bo tie -> Siti (first in
        # rotation); Bo (fewest); Siti/Bo tie again -> Bo (his turn). Ali never.
        self.assertEqual(self._owners(leads), [self.bo, self.siti, self.bo, self.bo])

    def test_member_subset(self):
        self._rule(member_ids=[(6, 0, (self.m_siti | self.m_bo).ids)])
        self.assertEqual(self._owners(self._leads(4)), [self.siti, self.bo] * 2)

    def test_explicit_salesperson_is_kept(self):
        self._rule()
        lead = self.Lead.create({"name": "Mine", "user_id": self.bo.id})
        self.assertEqual(lead.user_id, self.bo)
        self.assertFalse(lead.lead_assignment_log_ids)

    def test_no_matching_rule_keeps_odoo_behaviour(self):
        self._rule(domain="[('lead_tier', '=', 'hot')]")
        lead = self.Lead.with_user(self.manager).create({"name": "Cold one"})
        self.assertEqual(lead.user_id, self.manager)  # Odoo's default salesperson
        self.assertFalse(lead.lead_assignment_log_ids)

    def test_lead_typed_in_the_form_is_routed(self):
        self._rule()
        form = Form(self.Lead.with_user(self.manager))
        self.assertFalse(form.user_id)  # not pre-filled: the rules will choose
        form.name = "Typed by hand"
        lead = form.save()
        self.assertEqual(lead.user_id, self.ali)
        # a salesperson picked in the form is kept
        form = Form(self.Lead.with_user(self.manager))
        form.name = "For Bo"
        form.user_id = self.bo
        self.assertEqual(form.save().user_id, self.bo)
        # a rule that does not concern the lead the form shows leaves the creator
        self.env["lead.routing.rule"].search([]).domain = "[('lead_tier', '=', 'hot')]"
        self.assertEqual(Form(self.Lead.with_user(self.manager)).user_id, self.manager)
        # without active rule the form keeps Odoo's default salesperson
        self.env["lead.routing.rule"].search([]).active = False
        self.assertEqual(Form(self.Lead.with_user(self.manager)).user_id, self.manager)

    def test_resave_does_not_reroute(self):
        self._rule()
        lead = self._leads(1)
        self.assertEqual(lead.user_id, self.ali)
        lead.write({"name": "Renamed", "phone": "+33612345678", "lead_timeline": "week"})
        lead.write({"user_id": False})
        lead.write({"description": "still nobody"})
        self.assertFalse(lead.user_id)
        self.assertEqual(len(lead.lead_assignment_log_ids), 1)

    def test_instant_routing_disabled_then_backlog(self):
        self._rule()
        self.company.lead_distribution_instant = False
        leads = self._leads(3)
        self.assertFalse(leads.user_id)
        self.assertTrue(all(leads.mapped("lead_routing_pending")))
        self.env["crm.lead"]._cron_lead_distribution_backlog()
        self.assertEqual(self._owners(leads), [self.ali, self.siti, self.bo])
        self.assertFalse(any(leads.mapped("lead_routing_pending")))


@tagged("post_install", "-at_install")
class TestHybridChain(LeadDistributionCase):

    def test_hot_mandarin_chain_with_skills_and_territory(self):
        malaysia = self.env.ref("base.my")
        kl = self.env["lead.territory"].create({"name": "Kuala Lumpur", "country_id": malaysia.id,
                                                "zip_prefixes": "50, 51"})
        self.m_siti.lead_skill_ids = self.mandarin
        self.m_bo.lead_skill_ids = self.mandarin
        self.m_bo.lead_territory_ids = kl
        hot_rule = self._rule(name="Hot Mandarin", sequence=1, domain="[('lead_tier', '=', 'hot')]",
                              match_skills=True, match_territory=True, fallback="next_rule")
        catch_all = self._rule(name="Catch all", sequence=5)
        lead_kl = self.Lead.create(dict(HOT, name="KL hot", country_id=malaysia.id, zip="50450",
                                        lead_skill_ids=[(6, 0, self.mandarin.ids)]))
        self.assertEqual(lead_kl.lead_tier, "hot")
        self.assertEqual(lead_kl.lead_territory_id, kl)
        self.assertEqual(lead_kl.user_id, self.bo)  # only Mandarin speaker covering KL
        self.assertEqual(lead_kl.lead_assignment_log_ids.rule_id, hot_rule)
        lead_other = self.Lead.create(dict(HOT, name="Penang hot", lead_skill_ids=[(6, 0, self.mandarin.ids)]))
        self.assertIn(lead_other.user_id, self.siti | self.bo)  # skills only, no territory
        cold = self.Lead.create({"name": "Cold"})
        self.assertEqual(cold.lead_tier, "cold")
        self.assertEqual(cold.lead_assignment_log_ids.rule_id, catch_all)
        # Bo away: the hot KL lead has nobody left -> next rule
        self.m_bo.lead_available = False
        lead_kl2 = self.Lead.create(dict(HOT, name="KL hot 2", country_id=malaysia.id, zip="50000",
                                         lead_skill_ids=[(6, 0, self.mandarin.ids)]))
        log = lead_kl2.lead_assignment_log_ids
        self.assertEqual(log.rule_id, catch_all)
        self.assertIn("Bo (away)", log.reason)
        self.assertIn(lead_kl2.user_id, self.ali | self.siti)


@tagged("post_install", "-at_install")
class TestAvailability(LeadDistributionCase):

    def _give_calendar(self, user, tz):
        calendar = self.env.ref("resource.resource_calendar_std")  # Mon-Fri 8-12, 13-17
        user.tz = tz
        return self.env["resource.resource"].create({
            "name": user.name, "user_id": user.id, "calendar_id": calendar.id, "tz": tz})

    def test_off_hours_in_agent_time_zone(self):
        self._give_calendar(self.ali, "Asia/Kuala_Lumpur")  # UTC+8
        self._give_calendar(self.siti, "Europe/Brussels")   # UTC+1 in March
        self.m_bo.lead_available = False
        self._rule()
        # Monday 03:00 UTC = 11:00 in Kuala Lumpur (on shift), 04:00 in Brussels (off)
        with freeze_time("2026-03-02 03:00:00"):
            lead = self._leads(1)
        self.assertEqual(lead.user_id, self.ali)
        self.assertIn("Siti (off shift)", lead.lead_assignment_log_ids.reason)
        # Monday 12:30 UTC = 20:30 in Kuala Lumpur (off), 13:30 in Brussels (on)
        with freeze_time("2026-03-02 12:30:00"):
            lead = self._leads(1)
        self.assertEqual(lead.user_id, self.siti)
        self.assertIn("Ali (off shift)", lead.lead_assignment_log_ids.reason)

    def test_leave(self):
        resource = self._give_calendar(self.ali, "UTC")
        self.env["resource.calendar.leaves"].create({
            "name": "Holiday", "resource_id": resource.id,
            "calendar_id": resource.calendar_id.id,
            "date_from": datetime(2026, 3, 2, 0, 0), "date_to": datetime(2026, 3, 6, 23, 0)})
        self._rule()
        with freeze_time("2026-03-03 10:00:00"):
            leads = self._leads(2)
        self.assertEqual(self._owners(leads), [self.siti, self.bo])
        self.assertIn("Ali (on leave)", leads[0].lead_assignment_log_ids.reason)
        with freeze_time("2026-03-09 10:00:00"):  # back: rejoins where he stands
            leads = self._leads(3)
        self.assertEqual(self._owners(leads), [self.ali, self.siti, self.bo])

    def test_capacity(self):
        self.m_ali.lead_max_open = 2
        self._leads(2, user_id=self.ali.id)
        won = self._leads(1, user_id=self.siti.id)
        won.action_set_won()
        self.m_siti.lead_max_open = 1  # the won lead is not open
        self._rule()
        leads = self._leads(3)
        self.assertEqual(self._owners(leads), [self.siti, self.bo, self.bo])
        self.assertIn("Ali (at capacity 2/2)", leads[0].lead_assignment_log_ids.reason)
        self.assertIn("Siti (at capacity 1/1)", leads[2].lead_assignment_log_ids.reason)

    def test_away(self):
        self.m_siti.lead_available = False
        self._rule()
        self.assertEqual(self._owners(self._leads(3)), [self.ali, self.bo, self.ali])


@tagged("post_install", "-at_install")
class TestFallbacks(LeadDistributionCase):

    def _everybody_away(self):
        (self.m_ali | self.m_siti | self.m_bo).lead_available = False

    def test_fallback_user(self):
        self._everybody_away()
        self._rule(fallback="user", fallback_user_id=self.manager.id)
        lead = self._leads(1)
        self.assertEqual(lead.user_id, self.manager)
        self.assertIn("Fallback to Mona Manager", lead.lead_assignment_log_ids.reason)

    def test_fallback_next_rule(self):
        other_team = self.env["crm.team"].create({"name": "Overflow"})
        overflow = self._agent("ld_over", "Olga")
        self.env["crm.team.member"].create({"crm_team_id": other_team.id, "user_id": overflow.id})
        self._everybody_away()
        self._rule(fallback="next_rule", sequence=1)
        self._rule(name="Overflow", team_id=other_team.id, sequence=2)
        lead = self._leads(1)
        self.assertEqual(lead.user_id, overflow)
        self.assertEqual(lead.team_id, other_team)
        self.assertIn("nobody available", lead.lead_assignment_log_ids.reason)

    def test_fallback_unassigned_notifies_leader_and_backlog_routes_later(self):
        self._everybody_away()
        self._rule(fallback="unassigned")
        lead = self._leads(1)
        self.assertFalse(lead.user_id)
        self.assertEqual(lead.team_id, self.team)
        self.assertTrue(lead.lead_routing_pending)
        log = lead.lead_assignment_log_ids
        self.assertEqual(len(log), 1)
        self.assertFalse(log.user_id)
        self.assertIn("Left unassigned in team Routing Team", log.reason)
        self.assertIn(self.manager.partner_id, lead.message_ids.partner_ids)
        # nobody yet: the cron leaves it waiting, without a new log
        self.env["crm.lead"]._cron_lead_distribution_backlog()
        self.assertFalse(lead.user_id)
        self.assertEqual(len(lead.lead_assignment_log_ids), 1)
        cron = self.env.ref("lead_distribution.ir_cron_route_backlog")
        before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])
        self.m_siti.lead_available = True  # back: the job is triggered at once
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), before + 1)
        cron.method_direct_trigger()
        self.assertEqual(lead.user_id, self.siti)
        self.assertFalse(lead.lead_routing_pending)
        self.assertEqual(len(lead.lead_assignment_log_ids), 2)

    def test_backlog_at_start_of_next_shift(self):
        for user in (self.ali, self.siti, self.bo):
            user.tz = "UTC"
            self.env["resource.resource"].create({
                "name": user.name, "user_id": user.id, "tz": "UTC",
                "calendar_id": self.env.ref("resource.resource_calendar_std").id})
        self._rule()
        cron = self.env.ref("lead_distribution.ir_cron_route_backlog")
        Trigger = self.env["ir.cron.trigger"]
        with freeze_time("2026-03-02 20:00:00"):  # Monday evening: all off shift
            lead = self._leads(1)
        self.assertTrue(lead.lead_routing_pending)
        # the backlog job is due at the start of Tuesday's shift
        self.assertTrue(Trigger.search([("cron_id", "=", cron.id),
                                        ("call_at", "=", datetime(2026, 3, 3, 8, 0))]))
        with freeze_time("2026-03-03 08:05:00"):
            self.env["crm.lead"]._cron_lead_distribution_backlog()
        self.assertEqual(lead.user_id, self.ali)


@tagged("post_install", "-at_install")
class TestRouteContract(LeadDistributionCase):

    def test_route_sla_excludes_current_owner(self):
        self._rule()
        lead = self._leads(1)
        self.assertEqual(lead.user_id, self.ali)
        result = lead._lead_distribution_route(kind="sla", exclude_users=self.ali, reason="SLA breached")
        self.assertEqual(result, {lead.id: self.siti.id})
        self.assertEqual(lead.user_id, self.siti)
        log = lead.lead_assignment_log_ids.filtered(lambda l: l.kind == "sla")
        self.assertEqual(log.previous_user_id, self.ali)
        self.assertTrue(log.reason.startswith("SLA breached: Round robin in 'Routing Team' pool: Siti"))
        self.assertIn("Ali (excluded)", log.reason)

    def test_route_unmatched_maps_to_false_and_untouched(self):
        self._rule(domain="[('lead_tier', '=', 'hot')]")
        lead = self._leads(1, user_id=self.bo.id)
        self.assertEqual(lead._lead_distribution_route(kind="sla", exclude_users=self.bo), {lead.id: False})
        self.assertEqual(lead.user_id, self.bo)

    def test_log_contents_and_chatter(self):
        self.m_bo.lead_max_open = 1
        self._leads(1, user_id=self.bo.id)
        self.m_siti.lead_available = False
        rule = self._rule(name="Main")
        lead = self._leads(1)
        log = lead.lead_assignment_log_ids
        self.assertRecordValues(log, [{
            "user_id": self.ali.id, "previous_user_id": False, "team_id": self.team.id,
            "rule_id": rule.id, "strategy": "round_robin", "kind": "auto"}])
        self.assertEqual(log.reason, "Round robin in 'Routing Team' pool: Ali; "
                                     "skipped Siti (away), Bo (at capacity 1/1)")
        note = lead.message_ids.filtered(lambda m: "Routed to Ali" in (m.body or ""))
        self.assertEqual(len(note), 1)

    def test_fairness_report(self):
        self.m_ali.lead_weight = 2.0
        self._rule(strategy="weighted")
        self._leads(8)
        self.env.flush_all()
        rows = self.env["lead.distribution.fairness"].search([("team_id", "=", self.team.id)])
        by_user = {r.user_id: r for r in rows}
        self.assertEqual(by_user[self.ali].received, 4)
        self.assertAlmostEqual(by_user[self.ali].expected, 4.0)
        self.assertAlmostEqual(by_user[self.siti].expected, 2.0)
        self.assertAlmostEqual(rows[0].jain_index, 1.0, places=6)


@tagged("post_install", "-at_install")
class TestRoutingMisc(LeadDistributionCase):

    def test_rules_are_per_company(self):
        other = self.env["res.company"].create({"name": "Other Co"})
        other_team = self.env["crm.team"].create({"name": "Other team", "company_id": other.id})
        olga = new_test_user(self.env, login="ld_olga", name="Olga", company_id=other.id,
                             company_ids=[(6, 0, (other | self.company).ids)],
                             groups="sales_team.group_sale_salesman,base.group_user")
        self.env["crm.team.member"].create({"crm_team_id": other_team.id, "user_id": olga.id})
        self.env["lead.routing.rule"].create({
            "name": "Other", "team_id": other_team.id, "company_id": other.id})
        lead = self._leads(1, company_id=self.company.id)
        self.assertFalse(lead.lead_assignment_log_ids)  # no rule of its company
        other_lead = self._leads(1, company_id=other.id)
        self.assertEqual(other_lead.user_id, olga)

    def test_territory_computed_and_editable(self):
        fr = self.env.ref("base.fr")
        paris = self.env["lead.territory"].create({"name": "Paris", "country_id": fr.id, "zip_prefixes": "75"})
        france = self.env["lead.territory"].create({"name": "France", "country_id": fr.id})
        lead = self.Lead.create({"name": "Paris lead", "country_id": fr.id, "zip": "75011"})
        self.assertEqual(lead.lead_territory_id, paris)
        lead.zip = "13001"
        self.assertEqual(lead.lead_territory_id, france)
        lead.lead_territory_id = paris
        self.assertEqual(lead.lead_territory_id, paris)

    def test_backlog_releases_leads_no_rule_matches_any_more(self):
        rule = self._rule()
        (self.m_ali | self.m_siti | self.m_bo).lead_available = False
        lead = self._leads(1)
        self.assertTrue(lead.lead_routing_pending)
        rule.active = False
        self.env["crm.lead"]._cron_lead_distribution_backlog()
        self.assertFalse(lead.lead_routing_pending)
        self.assertFalse(lead.user_id)

    def test_jain_index_of_an_unfair_month(self):
        self.env["lead.distribution.share"].create([
            {"date": "2026-03-02", "team_id": self.team.id, "user_id": u.id, "expected": 10, "received": r}
            for u, r in ((self.ali, 30), (self.siti, 0), (self.bo, 0))])
        self.env.flush_all()
        rows = self.env["lead.distribution.fairness"].search([("team_id", "=", self.team.id)])
        self.assertEqual(len(rows), 3)
        self.assertAlmostEqual(rows[0].jain_index, 1 / 3, places=6)
        self.assertAlmostEqual(rows.filtered(lambda r: r.user_id == self.ali).ratio, 3.0)


@tagged("post_install", "-at_install")
class TestFairnessPolicy(LeadDistributionCase):

    def _state(self, rule):
        rule.invalidate_recordset(["state_ids"])
        return {s.user_id.login: (s.assigned_count, s.current_weight) for s in rule.state_ids}

    def test_adding_and_removing_agents_keeps_the_others_counts(self):
        rule = self._rule()
        self._leads(4)  # Ali, Siti, Bo, Ali
        before = self._state(rule)
        self.assertEqual({k: v[0] for k, v in before.items()}, {"ld_ali": 2, "ld_siti": 1, "ld_bo": 1})
        newbie = self._agent("ld_new", "Nina")
        self.env["crm.team.member"].create({"crm_team_id": self.team.id, "user_id": newbie.id})
        self.assertEqual(self._state(rule), before)  # nobody reset
        # the cycle goes on where it was (Siti, Bo were next), the newcomer joins it
        self.assertEqual([u.name for u in self._owners(self._leads(4))], ["Siti", "Bo", "Nina", "Ali"])
        # removing Bo takes only Bo out: the others keep their counts and turns
        counts = {k: v[0] for k, v in self._state(rule).items()}
        self.m_bo.active = False
        self.assertEqual({k: v[0] for k, v in self._state(rule).items()}, counts)
        self.assertEqual([u.name for u in self._owners(self._leads(3))], ["Siti", "Nina", "Ali"])

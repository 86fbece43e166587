from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, tagged

from .common import LeadDistributionCase


@tagged("post_install", "-at_install")
class TestWizards(LeadDistributionCase):

    def test_reassign_wizard_requires_reason_and_logs_manual(self):
        self._rule()
        lead = self._leads(1)
        self.assertEqual(lead.user_id, self.ali)
        Wizard = self.env["lead.reassign"].with_user(self.manager).with_context(
            active_model="crm.lead", active_ids=lead.ids)
        wizard = Wizard.create({"user_id": self.bo.id, "reason": "   "})
        with self.assertRaises(UserError):
            wizard.action_reassign()
        self.assertEqual(lead.user_id, self.ali)
        wizard.reason = "Customer asked for Bo"
        wizard.action_reassign()
        self.assertEqual(lead.user_id, self.bo)
        log = lead.lead_assignment_log_ids.filtered(lambda l: l.kind == "manual")
        self.assertRecordValues(log, [{"user_id": self.bo.id, "previous_user_id": self.ali.id,
                                       "reason": "Customer asked for Bo"}])
        self.assertTrue(lead.message_ids.filtered(lambda m: "Customer asked for Bo" in (m.body or "")))

    def test_reassign_wizard_reason_is_mandatory_in_form(self):
        with self.assertRaises(AssertionError):
            with Form(self.env["lead.reassign"].with_user(self.manager)) as form:
                form.user_id = self.bo

    def test_salesperson_cannot_reassign(self):
        self._rule()
        lead = self._leads(1)
        with self.assertRaises(AccessError):
            self.env["lead.reassign"].with_user(self.siti).create({
                "lead_ids": [(6, 0, lead.ids)], "user_id": self.siti.id, "reason": "mine"})

    def test_transfer_wizard(self):
        self._rule()
        leads = self._leads(6)
        ali_leads = leads.filtered(lambda l: l.user_id == self.ali)
        self.assertEqual(len(ali_leads), 2)
        wizard = self.env["lead.transfer"].with_user(self.manager).create({"user_id": self.ali.id})
        self.assertEqual(wizard.lead_count, 2)
        wizard.action_transfer()
        self.assertFalse(ali_leads.filtered(lambda l: l.user_id == self.ali))
        self.assertTrue(all(ali_leads.mapped("user_id")))
        logs = ali_leads.lead_assignment_log_ids.filtered(lambda l: l.kind == "transfer")
        self.assertEqual(len(logs), 2)
        self.assertEqual(logs.previous_user_id, self.ali)
        self.assertIn("2 lead(s) transferred", wizard.result)
        # history kept: the original automatic logs are still there
        self.assertEqual(len(ali_leads.lead_assignment_log_ids), 4)

    def test_simulate_changes_nothing(self):
        rule = self._rule(strategy="weighted", domain="[('referred', '=', 'sim')]")
        self._leads(2, referred="sim")
        self.m_bo.lead_available = False
        waiting = self.Lead.with_context(lead_distribution_no_route=True).create([
            {"name": "Waiting %s" % i, "referred": "sim", "user_id": False} for i in range(3)])
        self.env.flush_all()
        states = [(s.user_id.id, s.current_weight, s.assigned_count) for s in rule.state_ids]
        seq = rule.routing_seq
        logs = self.env["lead.assignment.log"].search_count([])
        action = rule.with_user(self.manager).action_simulate()
        wizard = self.env["lead.routing.simulate"].browse(action["res_id"])
        self.assertEqual(len(wizard.line_ids), 5)
        self.assertEqual(wizard.line_ids.lead_id & waiting, waiting)  # the backlog is sampled
        self.assertEqual(set(wizard.line_ids.user_id.ids), {self.ali.id, self.siti.id})
        self.assertIn("Bo (away)", wizard.line_ids[0].reason)
        rule.invalidate_recordset()
        self.assertEqual([(s.user_id.id, s.current_weight, s.assigned_count) for s in rule.state_ids], states)
        self.assertEqual(rule.routing_seq, seq)
        self.assertEqual(self.env["lead.assignment.log"].search_count([]), logs)
        self.assertFalse(waiting.user_id)


@tagged("post_install", "-at_install")
class TestAccess(LeadDistributionCase):

    def test_salesperson_cannot_edit_or_take_someone_elses_lead(self):
        lead = self._leads(1, user_id=self.ali.id)
        with self.assertRaises(AccessError):
            lead.with_user(self.siti).write({"user_id": self.siti.id})
        with self.assertRaises(AccessError):
            lead.with_user(self.siti).write({"name": "edited by Siti"})
        lead.with_user(self.ali).write({"name": "edited by Ali"})
        self.assertEqual(lead.name, "edited by Ali")

    def test_salesperson_cannot_give_away_own_lead(self):
        lead = self._leads(1, user_id=self.ali.id)
        with self.assertRaises(AccessError):
            lead.with_user(self.ali).write({"user_id": self.bo.id})
        self.assertEqual(lead.user_id, self.ali)

    def test_salesperson_can_take_unassigned_lead(self):
        lead = self._leads(1, user_id=False)
        lead.with_user(self.siti).write({"user_id": self.siti.id})
        self.assertEqual(lead.user_id, self.siti)

    def test_own_documents_salesperson_blocked_by_record_rule(self):
        own_only = self._agent("ld_own", "Owen", groups="sales_team.group_sale_salesman,base.group_user")
        lead = self._leads(1, user_id=self.ali.id)
        with self.assertRaises(AccessError):
            lead.with_user(own_only).write({"user_id": own_only.id})

    def test_manager_reassigns(self):
        lead = self._leads(1, user_id=self.ali.id)
        lead.with_user(self.manager).write({"user_id": self.bo.id})
        self.assertEqual(lead.user_id, self.bo)

    def test_salesperson_cannot_manage_rules(self):
        with self.assertRaises(AccessError):
            self.env["lead.routing.rule"].with_user(self.ali).create({
                "name": "x", "team_id": self.team.id})

    def test_members_see_their_own_team_distribution(self):
        self._rule()
        self._leads(3)
        other_team = self.env["crm.team"].create({"name": "Other"})
        outsider = self._agent("ld_out", "Otto")
        self.env["crm.team.member"].create({"crm_team_id": other_team.id, "user_id": outsider.id})
        self.env.flush_all()
        Log = self.env["lead.assignment.log"]
        self.assertEqual(Log.with_user(self.siti).search_count([("team_id", "=", self.team.id)]), 3)
        self.assertEqual(Log.with_user(outsider).search_count([("team_id", "=", self.team.id)]), 0)
        Fair = self.env["lead.distribution.fairness"]
        self.assertEqual(len(Fair.with_user(self.siti).search([("team_id", "=", self.team.id)])), 3)
        self.assertFalse(Fair.with_user(outsider).search([("team_id", "=", self.team.id)]))
        self.assertEqual(Log.with_user(self.manager).search_count([("team_id", "=", self.team.id)]), 3)


@tagged("post_install", "-at_install")
class TestBadInput(LeadDistributionCase):

    def test_invalid_domain(self):
        with self.assertRaises(ValidationError):
            self._rule(domain="[('no_such_field', '=', 1)]")
        with self.assertRaises(ValidationError):
            self._rule(domain="not a domain")

    def test_fallback_user_required(self):
        with self.assertRaises(ValidationError):
            self._rule(fallback="user")

    def test_members_must_belong_to_team(self):
        other_team = self.env["crm.team"].create({"name": "Other"})
        outsider = self._agent("ld_out2", "Otto")
        member = self.env["crm.team.member"].create({"crm_team_id": other_team.id, "user_id": outsider.id})
        with self.assertRaises(ValidationError):
            self._rule(member_ids=[(6, 0, member.ids)])

    def test_weight_and_cap(self):
        with self.assertRaises(ValidationError):
            self.m_ali.lead_weight = 0
        with self.assertRaises(ValidationError):
            self.m_ali.lead_max_open = -1

    def test_territory_needs_a_criterion(self):
        with self.assertRaises(ValidationError):
            self.env["lead.territory"].create({"name": "Nowhere"})
        with self.assertRaises(ValidationError):
            self.env["lead.territory"].create({
                "name": "Mixed", "country_id": self.env.ref("base.fr").id,
                "state_ids": [(6, 0, self.env.ref("base.state_us_1").ids)]})

    def test_settings(self):
        settings = self.env["res.config.settings"].create({})
        self.assertEqual(settings.lead_distribution_backlog_interval, 5)
        with self.assertRaises(ValidationError):
            settings.lead_distribution_backlog_interval = 0
        with self.assertRaises(ValidationError):
            self.env["res.config.settings"].create({"lead_distribution_backlog_interval": 2000})
        settings = self.env["res.config.settings"].create({
            "lead_distribution_backlog_interval": 15, "lead_distribution_instant": False,
            "lead_distribution_fallback": "next_rule"})
        settings.execute()
        cron = self.env.ref("lead_distribution.ir_cron_route_backlog")
        self.assertEqual((cron.interval_number, cron.interval_type), (15, "minutes"))
        self.assertFalse(self.company.lead_distribution_instant)
        rule = self.env["lead.routing.rule"].create({"name": "Default", "team_id": self.team.id})
        self.assertEqual(rule.fallback, "next_rule")

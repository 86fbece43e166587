"""Security audit: who may read and change what the suite adds.

Every model the four addons define is found through ``ir.model`` (nothing is
listed by hand, so a model added later is audited too) and checked for six
kinds of user: public, portal, salesperson "own documents only", salesperson
"all documents", sales manager and system administrator.
"""
from odoo.exceptions import AccessError
from odoo.tests import new_test_user

from .common import SuiteTransactionCase

OURS = ("lead_scoring", "lead_distribution", "lead_sla", "lead_channels")
OPERATIONS = ("read", "write", "create", "unlink")
SECRETS = ("app_secret", "access_token", "verify_token")
# what a sales manager configures (issue 15: rules, policies, sequences, channels)
MANAGER_CONFIGURES = ("lead.scoring.rule", "lead.routing.rule", "lead.sla.policy", "lead.channel")


class SecurityCase(SuiteTransactionCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.public = cls.env.ref("base.public_user")
        cls.portal = new_test_user(cls.env, "sec_portal", groups="base.group_portal")
        cls.own = new_test_user(cls.env, "sec_own", name="Own Only",
                                groups="sales_team.group_sale_salesman")
        cls.mate = new_test_user(cls.env, "sec_mate", name="Team Mate",
                                 groups="sales_team.group_sale_salesman")
        cls.all_docs = new_test_user(cls.env, "sec_all", name="All Docs",
                                     groups="sales_team.group_sale_salesman_all_leads")
        cls.manager = new_test_user(cls.env, "sec_manager", name="Sales Manager",
                                    groups="sales_team.group_sale_manager")
        cls.admin = cls.env.ref("base.user_admin")

    @classmethod
    def our_models(cls, transient=True):
        """Names of the concrete models the suite defines (not the ones it extends)."""
        rows = cls.env["ir.model.data"].search([("model", "=", "ir.model"), ("module", "in", OURS)])
        names = set(cls.env["ir.model"].browse(rows.mapped("res_id")).mapped("model"))
        found = []
        for name in sorted(names):
            model = cls.env.get(name)
            if model is None or model._abstract or model._original_module not in OURS:
                continue
            if model._transient and not transient:
                continue
            found.append(name)
        return found

    def allowed(self, user, model, operation):
        return self.env["ir.model.access"].with_user(user).check(model, operation, raise_exception=False)


class TestAccessMatrix(SecurityCase):

    def test_models_are_found(self):
        models = self.our_models()
        for name in MANAGER_CONFIGURES + ("lead.channel.event", "lead.assignment.log",
                                          "lead.sla.report", "lead.channel.report"):
            self.assertIn(name, models, "the audit covers every model the suite adds")

    def test_public_and_portal_users_see_and_change_nothing(self):
        for user in (self.public, self.portal):
            for name in self.our_models():
                for operation in OPERATIONS:
                    self.assertFalse(self.allowed(user, name, operation),
                                     "%s may %s %s" % (user.login, operation, name))
                with self.assertRaises(AccessError, msg="%s searches %s" % (user.login, name)):
                    self.env[name].with_user(user).search([], limit=1)

    def test_salespeople_change_no_configuration_nor_log(self):
        for user in (self.own, self.all_docs):
            for name in self.our_models(transient=False):
                for operation in ("write", "create", "unlink"):
                    self.assertFalse(self.allowed(user, name, operation),
                                     "salesperson %s may %s %s" % (user.login, operation, name))

    def test_salespeople_cannot_configure_for_real(self):
        channel = self.env["lead.channel"].create({"name": "WA", "channel_type": "whatsapp"})
        team = self.env["crm.team"].create({"name": "Sec Team"})
        records = {
            "lead.channel": channel,
            "lead.scoring.rule": self.env["lead.scoring.rule"].create({"name": "R", "points": 5}),
            "lead.routing.rule": self.env["lead.routing.rule"].create({"name": "R", "team_id": team.id}),
            "lead.sla.policy": self.env["lead.sla.policy"].create({"name": "P"}),
        }
        for user in (self.own, self.all_docs):
            for name, record in records.items():
                with self.assertRaises(AccessError, msg="%s renames a %s" % (user.login, name)):
                    record.with_user(user).write({"name": "hijacked"})
                with self.assertRaises(AccessError, msg="%s creates a %s" % (user.login, name)):
                    self.env[name].with_user(user).create({"name": "mine"})
                with self.assertRaises(AccessError, msg="%s deletes a %s" % (user.login, name)):
                    record.with_user(user).unlink()

    def test_managers_configure_rules_policies_sequences_and_channels(self):
        names = list(MANAGER_CONFIGURES) + [n for n in self.our_models(transient=False)
                                             if n.endswith((".sequence", ".sequence.step", ".nurture.step"))]
        for name in names:
            for operation in OPERATIONS:
                self.assertTrue(self.allowed(self.manager, name, operation),
                                "a sales manager may %s %s" % (operation, name))
        env = self.env(user=self.manager)
        team = env["crm.team"].create({"name": "Managed Team"})
        channel = env["lead.channel"].create({"name": "Web", "channel_type": "web_form"})
        rule = env["lead.routing.rule"].create({"name": "All", "team_id": team.id,
                                                "domain": "[('type', '=', 'lead')]"})
        scoring = env["lead.scoring.rule"].create({"name": "Has phone", "points": 10,
                                                   "domain": "[('phone', '!=', False)]"})
        policy = env["lead.sla.policy"].create({"name": "Fast", "response_minutes": 30, "warn_minutes": 10})
        for record in (channel, rule, scoring, policy):
            record.write({"name": "Renamed"})
            self.assertEqual(record.name, "Renamed")

    def test_system_administrator_reads_every_model(self):
        for name in self.our_models(transient=False):
            self.assertTrue(self.allowed(self.admin, name, "read"), "the administrator reads %s" % name)
            self.env[name].with_user(self.admin).search([], limit=1)


    def test_shared_contact_cards_follow_their_lead(self):
        Lead = self.env["crm.lead"]
        mine = Lead.create({"name": "Own lead", "user_id": self.own.id})
        theirs = Lead.create({"name": "Mate's lead", "user_id": self.mate.id})
        Card = self.env["lead.channel.shared.contact"]
        cards = Card.create([{"lead_id": lead.id, "name": "Friend", "phone": "+60123000%03d" % i,
                              "key": "+60123000%03d" % i} for i, lead in enumerate(mine | theirs)])
        self.assertEqual(Card.with_user(self.own).search([("id", "in", cards.ids)]).lead_id, mine)
        self.assertEqual(Card.with_user(self.all_docs).search([("id", "in", cards.ids)]), cards)

class TestChannelSecrets(SecurityCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.secret_values = {"app_secret": "app-secret-9f8e7d", "access_token": "EAAG-page-token-77",
                             "verify_token": "verify-token-55"}
        cls.channel = cls.env["lead.channel"].create(dict(
            cls.secret_values, name="WhatsApp Secrets", channel_type="whatsapp"))

    def test_nobody_below_administrator_reads_a_secret(self):
        for user in (self.own, self.all_docs, self.manager):
            channel = self.channel.with_user(user)
            for fname in SECRETS:
                with self.assertRaises(AccessError, msg="%s reads %s" % (user.login, fname)):
                    channel.read([fname])
                with self.assertRaises(AccessError, msg="%s searches on %s" % (user.login, fname)):
                    channel.search([(fname, "=", self.secret_values[fname])])
                with self.assertRaises(AccessError, msg="%s groups by %s" % (user.login, fname)):
                    channel.read_group([], [fname], [fname])
            self.assertFalse(set(SECRETS) & set(channel.fields_get()), "not even described")
            everything = str(channel.read()) + str(channel.web_read({"display_name": {}, "webhook_url": {}}))
            for value in self.secret_values.values():
                self.assertNotIn(value, everything)
        self.assertEqual(self.channel.with_user(self.admin).read(["app_secret"])[0]["app_secret"],
                         "app-secret-9f8e7d")

    def test_changing_a_secret_leaves_no_trace_in_the_chatter(self):
        self.channel.with_context(tracking_disable=False).write({
            "app_secret": "rotated-secret-123", "access_token": "rotated-token-456", "name": "WA 2"})
        messages = self.env["mail.message"].search([("model", "=", "lead.channel"),
                                                    ("res_id", "=", self.channel.id)])
        tracked = messages.sudo().tracking_value_ids
        text = str(messages.mapped("body")) + str(tracked.mapped("old_value_char")) + str(
            tracked.mapped("new_value_char"))
        for value in ("rotated-secret-123", "rotated-token-456", "app-secret-9f8e7d", "EAAG-page-token-77"):
            self.assertNotIn(value, text)

    def test_tokens_are_unguessable(self):
        channels = self.env["lead.channel"].create([
            {"name": "Form %s" % i, "channel_type": "web_form"} for i in range(20)])
        tokens = channels.mapped("token")
        self.assertEqual(len(set(tokens)), 20)
        for token in tokens:
            # base64url: 4 characters carry 3 random bytes; 32 bytes need 43 characters
            self.assertGreaterEqual(len(token) * 6 // 8, 32, "at least 32 random bytes: %s" % token)
            self.assertRegex(token, r"^[A-Za-z0-9_-]+$", "safe in a URL as it is")
        regenerated = self.channel.token
        self.channel.action_regenerate_token()
        self.assertNotEqual(self.channel.token, regenerated)
        self.assertGreaterEqual(len(self.channel.token) * 6 // 8, 32)

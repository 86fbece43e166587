from collections import Counter

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .common import BEFORE_PERIOD, PERIOD, DashboardCase, percentile_cont


@tagged("post_install", "-at_install")
class TestDashboardFigures(DashboardCase):
    """The figures a manager reads agree with the leads, computed here from
    what the leads are, not from the dashboard's queries."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        a, b, d, kl = cls.alice, cls.bob, cls.dave, cls.team_kl
        wa, web, guru, fb = cls.whatsapp, cls.web, cls.src_guru, cls.src_fb
        # (owner, channel, source, stage index, outcome, revenue, sla, minutes, reason)
        cls.specs = [
            (a, wa, guru, 0, "open", 0, "met", 10, None),
            (a, wa, guru, 0, "won", 1000, "met", 30, None),
            (a, web, fb, 1, "lost", 0, "late", 200, cls.reason_price),
            (a, wa, fb, 1, "open", 0, "breached", None, None),
            (b, web, guru, 0, "won", 3000, "met", 60, None),
            (b, web, None, 2, "open", 0, "met", 90, None),
            (b, None, fb, 0, "lost", 0, None, None, cls.reason_gone),
            (None, wa, guru, 0, "open", 0, None, None, None),
            (d, wa, guru, 1, "open", 0, "late", 120, None),
            (a, web, fb, 2, "lost", 0, None, None, cls.reason_price),
        ]
        cls.kl_leads = cls.env["crm.lead"]
        for owner, channel, source, stage, outcome, revenue, sla, minutes, reason in cls.specs:
            cls.kl_leads |= cls._lead(owner, kl, channel, source, stage, outcome, revenue,
                                      sla=sla, minutes=minutes, reason=reason)
        # before the period: not in the period's figures, but open (capacity)
        cls.old_lead = cls._lead(a, kl, wa, guru, created=BEFORE_PERIOD, sla="met", minutes=5)
        cls.pg_leads = (
            cls._lead(cls.carol, cls.team_pg, wa, fb, outcome="won", revenue=500, sla="met",
                      minutes=15)
            | cls._lead(cls.carol, cls.team_pg, web, guru, sla="breached"))
        cls.b_lead = cls._lead(cls.erin, cls.team_b, cls.whatsapp_b, guru, outcome="won",
                               revenue=9999, sla="met", minutes=1)

    def _spec_leads(self, predicate):
        return self.kl_leads.browse([
            lead.id for lead, spec in zip(self.kl_leads, self.specs) if predicate(*spec)])

    def test_leads_conversion_and_revenue_by_channel_and_source(self):
        data = self._data(team=self.team_kl)
        self.assertEqual(data["totals"]["leads"]["value"], len(self.specs))
        won = [s for s in self.specs if s[4] == "won"]
        self.assertEqual(data["totals"]["won"]["value"], len(won))
        self.assertEqual(data["totals"]["lost"]["value"], len([s for s in self.specs if s[4] == "lost"]))
        self.assertEqual(data["totals"]["conversion"], round(100 * len(won) / len(self.specs), 1))

        by_channel = {row["id"]: row for row in data["channels"]}
        counted = Counter(s[1].id if s[1] else False for s in self.specs)
        won_by = Counter(s[1].id if s[1] else False for s in won)
        self.assertEqual({k: r["leads"]["value"] for k, r in by_channel.items()}, dict(counted))
        for key, count in counted.items():
            self.assertEqual(by_channel[key]["won"]["value"], won_by[key])
            self.assertEqual(by_channel[key]["conversion"], round(100 * won_by[key] / count, 1))
        self.assertEqual(by_channel[self.whatsapp.id]["type"], "whatsapp")

        by_source = {row["id"]: row for row in data["sources"]}
        counted = Counter(s[2].id if s[2] else False for s in self.specs)
        self.assertEqual({k: r["leads"]["value"] for k, r in by_source.items()}, dict(counted))
        guru_revenue = sum(s[5] for s in won if s[2] == self.src_guru)
        self.assertEqual(by_source[self.src_guru.id]["revenue"]["value"], guru_revenue)
        self.assertEqual(by_source[self.src_guru.id]["revenue_per_lead"],
                         round(guru_revenue / counted[self.src_guru.id], 2))
        self.assertEqual(by_source[self.src_fb.id]["revenue_per_lead"], 0.0)

    def test_stage_funnel_and_lost_reasons(self):
        data = self._data(team=self.team_kl)
        order = list(self.stages.ids)
        position = [order.index(self.won_stage.id) if s[4] == "won" else s[3] for s in self.specs]
        for row in data["stages"]:
            index = order.index(row["id"])
            reached = len([p for p in position if p >= index])
            self.assertEqual(row["reached"]["value"], reached, row["name"])
            self.assertEqual(row["current"]["value"], position.count(index), row["name"])
            self.assertEqual(row["reached_rate"], round(100 * reached / len(self.specs), 1))
        self.assertEqual(data["stages"][0]["reached"]["value"], len(self.specs))

        reasons = {row["id"]: row["count"]["value"] for row in data["lost_reasons"]}
        self.assertEqual(reasons, dict(Counter(s[8].id for s in self.specs if s[4] == "lost")))

    def test_response_times_and_sla_compliance_per_salesperson(self):
        data = self._data(team=self.team_kl)
        rows = {row["user_id"]: row for row in data["salespeople"]}
        self.assertEqual(set(rows), {self.alice.id, self.bob.id, self.dave.id})
        for user in (self.alice, self.bob, self.dave):
            mine = [s for s in self.specs if s[0] == user]
            minutes = [s[7] for s in mine if s[7] is not None]
            row = rows[user.id]
            self.assertEqual(row["answered"]["value"], len(minutes), user.name)
            self.assertAlmostEqual(row["median"], round(percentile_cont(minutes, 0.5), 1))
            self.assertAlmostEqual(row["p90"], round(percentile_cont(minutes, 0.9), 1))
            statuses = Counter(s[6] for s in mine)
            decided = statuses["met"] + statuses["late"] + statuses["breached"]
            self.assertEqual(row["on_time"]["value"], statuses["met"])
            self.assertEqual(row["late"]["value"], statuses["late"])
            self.assertEqual(row["breached"]["value"], statuses["breached"])
            self.assertEqual(row["compliance"], round(100 * statuses["met"] / decided, 1))
        # Alice: 10, 30 and 200 minutes; on time twice out of four decided clocks
        self.assertEqual((rows[self.alice.id]["median"], rows[self.alice.id]["p90"]), (30.0, 166.0))
        self.assertEqual(rows[self.alice.id]["compliance"], 50.0)
        everyone = [s[7] for s in self.specs if s[7] is not None and s[0]]
        self.assertEqual(data["response"]["answered"]["value"], len(everyone))
        self.assertAlmostEqual(data["response"]["median"], round(percentile_cont(everyone, 0.5), 1))

    def test_capacity_away_and_queue(self):
        data = self._data(team=self.team_kl)
        agents = {agent["user_id"]: agent for agent in data["agents"]}
        self.assertEqual(set(agents), {self.alice.id, self.bob.id, self.dave.id})
        open_alice = len([s for s in self.specs if s[0] == self.alice and s[4] == "open"]) + 1
        self.assertEqual(agents[self.alice.id]["open"]["value"], open_alice)  # + the older lead
        self.assertEqual(agents[self.alice.id]["max_open"], 4)
        self.assertEqual(agents[self.alice.id]["load"], round(100 * open_alice / 4, 1))
        self.assertIsNone(agents[self.bob.id]["load"])  # no cap
        self.assertFalse(agents[self.bob.id]["available"])
        self.assertEqual(data["away"]["value"], 1)
        self.assertEqual(data["queue"]["unassigned"]["value"], 1)
        overdue = [s for s in self.specs if s[6] == "breached" and s[4] == "open"]
        self.assertEqual(data["queue"]["overdue"]["value"], len(overdue))

    def test_every_figure_opens_exactly_the_records_it_counts(self):
        for kwargs in ({"team": self.team_kl}, {}, {"user": self.alice}, {"user": self.dave}):
            env = self.env(user=kwargs.get("user", self.manager))
            checked = self._check_figures(env, self._data(**kwargs))
            self.assertGreater(checked, 20)

    def _check_figures(self, env, node, key=None):
        """Walk the answer: each figure's domain finds, for the same user, the
        records it counts (or sums, for revenue and fairness)."""
        if isinstance(node, list):
            return sum(self._check_figures(env, item, key) for item in node)
        if not isinstance(node, dict):
            return 0
        if "domain" in node and "value" in node:
            records = env[node.get("model", "crm.lead")].search(node["domain"])
            if key == "revenue":
                self.assertAlmostEqual(sum(records.mapped("expected_revenue")), node["value"])
            elif key == "received":
                self.assertEqual(sum(records.mapped("received")), node["value"])
            else:
                self.assertEqual(len(records), node["value"], "%s: %s" % (key, node["domain"]))
            return 1
        return sum(self._check_figures(env, value, k) for k, value in node.items())

    def test_lost_and_won_leads_of_other_periods_stay_out(self):
        data = self._data(team=self.team_kl, period=("2025-02-01", "2025-02-28"))
        self.assertEqual(data["totals"]["leads"]["value"], 1)  # the older lead only
        self.assertEqual(data["totals"]["won"]["value"], 0)


@tagged("post_install", "-at_install")
class TestDashboardAccess(DashboardCase):
    """Salespeople get their team and themselves; companies never mix."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.kl = (cls._lead(cls.alice, cls.team_kl, cls.whatsapp, sla="met", minutes=10)
                  | cls._lead(cls.bob, cls.team_kl, cls.web, outcome="won", revenue=100)
                  | cls._lead(None, cls.team_kl, cls.web)
                  | cls._lead(cls.dave, cls.team_kl, cls.whatsapp))
        cls.pg = cls._lead(cls.carol, cls.team_pg, cls.whatsapp, outcome="won", revenue=700)
        # Alice answered a Penang lead once: her own leads are hers to see
        cls.alice_pg = cls._lead(cls.alice, cls.team_pg, cls.web, sla="met", minutes=20)
        cls.b = cls._lead(cls.erin, cls.team_b, cls.whatsapp_b, outcome="won", revenue=9000)

    def test_salesperson_sees_their_team_and_their_own_leads(self):
        data = self._data(user=self.alice)
        self.assertEqual(data["totals"]["leads"]["value"], len(self.kl | self.alice_pg))
        self.assertEqual([t["id"] for t in data["teams"]], [self.team_kl.id])
        self.assertFalse(data["is_manager"])
        self.assertNotIn(self.carol.id, [a["user_id"] for a in data["agents"]])
        with self.assertRaisesRegex(AccessError, "your own sales teams"):
            self._data(user=self.alice, team=self.team_pg)

    def test_salesperson_with_own_documents_only_counts_own_and_unassigned(self):
        data = self._data(user=self.dave)
        # the "own documents" record rule applies: Dave's lead and the unassigned one
        self.assertEqual(data["totals"]["leads"]["value"], 2)
        self.assertEqual({row["id"] for row in data["channels"]}, {self.whatsapp.id, self.web.id})

    def test_manager_sees_every_team_of_the_selected_companies_only(self):
        data = self._data(companies=self.company_a)
        self.assertEqual(data["totals"]["leads"]["value"], len(self.kl | self.pg | self.alice_pg))
        self.assertNotIn(self.whatsapp_b.id, [row["id"] for row in data["channels"]])
        self.assertNotIn(self.erin.id, [a["user_id"] for a in data["agents"]])
        self.assertNotIn(self.team_b.id, [t["id"] for t in data["teams"]])
        with self.assertRaises(AccessError):
            self._data(team=self.team_b, companies=self.company_a)
        both = self._data(companies=self.company_a | self.company_b)
        self.assertEqual(both["totals"]["leads"]["value"],
                         len(self.kl | self.pg | self.alice_pg | self.b))
        only_b = self._data(team=self.team_b, companies=self.company_a | self.company_b)
        self.assertEqual(only_b["totals"]["won"]["value"], 1)
        self.assertEqual(only_b["sources"][0]["revenue"]["value"], 9000)

    def test_a_period_the_dashboard_cannot_show_is_refused_clearly(self):
        with self.assertRaisesRegex(UserError, "before it starts"):
            self._data(period=("2025-03-31", "2025-03-01"))
        with self.assertRaisesRegex(UserError, "YYYY-MM-DD"):
            self._data(period=("31/03/2025", "2025-04-01"))
        with self.assertRaisesRegex(UserError, "longer than 366 days"):
            self._data(period=("2023-01-01", "2025-01-01"))


@tagged("post_install", "-at_install")
class TestDashboardFairness(DashboardCase):

    def test_jain_index_of_the_team_from_the_shares_of_the_months(self):
        Share = self.env["lead.distribution.share"]
        shares = {self.alice: (6, 5.0), self.bob: (2, 4.0), self.dave: (4, 3.0)}
        for user, (received, expected) in shares.items():
            Share.create({"date": "2025-03-05", "team_id": self.team_kl.id, "user_id": user.id,
                          "company_id": self.company_a.id, "received": received,
                          "expected": expected})
        # another month: not in March's index
        Share.create({"date": "2025-01-05", "team_id": self.team_kl.id, "user_id": self.bob.id,
                      "company_id": self.company_a.id, "received": 50, "expected": 1.0})
        self.env.flush_all()
        ratios = [r / e for r, e in shares.values()]
        expected_jain = sum(ratios) ** 2 / (len(ratios) * sum(x * x for x in ratios))
        data = self._data(team=self.team_kl)
        [row] = data["fairness"]
        self.assertAlmostEqual(row["jain"], round(expected_jain, 3))
        self.assertEqual(row["agents"], 3)
        self.assertEqual(row["received"]["value"], 12)
        self.assertLess(row["jain"], 1.0)
        self.assertEqual(PERIOD[0][:7], "2025-03")

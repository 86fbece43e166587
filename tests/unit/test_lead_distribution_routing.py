"""Pure tests of lead_distribution's routing decisions (no Odoo)."""
from datetime import datetime

from lead_distribution_core.routing import (
    ALL_PASSED, FALLBACK_USER, PICKED, UNASSIGNED, Agent, LeadFacts, Pool, needs_open_counts,
    received, route)

NOW = datetime(2026, 3, 2, 10, 0)


def team(*names, **values):
    """Agents keyed 1.. (member ids), user ids 101.., named as given."""
    agents = {}
    for i, name in enumerate(names, 1):
        agents[i] = Agent(key=i, user_id=100 + i, name=name, **values.get(name, {}))
    return agents


def owners(decisions, agents):
    names = {a.user_id: a.name for a in agents.values()}
    return [names.get(d.user_id) for d in decisions]


def test_round_robin_over_a_batch_and_across_batches():
    agents = team("Ali", "Siti", "Bo")
    pools = {1: Pool(key=1, name="All", team_name="Sales", agents=[1, 2, 3])}
    leads = [LeadFacts(id=i, pools=[1]) for i in range(4)]
    decisions, touched = route(leads, pools, agents, NOW)
    assert owners(decisions, agents) == ["Ali", "Siti", "Bo", "Ali"]
    assert all(d.outcome == PICKED for d in decisions)
    # the credits carried to the next batch continue the rotation
    credits = {key: peer.current for key, peer in touched.items()}
    decisions, _touched = route([LeadFacts(id=9, pools=[1])], pools, agents, NOW, credits)
    assert owners(decisions, agents) == ["Siti"]
    assert received(decisions) == {(1, 102): 1}


def test_skipped_agents_are_named_with_a_code():
    agents = team("Ali", "Siti", "Bo", Siti={"available": False}, Bo={"max_open": 1})
    pools = {1: Pool(key=1, team_name="Sales", agents=[1, 2, 3])}
    decisions, _touched = route([LeadFacts(id=1, pools=[1])], pools, agents, NOW,
                                open_counts={103: 1})
    attempt = decisions[0].attempt
    assert owners(decisions, agents) == ["Ali"]
    assert [(s.name, s.code, s.count, s.cap) for s in attempt.skipped] == [
        ("Siti", "away", 0, 0), ("Bo", "at capacity", 1, 1)]
    assert (attempt.label_kind, attempt.label, attempt.chosen_name) == ("team", "Sales", "Ali")


def test_cap_counts_the_leads_of_the_batch():
    agents = team("Ali", "Siti", Ali={"max_open": 1})
    pools = {1: Pool(key=1, agents=[1, 2])}
    decisions, _touched = route([LeadFacts(id=i, pools=[1]) for i in range(3)], pools, agents, NOW,
                                open_counts={})
    assert owners(decisions, agents) == ["Ali", "Siti", "Siti"]


def test_skills_and_territory_narrow_the_pool_and_name_it():
    agents = team("Ali", "Siti", Siti={"skills": frozenset({7})})
    pools = {1: Pool(key=1, team_name="Sales", agents=[1, 2], match_skills=True)}
    decisions, _touched = route([LeadFacts(id=1, pools=[1], skills=frozenset({7}))], pools, agents, NOW)
    assert owners(decisions, agents) == ["Siti"]
    assert decisions[0].attempt.label_kind == "skills"
    pools = {1: Pool(key=1, team_name="Sales", agents=[1, 2], match_territory=True)}
    decisions, _touched = route([LeadFacts(id=1, pools=[1], territory=5)], pools, agents, NOW)
    assert decisions[0].outcome == UNASSIGNED
    assert decisions[0].attempt.empty


def test_fallbacks_next_rule_user_unassigned():
    agents = team("Ali", "Olga", Ali={"available": False})
    pools = {
        1: Pool(key=1, name="Hot", agents=[1], fallback="next_rule"),
        2: Pool(key=2, name="Overflow", agents=[2]),
        3: Pool(key=3, name="Solo", agents=[1], fallback="user", fallback_user_id=555),
        4: Pool(key=4, name="Wait", agents=[1], fallback="unassigned"),
    }
    leads = [LeadFacts(id=1, pools=[1, 2]), LeadFacts(id=2, pools=[3]), LeadFacts(id=3, pools=[4]),
             LeadFacts(id=4, pools=[1]), LeadFacts(id=5, pools=[])]
    decisions, _touched = route(leads, pools, agents, NOW)
    outcome = {d.lead_id: (d.outcome, d.user_id, d.pool) for d in decisions}
    assert outcome == {1: (PICKED, 102, 2), 2: (FALLBACK_USER, 555, 3), 3: (UNASSIGNED, 0, 4),
                       4: (ALL_PASSED, 0, 1)}
    assert [a.pool for a in decisions[0].passed] == [1]
    assert received(decisions) == {(2, 102): 1}  # a fallback gift is not a rotation pick


def test_excluded_agents_and_fallback_user():
    agents = team("Ali", "Siti")
    pools = {1: Pool(key=1, agents=[1, 2], fallback="user", fallback_user_id=101)}
    decisions, _touched = route([LeadFacts(id=1, pools=[1])], pools, agents, NOW, excluded={101})
    assert owners(decisions, agents) == ["Siti"]
    assert decisions[0].attempt.skipped[0].code == "excluded"
    decisions, _touched = route([LeadFacts(id=1, pools=[1])], pools, agents, NOW, excluded={101, 102})
    assert decisions[0].outcome == UNASSIGNED  # the fallback salesperson is excluded too


def test_least_loaded_and_when_counts_are_needed():
    agents = team("Ali", "Siti", "Bo")
    plain = Pool(key=1, agents=[1, 2, 3])
    loaded = Pool(key=2, agents=[1, 2, 3], strategy="least_loaded")
    assert not needs_open_counts([plain], agents)
    assert needs_open_counts([plain, loaded], agents)
    assert needs_open_counts([plain], team("Ali", Ali={"max_open": 3}) | {2: agents[2], 3: agents[3]})
    decisions, _touched = route([LeadFacts(id=i, pools=[2]) for i in range(3)], {2: loaded}, agents, NOW,
                                open_counts={101: 3, 102: 1})
    assert owners(decisions, agents) == ["Bo", "Siti", "Bo"]


def test_off_shift_and_leave_from_intervals():
    shift = [(datetime(2026, 3, 2, 8), datetime(2026, 3, 2, 17))]
    agents = team("Ali", "Siti", "Bo", Ali={"attendance": []}, Siti={"attendance": shift, "leaves": shift},
                  Bo={"attendance": shift})
    decisions, _touched = route([LeadFacts(id=1, pools=[1])], {1: Pool(key=1, agents=[1, 2, 3])}, agents, NOW)
    assert owners(decisions, agents) == ["Bo"]
    assert [(s.name, s.code) for s in decisions[0].attempt.skipped] == [
        ("Ali", "off shift"), ("Siti", "on leave")]


def test_team_pool_keys_and_shares():
    agents = team("Ali", "Siti", Ali={"weight": 3.0})
    pools = {("team", 4): Pool(key=("team", 4), agents=[1, 2], strategy="weighted")}
    decisions, touched = route([LeadFacts(id=1, pools=[("team", 4)])], pools, agents, NOW)
    assert decisions[0].shares == {101: 0.75, 102: 0.25}
    assert set(touched) == {(("team", 4), 101), (("team", 4), 102)}

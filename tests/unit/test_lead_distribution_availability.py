"""Pure tests of agent availability and territory matching (no Odoo)."""
from datetime import datetime

from hypothesis import given, strategies as st

from lead_distribution_core.availability import AgentState, covers, unavailable_reason
from lead_distribution_core.territory import Territory, match_territory, split_list

NOW = datetime(2026, 3, 2, 10, 0)
SHIFT = [(datetime(2026, 3, 2, 8, 0), datetime(2026, 3, 2, 17, 0))]


def test_available_in_shift():
    assert unavailable_reason(AgentState(attendance=SHIFT), NOW) is None


def test_no_calendar_means_always_on_shift():
    assert unavailable_reason(AgentState(attendance=None), NOW) is None


def test_away_beats_everything():
    assert unavailable_reason(AgentState(available=False, attendance=SHIFT), NOW) == "away"


def test_off_shift_and_half_open_bounds():
    assert unavailable_reason(AgentState(attendance=[]), NOW) == "off shift"
    end = datetime(2026, 3, 2, 17, 0)
    assert unavailable_reason(AgentState(attendance=SHIFT), end) == "off shift"
    assert unavailable_reason(AgentState(attendance=SHIFT), datetime(2026, 3, 2, 8, 0)) is None


def test_on_leave():
    leave = [(datetime(2026, 3, 2, 0, 0), datetime(2026, 3, 3, 0, 0))]
    assert unavailable_reason(AgentState(attendance=SHIFT, leaves=leave), NOW) == "on leave"


def test_capacity():
    assert unavailable_reason(AgentState(open_count=20, max_open=20), NOW) == "at capacity 20/20"
    assert unavailable_reason(AgentState(open_count=19, max_open=20), NOW) is None
    assert unavailable_reason(AgentState(open_count=500, max_open=0), NOW) is None


@given(st.integers(0, 50), st.integers(0, 50))
def test_property_capacity(open_count, cap):
    reason = unavailable_reason(AgentState(open_count=open_count, max_open=cap), NOW)
    assert (reason is None) == (cap == 0 or open_count < cap)


def test_covers():
    assert covers(SHIFT, NOW)
    assert not covers([], NOW)
    assert not covers(None, NOW)


def test_territory_most_specific_wins():
    france = Territory(1, country_id=75)
    paris = Territory(2, country_id=75, zip_prefixes=split_list("75, 92"))
    paris15 = Territory(3, country_id=75, zip_prefixes=split_list("75015"))
    lyon = Territory(4, country_id=75, city_names=split_list("Lyon"))
    ts = [france, paris, paris15, lyon]
    assert match_territory(ts, 75, 0, "75001", "Paris") == 2
    assert match_territory(ts, 75, 0, "75 015", "Paris") == 3
    assert match_territory(ts, 75, 0, "69001", " lyon ") == 4
    assert match_territory(ts, 75, 0, "13001", "Marseille") == 1
    assert match_territory(ts, 33, 0, "75001", "Paris") == 0


def test_territory_states_and_company():
    t = Territory(5, state_ids=frozenset({7}), company_id=1)
    assert match_territory([t], 0, 7, "", "", company_id=1) == 5
    assert match_territory([t], 0, 7, "", "", company_id=2) == 0
    assert match_territory([t], 0, 8, "", "") == 0
    assert match_territory([Territory(6)], 1, 1, "1", "x") == 0


def test_presence_is_independent_of_capacity():
    from lead_distribution_core.availability import capacity_reason, presence_reason
    full = AgentState(attendance=SHIFT, open_count=5, max_open=5)
    assert presence_reason(full, NOW) is None
    assert capacity_reason(5, 5) == "at capacity 5/5"
    assert capacity_reason(4, 5) is None
    assert capacity_reason(100, 0) is None
    assert presence_reason(AgentState(available=False), NOW) == "away"

"""Pure tests of the performance tiers (no Odoo)."""
from hypothesis import given, strategies as st

from lead_distribution_core.performance import Figures, team_tiers, tier, weight

TEAM = Figures(closed=40, won=12)  # 30 %


def test_exactly_the_team_rate_is_tier_1():
    assert tier(Figures(closed=10, won=3), TEAM, min_closed=10) == "1"


def test_just_below_the_team_rate_is_tier_2():
    # 3/11 = 27.3 % < 30 %
    assert tier(Figures(closed=11, won=3), TEAM, min_closed=10) == "2"


def test_one_closed_lead_short_of_the_minimum_is_tier_2():
    assert tier(Figures(closed=9, won=9), TEAM, min_closed=10) == "2"


def test_no_closed_lead_is_never_tier_1_even_without_minimum():
    assert tier(Figures(), Figures(), min_closed=0) == "2"


def test_rate_is_a_percentage():
    assert Figures(closed=8, won=2).rate == 25.0
    assert Figures().rate == 0.0


def test_weights_follow_the_bonus():
    assert weight("1", 25) == 1.25
    assert weight("2", 25) == 1.0
    assert weight("1", 0) == 1.0


def test_team_tiers():
    result = team_tiers({1: Figures(10, 5), 2: Figures(30, 7)}, TEAM, 10, 25)
    assert result == {1: ("1", 1.25), 2: ("2", 1.0)}


@given(st.integers(0, 500), st.integers(0, 500), st.integers(0, 500), st.integers(0, 500))
def test_cross_multiplication_agrees_with_rates(won_a, lost_a, won_t, lost_t):
    agent, team = Figures(won_a + lost_a, won_a), Figures(won_t + lost_t, won_t)
    if agent.closed and team.closed:
        expected = won_a / agent.closed >= won_t / team.closed
        assert agent.at_least(team) == expected

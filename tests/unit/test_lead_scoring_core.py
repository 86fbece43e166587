"""Pure tests of the scoring arithmetic (no Odoo)."""
import pytest
from hypothesis import assume, given, strategies as st

from lead_scoring_core.scoring import (
    RuleStats, ThresholdError, check_thresholds, fields_of_domain, gap_narrowed,
    score_leads, suggest_points, tier_for,
)

DEFAULT_TABLE = [
    ("Phone number given", 10), ("Budget stated", 15), ("Timeline given", 20),
    ("Replied to 2+ messages", 10), ("Meeting requested", 25), ("Referral", 15),
    ("Paid ad", 5), ("Budget fits", 15), ("Decision maker", 10), ("Competitor", 10),
]


def test_example_from_the_guide_is_hot():
    matches = [(name, pts, {1} if name in ("Phone number given", "Budget stated",
                                            "Timeline given", "Meeting requested") else set())
               for name, pts in DEFAULT_TABLE]
    result = score_leads([1], matches)[1]
    assert result.score == 70
    assert tier_for(result.score, 60, 30) == "hot"
    assert "Meeting requested: +25" in result.detail()


def test_tiers_at_the_boundaries():
    assert tier_for(60, 60, 30) == "hot"
    assert tier_for(59, 60, 30) == "warm"
    assert tier_for(30, 60, 30) == "warm"
    assert tier_for(29, 60, 30) == "cold"
    assert tier_for(-15, 60, 30) == "cold"


def test_negative_points_lower_the_score():
    result = score_leads([7], [("Phone", 10, {7}), ("Student", -25, {7})])[7]
    assert result.score == -15
    assert result.detail() == "Phone: +10\nStudent: -25"


def test_unmatched_lead_scores_zero_and_says_so():
    result = score_leads([3], [("Phone", 10, {4})])
    assert result[3].score == 0
    assert result[3].detail() == "No scoring rule matched."
    assert 4 not in result  # ids outside the batch are ignored


@pytest.mark.parametrize("hot,warm", [(30, 30), (30, 45), (50, -1)])
def test_invalid_thresholds_are_refused(hot, warm):
    with pytest.raises(ThresholdError):
        check_thresholds(hot, warm)


@pytest.mark.parametrize("hot,warm", [(60, 30), (1, 0), (31, 30)])
def test_valid_thresholds_pass_and_give_three_tiers(hot, warm):
    assert check_thresholds(hot, warm) is None
    assert [tier_for(s, hot, warm) for s in (hot, warm, warm - 1)] == ["hot", "warm", "cold"]


@given(st.integers(-500, 500), st.integers(1, 200), st.integers(0, 199))
def test_tier_is_monotonic(score, hot, warm):
    assume(warm < hot)
    order = {"cold": 0, "warm": 1, "hot": 2}
    assert order[tier_for(score, hot, warm)] <= order[tier_for(score + 1, hot, warm)]


def test_rule_stats_and_lift():
    # 20 won, 20 lost; the signal is on 15 won and 5 lost
    stats = RuleStats(1, 10, matched_won=15, matched_lost=5, total_won=20, total_lost=20)
    assert stats.win_rate_with == pytest.approx(0.75)
    assert stats.win_rate_without == pytest.approx(0.25)
    assert stats.lift == pytest.approx(3.0)
    assert suggest_points(stats) > 20  # more than doubling the win rate


def test_useless_signal_is_suggested_zero_and_harmful_negative():
    same = RuleStats(1, 10, matched_won=10, matched_lost=10, total_won=20, total_lost=20)
    assert suggest_points(same) == 0
    harmful = RuleStats(2, 10, matched_won=2, matched_lost=18, total_won=20, total_lost=20)
    assert suggest_points(harmful) < 0


def test_too_little_data_keeps_current_points():
    stats = RuleStats(1, 25, matched_won=2, matched_lost=1, total_won=20, total_lost=20)
    assert suggest_points(stats) == 25


def test_gap_narrowing():
    assert gap_narrowed(20, 40)
    assert not gap_narrowed(39, 40)
    assert not gap_narrowed(10, None)


def test_fields_of_domain():
    assert fields_of_domain(["|", ("phone", "!=", False), ("partner_id.phone", "!=", False),
                             ("lead_budget", ">", 0)]) == {"phone", "partner_id", "lead_budget"}


def test_recommended_pipeline_reuses_odoos_stages():
    from lead_scoring_core.pipeline import Stage, plan_pipeline

    odoo = [Stage(1, "New", 1, False, True), Stage(2, "Qualified", 2, False, False),
            Stage(3, "Proposition", 3, False, True), Stage(4, "Won", 70, True, True),
            Stage(5, "On hold", 5, False, True), Stage(6, "Old", 6, False, False)]
    plan = plan_pipeline(odoo)
    assert plan.stages == [
        ("New Lead", 1, False, 1), ("Contacted", 2, False, None), ("Qualified", 3, False, 2),
        ("Proposal / Presentation", 4, False, 3), ("Negotiation", 5, False, None),
        ("Won", 6, True, 4)]
    assert plan.remove == [6], "an unmatched empty stage goes"
    assert plan.keep == [5], "an unmatched stage with leads stays: no lead changes stage"
    again = plan_pipeline([Stage(i, name, seq, won, True) for name, seq, won, i in
                           [(n, s, w, i or 10 + s) for n, s, w, i in plan.stages]])
    assert [(n, s, w) for n, s, w, _id in again.stages] == \
        [(n, s, w) for n, s, w, _id in plan.stages]
    assert all(stage_id for *_x, stage_id in again.stages), "the second run reuses every stage"
    assert (again.remove, again.keep) == ([], [])

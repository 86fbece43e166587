"""Points arithmetic, tiers and calibration for lead scoring.

Nothing here imports Odoo: the ORM layer gives plain ids and numbers in and
writes the results back in one statement per batch.
"""
from dataclasses import dataclass, field

TIERS = ("hot", "warm", "cold")


class ThresholdError(ValueError):
    """Raised for tier thresholds that cannot produce three ordered tiers."""


def check_thresholds(hot, warm):
    """Validate the two thresholds; return None or raise ThresholdError."""
    if hot is None or warm is None:
        raise ThresholdError("Both the hot and the warm threshold must be set.")
    if warm < 0:
        raise ThresholdError("The warm threshold cannot be negative (got %s)." % warm)
    if warm >= hot:
        raise ThresholdError(
            "The warm threshold (%s) must be lower than the hot threshold (%s)." % (warm, hot)
        )


def tier_for(score, hot, warm):
    """Tier of a score: hot at or above ``hot``, warm at or above ``warm``."""
    if score >= hot:
        return "hot"
    if score >= warm:
        return "warm"
    return "cold"


@dataclass
class LeadScore:
    score: int = 0
    matched: list = field(default_factory=list)  # [(rule_name, points)]

    def detail(self):
        if not self.matched:
            return "No scoring rule matched."
        return "\n".join(
            "%s: %s%d" % (name, "+" if pts >= 0 else "", pts) for name, pts in self.matched
        )


def score_leads(lead_ids, rule_matches):
    """Sum the points of the rules each lead matched.

    :param lead_ids: iterable of lead ids to score (leads matching nothing get 0)
    :param rule_matches: iterable of ``(rule_name, points, matched_ids)`` in
        rule order, ``matched_ids`` a set/iterable of lead ids matching the rule
    :return: dict lead_id -> LeadScore
    """
    result = {lead_id: LeadScore() for lead_id in lead_ids}
    for name, points, matched_ids in rule_matches:
        for lead_id in matched_ids:
            entry = result.get(lead_id)
            if entry is not None:
                entry.score += points
                entry.matched.append((name, points))
    return result


@dataclass
class RuleStats:
    """Closed-lead statistics of one rule over a period."""
    rule_id: int
    points: int
    matched_won: int
    matched_lost: int
    total_won: int
    total_lost: int

    @property
    def matched(self):
        return self.matched_won + self.matched_lost

    @property
    def unmatched_won(self):
        return self.total_won - self.matched_won

    @property
    def unmatched(self):
        return (self.total_won + self.total_lost) - self.matched

    @property
    def win_rate_with(self):
        return self.matched_won / self.matched if self.matched else 0.0

    @property
    def win_rate_without(self):
        return self.unmatched_won / self.unmatched if self.unmatched else 0.0

    @property
    def lift(self):
        """Win rate with the signal divided by win rate without it.

        ``None`` when it cannot be measured (no lead with, or no lead without,
        the signal, or no win at all without it while some with it).
        """
        if not self.matched or not self.unmatched:
            return None
        if not self.win_rate_without:
            return None if not self.win_rate_with else float("inf")
        return self.win_rate_with / self.win_rate_without


# a signal needs this many closed leads on each side before we suggest anything
MIN_SAMPLE = 5
# and the period this many won and this many lost leads: below, rates of
# 100 % and suggestions are noise
MIN_CLOSED = 30


def enough_closed(won, lost, minimum=MIN_CLOSED):
    """Whether ``won`` won and ``lost`` lost leads are enough to measure rules."""
    return won >= minimum and lost >= minimum
# points scale for suggestions: a lift of 2 (twice the win rate) earns this many points
POINTS_PER_DOUBLING = 20
MAX_SUGGESTED = 50


def suggest_points(stats, min_sample=MIN_SAMPLE):
    """Suggested points for a rule from closed data, or the current points.

    Points follow the log2 of the lift, so a signal that doubles the win rate
    earns ``POINTS_PER_DOUBLING``, one that halves it loses as many, and a
    signal that makes no difference earns 0. Too little data keeps the
    current value: recalibrating on three leads would only add noise.
    """
    import math

    if stats.matched < min_sample or stats.unmatched < min_sample:
        return stats.points
    with_rate = (stats.matched_won + 0.5) / (stats.matched + 1.0)
    without_rate = (stats.unmatched_won + 0.5) / (stats.unmatched + 1.0)
    value = round(POINTS_PER_DOUBLING * math.log2(with_rate / without_rate))
    return max(-MAX_SUGGESTED, min(MAX_SUGGESTED, value))


def gap_narrowed(current_gap, previous_gap, tolerance=0.1):
    """True when the won-vs-lost gap shrank by more than ``tolerance`` (share)."""
    if previous_gap is None or previous_gap <= 0:
        return False
    return current_gap < previous_gap * (1.0 - tolerance)


def fields_of_domain(domain):
    """Top-level field names a domain reads (first element of each path)."""
    names = set()
    for leaf in domain or ():
        if isinstance(leaf, (list, tuple)) and len(leaf) == 3 and isinstance(leaf[0], str):
            names.add(leaf[0].split(".", 1)[0])
    return names

"""Performance tiers of a sales team, from its closed leads.

The rule, as agents read it (README "Performance tiers"):

* a lead counts when it belongs to the team, has an owner and was closed
  (won, or lost and archived) within the last ``days`` days;
* an agent's conversion rate = won / closed of the leads they own;
* the team's rate = won / closed of all those leads of the team;
* **tier 1** = at least ``min_closed`` closed leads AND a rate at or above
  the team's rate; everyone else is **tier 2**;
* with weighting on, a tier-1 agent's routing weight is 1 + bonus / 100,
  a tier-2 agent's 1.0.

Rates are compared as fractions (won_a * closed_t >= won_t * closed_a), never
as rounded percentages: an agent exactly at the team rate is tier 1.
"""
from dataclasses import dataclass

TIER_1 = "1"
TIER_2 = "2"


@dataclass(frozen=True)
class Figures:
    """Closed and won leads of an agent (or a whole team) in the window."""
    closed: int = 0
    won: int = 0

    @property
    def rate(self):
        """Conversion rate in percent (0-100); 0 without closed leads."""
        return 100.0 * self.won / self.closed if self.closed else 0.0

    def at_least(self, other):
        """This rate >= the other's, exactly (cross-multiplied integers)."""
        return self.won * other.closed >= other.won * self.closed


def tier(agent, team, min_closed):
    """'1' or '2' for an agent's Figures against the team's Figures."""
    if agent.closed and agent.closed >= min_closed and agent.at_least(team):
        return TIER_1
    return TIER_2


def weight(tier_code, bonus_percent):
    """Routing weight of a tier when performance weighting is on."""
    return round(1.0 + bonus_percent / 100.0, 4) if tier_code == TIER_1 else 1.0


def team_tiers(agents, team, min_closed, bonus_percent):
    """{key: (tier, weight)} for {key: Figures} of one team's agents."""
    result = {}
    for key, figures in agents.items():
        code = tier(figures, team, min_closed)
        result[key] = (code, weight(code, bonus_percent))
    return result

"""Rotation strategies: smooth weighted round robin, round robin, least loaded.

The state of a rotation is one "current weight" credit per agent (nginx's
smooth weighted round robin).  At each pick every *eligible* agent earns its
weight, the agent with the most credit wins and pays back the total weight
earned in that round.  Consequences, which are the fairness policy:

* deterministic and interleaved: weights 2:1:1 give A B C A B C ... with A
  twice per cycle, exactly 50/25/25 over 100 picks, no bursts;
* an agent that is away/off shift/on leave/full is not eligible, earns no
  credit and keeps the credit it had: when it comes back it rejoins where it
  stands (no catch-up flood, no starvation);
* adding an agent starts it at 0 credit, removing one deletes only its own
  credit: nobody else's position is reset.
"""
from dataclasses import dataclass

STRATEGIES = ("round_robin", "weighted", "least_loaded")


class RotationError(ValueError):
    pass


@dataclass
class Peer:
    """One agent of a pool, as the rotation sees it."""
    key: int                 # user id
    weight: float = 1.0      # lead_weight (> 0)
    current: float = 0.0     # smooth round robin credit, persisted per rule
    load: int = 0            # open leads (least_loaded)
    name: str = ""

    def __post_init__(self):
        if not self.weight or self.weight <= 0:
            raise RotationError("weight of %s must be > 0, got %r" % (self.name or self.key, self.weight))


def _smooth(peers, weight_of):
    total = 0.0
    best = None
    for peer in peers:  # order of the list breaks ties: stable and deterministic
        w = weight_of(peer)
        peer.current += w
        total += w
        if best is None or peer.current > best.current + 1e-9:
            best = peer
    best.current -= total
    return best


def pick(peers, strategy):
    """Pick one peer among ``peers`` (all eligible) and update their credits.

    Returns the chosen :class:`Peer` or ``None`` when ``peers`` is empty.
    ``least_loaded`` picks the fewest open leads; ties go by round robin
    among the tied agents only (the others earn no credit).
    """
    if strategy not in STRATEGIES:
        raise RotationError("unknown strategy %r" % (strategy,))
    peers = list(peers)
    if not peers:
        return None
    if strategy == "weighted":
        chosen = _smooth(peers, lambda p: p.weight)
    elif strategy == "round_robin":
        chosen = _smooth(peers, lambda p: 1.0)
    else:
        low = min(p.load for p in peers)
        chosen = _smooth([p for p in peers if p.load == low], lambda p: 1.0)
    chosen.load += 1
    return chosen


def expected_shares(peers, strategy):
    """Share of the next lead each eligible peer is entitled to (sums to 1)."""
    peers = list(peers)
    if not peers:
        return {}
    if strategy == "weighted":
        total = sum(p.weight for p in peers)
        return {p.key: p.weight / total for p in peers}
    return {p.key: 1.0 / len(peers) for p in peers}


STRATEGY_LABELS = {
    "round_robin": "Round robin",
    "weighted": "Weighted round robin",
    "least_loaded": "Least loaded",
}


def describe(strategy, pool_name, skipped, chosen_name=None, prefix=None):
    """Plain-words reason, e.g. "Round robin in 'Mandarin' pool; skipped Ali (on leave)".

    ``skipped`` is a list of (agent name, reason) pairs.
    """
    text = "%s in '%s' pool" % (STRATEGY_LABELS.get(strategy, strategy), pool_name)
    if chosen_name:
        text += ": %s" % chosen_name
    if skipped:
        text += "; skipped " + ", ".join("%s (%s)" % (n, r) for n, r in skipped)
    if prefix:
        text = "%s: %s" % (prefix, text)
    return text

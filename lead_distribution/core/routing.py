"""Who gets each lead of a batch: the routing decisions, in plain Python.

Specification of :func:`route` (the ORM layer reads the batch's data once,
calls it, then applies the decisions it returns):

* Each lead lists the pools (routing rules, or a team's fallback pool) it
  matches, in rule order.  The first pool with an eligible agent wins.
* A pool's candidates are its agents, narrowed to those having every skill
  the lead needs (``match_skills``) and covering its territory
  (``match_territory``).  The log names the narrowed pool by the skills, else
  the territory, else the team.
* A candidate is skipped when excluded, away, on leave, off shift (constant
  for the batch) or at its open-lead cap (counts include the leads this
  batch already gave); the others are eligible and the pool's strategy picks
  one (:mod:`.rotation`).  Rotation credits are per (pool, agent).
* Nobody eligible: ``next_rule`` passes the lead on to its next pool (noted
  in the final decision); ``user`` gives it to the fallback salesperson
  (unless excluded); otherwise it stays unassigned in the pool's team.  When
  every pool passed it on, it waits unassigned in the last pool's team.

Everything is returned as codes and numbers (:class:`Decision`); the models
put them in words.
"""
from dataclasses import dataclass, field

from .availability import AT_CAPACITY, EXCLUDED, AgentState, presence_reason
from .rotation import Peer, expected_shares, pick

PICKED = "picked"                # an eligible agent was chosen
FALLBACK_USER = "fallback_user"  # nobody eligible: the rule's fallback salesperson
UNASSIGNED = "unassigned"        # nobody eligible: waits in the pool's team
ALL_PASSED = "all_passed"        # every matching pool passed the lead on


@dataclass
class Agent:
    """A salesperson in a team, as routing sees it (one per team member)."""
    key: int                        # team member id
    user_id: int
    name: str = ""
    weight: float = 1.0
    available: bool = True          # the "available for leads" switch
    max_open: int = 0               # open-lead cap, 0 = none
    skills: frozenset = frozenset()
    territories: frozenset = frozenset()
    attendance: list = None         # working intervals around now; None = no calendar
    leaves: list = field(default_factory=list)


@dataclass
class Pool:
    """A routing rule (or a team's fallback pool) as routing sees it."""
    key: object                     # rule id, or ("team", team id)
    name: str = ""
    team_name: str = ""
    strategy: str = "round_robin"
    agents: list = field(default_factory=list)   # Agent keys, in pool order
    fallback: str = "unassigned"    # next_rule | user | unassigned
    fallback_user_id: int = 0
    fallback_user_name: str = ""
    match_skills: bool = False
    match_territory: bool = False


@dataclass
class LeadFacts:
    """What routing reads of one lead."""
    id: int
    pools: list = field(default_factory=list)  # keys of the matching pools, in order
    skills: frozenset = frozenset()
    territory: int = 0


@dataclass
class Skip:
    """An agent left out of a pick, and why (a code of .availability)."""
    name: str
    code: str
    count: int = 0                  # open leads, for AT_CAPACITY
    cap: int = 0


@dataclass
class Attempt:
    """What one pool did with a lead: who was skipped, who (if anyone) got it."""
    pool: object
    label_kind: str                 # team | skills | territory
    label: object                   # team name, skill ids or territory id
    skipped: list = field(default_factory=list)
    empty: bool = False             # no agent with the lead's skills/territory
    chosen_name: str = ""


@dataclass
class Decision:
    lead_id: int
    pool: object                    # key of the deciding pool
    outcome: str                    # PICKED | FALLBACK_USER | UNASSIGNED | ALL_PASSED
    user_id: int = 0
    strategy: str = ""
    shares: dict = field(default_factory=dict)
    attempt: Attempt = None         # the deciding pool's attempt (None for ALL_PASSED)
    passed: list = field(default_factory=list)  # attempts of pools that passed it on


class Router:
    """One batch of routing decisions (see the module's docstring).

    :param pools: {key: Pool}
    :param agents: {agent key: Agent}
    :param now: the batch's moment (naive UTC)
    :param credits: {(pool key, user id): rotation credit}
    :param open_counts: {user id: open leads}, or None when no pool needs them
        (no cap, no least loaded)
    :param excluded: user ids removed from every pool and fallback
    """

    def __init__(self, pools, agents, now, credits=None, open_counts=None, excluded=()):
        self.pools = pools
        self.agents = agents
        self.now = now
        self.credits = credits or {}
        self.open_counts = open_counts if open_counts is not None else {}
        self.excluded = set(excluded)
        self.peers = {}         # (pool key, user id) -> Peer, credits advance in place
        self.touched = {}       # the same, for the peers of pools that picked
        self._presence = {}
        self._static = {}       # pool key -> (eligible, skipped, share key)
        self._shares = {}

    # -- helpers -------------------------------------------------------
    def absence(self, key):
        """Why the agent cannot work now (excluded, away, on leave, off shift), or None."""
        if key not in self._presence:
            agent = self.agents[key]
            self._presence[key] = EXCLUDED if agent.user_id in self.excluded else presence_reason(
                AgentState(available=agent.available, attendance=agent.attendance,
                           leaves=agent.leaves), self.now)
        return self._presence[key]

    def blocked(self, key):
        """A :class:`Skip` when the agent cannot take a lead now, else None."""
        agent = self.agents[key]
        code = self.absence(key)
        if code:
            return Skip(agent.name, code)
        count = self.open_counts.get(agent.user_id, 0)
        if agent.max_open and count >= agent.max_open:
            return Skip(agent.name, AT_CAPACITY, count, agent.max_open)
        return None

    def peer(self, pool, agent):
        """The agent's rotation peer in this pool (credits are per pool and user)."""
        key = (pool.key, agent.user_id)
        if key not in self.peers:
            self.peers[key] = Peer(key=agent.user_id, weight=agent.weight or 1.0,
                                   current=self.credits.get(key, 0.0), name=agent.name)
        return self.peers[key]

    def candidates(self, pool, lead):
        """The pool's agent keys for this lead and how the log names the pool."""
        agents = pool.agents
        kind, label = "team", pool.team_name
        if pool.match_skills and lead.skills:
            agents = [a for a in agents if lead.skills <= self.agents[a].skills]
            kind, label = "skills", lead.skills
        if pool.match_territory and lead.territory:
            agents = [a for a in agents if lead.territory in self.agents[a].territories]
            if kind == "team":
                kind, label = "territory", lead.territory
        return agents, kind, label

    def eligible(self, pool, agents, whole_pool):
        """(eligible peers, skips, share key); cached for a whole pool without a
        cap among its present agents, the same for every lead of the batch."""
        cached = self._static.get(pool.key) if whole_pool else None
        if cached:
            eligible, skipped, share_key = cached
        else:
            eligible, skipped = [], []
            for key in agents:
                skip = self.blocked(key)
                if skip:
                    skipped.append(skip)
                else:
                    eligible.append(self.peer(pool, self.agents[key]))
            share_key = (pool.key, tuple(p.key for p in eligible))
            if whole_pool and not any(self.agents[k].max_open for k in agents if not self.absence(k)):
                self._static[pool.key] = (eligible, skipped, share_key)
        if pool.strategy == "least_loaded":
            for peer in eligible:  # least loaded sees this batch's leads too
                peer.load = self.open_counts.get(peer.key, 0)
        return eligible, skipped, share_key

    def give(self, user_id):
        self.open_counts[user_id] = self.open_counts.get(user_id, 0) + 1

    # -- one lead, one pool --------------------------------------------
    def try_pool(self, pool, lead):
        """(Attempt, chosen Peer or None, shares) of one pool for one lead."""
        agents, kind, label = self.candidates(pool, lead)
        eligible, skipped, share_key = self.eligible(pool, agents, agents is pool.agents)
        attempt = Attempt(pool=pool.key, label_kind=kind, label=label, skipped=skipped,
                          empty=not agents)
        chosen = pick(eligible, pool.strategy)
        if not chosen:
            return attempt, None, {}
        shares = self._shares.get(share_key)
        if shares is None:
            shares = self._shares[share_key] = expected_shares(eligible, pool.strategy)
        for peer in eligible:
            self.touched[(pool.key, peer.key)] = peer
        self.give(chosen.key)
        attempt.chosen_name = chosen.name
        return attempt, chosen, shares

    def decide(self, lead):
        """The :class:`Decision` for one lead, or None when no pool matches it."""
        passed = []
        for key in lead.pools:
            pool = self.pools[key]
            attempt, chosen, shares = self.try_pool(pool, lead)
            if chosen:
                return Decision(lead.id, key, PICKED, chosen.key, pool.strategy, shares, attempt, passed)
            if pool.fallback == "next_rule":
                passed.append(attempt)
                continue
            decision = Decision(lead.id, key, UNASSIGNED, 0, pool.strategy, {}, attempt, passed)
            if pool.fallback == "user" and pool.fallback_user_id \
                    and pool.fallback_user_id not in self.excluded:
                decision.outcome, decision.user_id = FALLBACK_USER, pool.fallback_user_id
                self.give(pool.fallback_user_id)
            return decision
        if passed:
            last = self.pools[lead.pools[-1]]
            return Decision(lead.id, last.key, ALL_PASSED, 0, last.strategy, {}, None, passed)
        return None


def route(leads, pools, agents, now, credits=None, open_counts=None, excluded=()):
    """Decide the owner of each lead (see the module's docstring).

    :param leads: [LeadFacts], decided in this order
    :return: (decisions, touched): the :class:`Decision` of each lead some pool
        matches, and the {(pool key, user id): Peer} whose credits to persist
    """
    router = Router(pools, agents, now, credits, open_counts, excluded)
    decisions = [d for d in map(router.decide, leads) if d]
    return decisions, router.touched


def received(decisions):
    """{(pool key, user id): leads received} of picks (fallback gifts not counted)."""
    counts = {}
    for d in decisions:
        if d.outcome == PICKED:
            counts[(d.pool, d.user_id)] = counts.get((d.pool, d.user_id), 0) + 1
    return counts


def needs_open_counts(pools, agents):
    """True when some pool's strategy or agent cap needs the open-lead counts."""
    for pool in pools:
        if pool.strategy == "least_loaded":
            return True
        if any(agents[key].max_open for key in pool.agents):
            return True
    return False

"""Availability of an agent at a given moment.

Inputs are plain values the ORM layer gathers in batch (working-hour and
leave intervals from the ``resource`` module, open-lead counts from one
grouped query); this module only decides.
"""
from dataclasses import dataclass, field

AWAY = "away"
OFF_SHIFT = "off shift"
ON_LEAVE = "on leave"
AT_CAPACITY = "at capacity"
EXCLUDED = "excluded"


@dataclass
class AgentState:
    available: bool = True                    # manual "away" switch (True = present)
    attendance: list = None                   # [(start, end)] working hours around now; None = no calendar
    leaves: list = field(default_factory=list)  # [(start, end)] leave intervals around now
    open_count: int = 0
    max_open: int = 0                         # 0 = no cap


def covers(intervals, now):
    """True when ``now`` falls in one of the half-open intervals [start, end)."""
    return any(start <= now < end for start, end in intervals or ())


def presence_reason(state, now):
    """Why the agent is not at work at ``now`` (away, on leave, off shift), or None.

    Constant during one routing batch (same ``now``), so callers may cache it.
    """
    if not state.available:
        return AWAY
    if covers(state.leaves, now):
        return ON_LEAVE
    if state.attendance is not None and not covers(state.attendance, now):
        return OFF_SHIFT
    return None


def capacity_reason(open_count, max_open):
    """'at capacity 20/20' when the open-lead cap is reached (0 = no cap), else None."""
    if max_open and open_count >= max_open:
        return "%s %d/%d" % (AT_CAPACITY, open_count, max_open)
    return None


def unavailable_reason(state, now):
    """Return None when the agent can take a lead at ``now``, else a short reason."""
    return presence_reason(state, now) or capacity_reason(state.open_count, state.max_open)

"""Arithmetic of the Lead Management dashboard: plain numbers in, plain numbers out.

The model reads grouped counts from the database and hands them here; this
module decides what a rate, a funnel or a compliance figure is, so the same
rules can be unit-tested without Odoo.
"""
from datetime import date, timedelta

MAX_PERIOD_DAYS = 366
PERIOD_PRESETS = (7, 30, 90)

# SLA outcomes of a lead whose clock has run (see lead_sla's sla_status):
# answered in time, answered after the deadline, or still unanswered after it.
ON_TIME_STATUSES = ("met",)
LATE_STATUSES = ("late",)
BREACHED_STATUSES = ("breached",)


class PeriodError(ValueError):
    """A period the dashboard cannot show; ``code`` says why."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def rate(part, whole):
    """part / whole as a percentage rounded to 0.1, or None when whole is 0."""
    if not whole:
        return None
    return round(100.0 * part / whole, 1)


def parse_period(date_from, date_to):
    """(first day, last day) of a period given as ISO dates, both included.

    Raises PeriodError with code ``format`` (not a date), ``order`` (ends
    before it starts) or ``length`` (longer than MAX_PERIOD_DAYS).
    """
    try:
        first = date_from if isinstance(date_from, date) else date.fromisoformat(date_from)
        last = date_to if isinstance(date_to, date) else date.fromisoformat(date_to)
    except (TypeError, ValueError):
        raise PeriodError("format") from None
    if last < first:
        raise PeriodError("order")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise PeriodError("length")
    return first, last


def preset_period(days, today):
    """The last ``days`` days up to ``today`` included."""
    return today - timedelta(days=days - 1), today


def funnel(stage_counts):
    """Stage funnel from the number of leads now in each stage.

    ``stage_counts`` is a list of (stage key, count) in pipeline order. A lead
    standing in a stage (or lost there) passed every earlier stage, so the
    leads that *reached* a stage are those in it or in a later one. Returns one
    dict per stage: ``key``, ``count``, ``reached``, ``reached_keys`` (the
    stages whose leads are counted in ``reached``) and ``reached_rate`` (share
    of all staged leads).
    """
    total = sum(count for _key, count in stage_counts)
    rows = []
    remaining = total
    keys = [key for key, _count in stage_counts]
    for index, (key, count) in enumerate(stage_counts):
        rows.append({
            "key": key,
            "count": count,
            "reached": remaining,
            "reached_keys": keys[index:],
            "reached_rate": rate(remaining, total),
        })
        remaining -= count
    return rows


def compliance(status_counts):
    """SLA compliance from leads counted per sla_status.

    Only decided clocks count: answered on time (``met``), answered late
    (``late``) and unanswered past the deadline (``breached``). Running
    clocks and leads without a clock are not judged yet.
    """
    on_time = sum(status_counts.get(s, 0) for s in ON_TIME_STATUSES)
    late = sum(status_counts.get(s, 0) for s in LATE_STATUSES)
    breached = sum(status_counts.get(s, 0) for s in BREACHED_STATUSES)
    decided = on_time + late + breached
    return {"on_time": on_time, "late": late, "breached": breached, "decided": decided,
            "rate": rate(on_time, decided)}


def load(open_count, max_open):
    """Open leads as a percentage of the agent's cap, None without a cap (0)."""
    if not max_open:
        return None
    return round(100.0 * open_count / max_open, 1)


def per_lead(amount, leads):
    """Amount per lead rounded to cents, None without leads."""
    if not leads:
        return None
    return round(amount / leads, 2)

"""Working-time clock arithmetic.

All datetimes are naive UTC.  ``intervals`` is an iterable of ``(start, end)``
pairs of working time, sorted and non-overlapping (the model gets them from a
``resource.calendar`` in the calendar's time zone and converts them to UTC).
``intervals=None`` means the clock runs 24/7.
"""
from datetime import timedelta

ONE_MINUTE = timedelta(minutes=1)


class NotEnoughWorkingTime(ValueError):
    """The intervals given end before the requested amount of working time."""


def normalize(intervals):
    """Sort intervals, drop empty ones and merge overlapping/adjacent ones."""
    merged = []
    for start, end in sorted((s, e) for s, e in intervals if e > s):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def add_working_minutes(start, minutes, intervals=None):
    """Return the instant at which ``minutes`` of working time have elapsed
    after ``start``.

    With zero minutes the result is ``start`` itself when ``start`` is in
    working time, else the start of the next working interval (an enquiry at
    23:00 counts from the next working morning).
    Raises NotEnoughWorkingTime when the intervals run out first.
    """
    if minutes < 0:
        raise ValueError("minutes must be positive or zero")
    if intervals is None:
        return start + timedelta(minutes=minutes)
    remaining = timedelta(minutes=minutes)
    for i_start, i_end in normalize(intervals):
        if i_end <= start:
            continue
        begin = max(i_start, start)
        available = i_end - begin
        if remaining <= available:
            if not remaining and begin == i_end:
                continue
            return begin + remaining
        remaining -= available
    raise NotEnoughWorkingTime(
        "not enough working time after %s to count %s minutes" % (start, minutes))


def working_minutes_between(start, end, intervals=None):
    """Working minutes between two instants (0 when ``end`` <= ``start``)."""
    if end <= start:
        return 0.0
    if intervals is None:
        return (end - start).total_seconds() / 60.0
    total = timedelta()
    for i_start, i_end in normalize(intervals):
        lo, hi = max(i_start, start), min(i_end, end)
        if hi > lo:
            total += hi - lo
    return total.total_seconds() / 60.0


def clock_times(start, response_minutes, warn_minutes, intervals=None):
    """Return ``(warn_at, deadline)`` of a clock started at ``start``.

    The warning fires ``warn_minutes`` of working time before the deadline;
    a warning window as long as the response time (or longer) warns at once.
    """
    deadline = add_working_minutes(start, response_minutes, intervals)
    lead_time = max(response_minutes - max(warn_minutes or 0, 0), 0)
    if not warn_minutes or warn_minutes <= 0:
        return None, deadline
    warn_at = add_working_minutes(start, lead_time, intervals)
    return warn_at, deadline


def status_at(now, warn_at, deadline):
    """The status a running clock should have at ``now``."""
    if deadline and now >= deadline:
        return "breached"
    if warn_at and now >= warn_at:
        return "warning"
    return "running"


def time_left(now, deadline):
    """Time to (or past) a deadline in whole minutes, for the label the model
    words: ``(days, hours, minutes, overdue)``; None without a deadline.

    The model shows days and hours from 24 h on, hours and minutes from 60
    min on, else minutes (``(0, 2, 5, True)`` reads "2 h 5 min overdue")."""
    if not deadline:
        return None
    delta = deadline - now
    overdue = delta.total_seconds() < 0
    minutes = int(abs(delta.total_seconds()) // 60)
    return minutes // 1440, (minutes % 1440) // 60, minutes % 60, overdue


def answered_status(answered_at, deadline, breached=False):
    """Status of a clock stopped by a first response at ``answered_at``:
    'met' before the deadline, 'late' after it (or once it was breached)."""
    if breached or (deadline and answered_at > deadline):
        return "late"
    return "met"


def tightened_clock(warn_at, deadline, new_warn_at, new_deadline):
    """A stricter policy applied to a running clock: each instant becomes the
    earlier of the current one and the stricter policy's (a missing instant
    counts as never). Returns ``(warn_at, deadline)``."""
    def earliest(a, b):
        return min(x for x in (a, b) if x) if (a or b) else None
    return earliest(warn_at, new_warn_at), earliest(deadline, new_deadline)

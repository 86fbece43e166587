"""Nurture sequences: when a step is due, when a failed send is retried, why
a sequence stops. Plain Python (no Odoo): the model reads the data and applies
these decisions."""
from datetime import timedelta

# Codes of the reasons a running sequence stops (labels live in the model).
STOP_REASONS = ("replied", "warmed", "won", "lost", "unarchived", "manual")
TRIGGERS = ("cold", "lost")

# Minimum time between two touchpoints of one lead: a sequence resumed after
# an outage (or steps with equal days) never fires several messages at once.
MIN_GAP = timedelta(hours=12)
# A failed send is retried after these delays, then reported on the lead.
RETRY_DELAYS = (timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4))


def step_due(enrolled_at, delay_days, now=None, last_sent=None):
    """When a step ``delay_days`` after enrolment is due.

    Delays are cumulative from enrolment (day 1, 3, 7, 14), not from the
    previous step; a step is never due less than ``MIN_GAP`` after the
    previous send (``last_sent``)."""
    if delay_days < 0:
        raise ValueError("delay_days must be >= 0")
    due = enrolled_at + timedelta(days=delay_days)
    if last_sent is not None:
        due = max(due, last_sent + MIN_GAP)
    if now is not None and due < now and last_sent is None:
        due = now
    return due


def retry_at(failures, now):
    """When to retry after the ``failures``-th failed attempt of a step, or
    None when the retries are used up (the failure is then reported)."""
    if failures < 1:
        raise ValueError("failures counts from 1")
    if failures > len(RETRY_DELAYS):
        return None
    return now + RETRY_DELAYS[failures - 1]


def next_step(step_ids, current_id):
    """The step after ``current_id`` in ``step_ids`` (already in order), or
    None after the last one (the sequence is done)."""
    try:
        index = step_ids.index(current_id)
    except ValueError:
        return None
    return step_ids[index + 1] if index + 1 < len(step_ids) else None


def stop_reason(trigger, event):
    """The stop reason an event gives a running sequence of ``trigger``, or
    None when the event does not stop it.

    Events: ``inbound`` (the customer wrote on any channel), ``warmed`` (the
    tier rose above cold), ``won``, ``lost`` (lead lost or archived),
    ``unarchived``, ``manual``."""
    if trigger not in TRIGGERS:
        raise ValueError("unknown trigger %r" % (trigger,))
    if event == "inbound":
        return "replied"
    if event in ("won", "manual"):
        return event
    if event == "warmed":
        # a lost lead keeps its last tier: only a cold sequence "warms up"
        return "warmed" if trigger == "cold" else None
    if event == "lost":
        return "lost" if trigger == "cold" else None
    if event == "unarchived":
        return "unarchived" if trigger == "lost" else None
    raise ValueError("unknown event %r" % (event,))

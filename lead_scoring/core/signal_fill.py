"""Which signals read from a customer's messages may fill a lead.

The rules, in plain Python (the ORM layer gives the lead's current values):
- a field is filled only while it is empty (budget 0, timeline ``unknown``,
  booleans False): what an agent set or corrected is never changed;
- a timeline that was itself read from a message is replaced by a nearer one
  read later; a timeline set by an agent never is;
- over several messages of one batch, the first budget and the nearest
  timeline count.
"""
from .signals import BUDGET, TIMELINE, TIMELINES

EMPTY = {BUDGET: 0, TIMELINE: "unknown"}


def merge_signals(reads):
    """One ``{kind: Signal}`` from the reads of several messages, oldest first."""
    merged = {}
    for signals in reads:
        for kind, signal in signals.items():
            known = merged.get(kind)
            if known is None:
                merged[kind] = signal
            elif kind == TIMELINE and TIMELINES.index(signal.value) < TIMELINES.index(known.value):
                merged[kind] = signal
    return merged


def signals_to_fill(current, read_kinds, found):
    """The signals of ``found`` that may be written on a lead.

    :param current: ``{kind: value}`` the lead has now
    :param read_kinds: kinds whose current value was itself read from a message
    :param found: ``{kind: Signal}`` read from the new messages
    :return: ``{kind: Signal}`` to write
    """
    fill = {}
    for kind, signal in found.items():
        value = current.get(kind)
        if not value or value == EMPTY.get(kind):
            fill[kind] = signal
        elif (kind == TIMELINE and kind in read_kinds and value in TIMELINES
              and TIMELINES.index(signal.value) < TIMELINES.index(value)):
            fill[kind] = signal
    return fill

"""Open-lead counts kept per salesperson: the arithmetic of the deltas.

A lead counts for its owner while it is open (active, not won).  Each
change of a lead is seen as (owner counted before, owner counted now),
0 meaning "counted for nobody"; the deltas of a batch are summed per owner
so that one statement applies them, and owners whose sum is 0 are left out.
"""


def owner_deltas(changes):
    """{user id: count delta} of ``changes``, an iterable of (before, after)
    owner ids (0 or None: not counted). Zero deltas are left out."""
    deltas = {}
    for before, after in changes:
        if before == after:
            continue
        if before:
            deltas[before] = deltas.get(before, 0) - 1
        if after:
            deltas[after] = deltas.get(after, 0) + 1
    return {user_id: delta for user_id, delta in deltas.items() if delta}


def drift(stored, truth):
    """{user id: right count} of the owners whose ``stored`` count differs
    from the recounted ``truth`` (both {user id: count}; absent = 0)."""
    return {user_id: truth.get(user_id, 0)
            for user_id in set(stored) | set(truth)
            if stored.get(user_id, 0) != truth.get(user_id, 0)}

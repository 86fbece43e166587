"""Pure tests of the open-lead count deltas (no Odoo)."""
from lead_distribution_core.open_counts import drift, owner_deltas


def test_moves_that_cancel_out_touch_no_count():
    # new lead given to 7, then moved from 7 to 8, then won (8 -> nobody); one unchanged lead of 9
    assert owner_deltas([(0, 7), (7, 8), (8, 0), (9, 9)]) == {}


def test_deltas_sum_per_owner_and_none_is_nobody():
    changes = [(None, 3), (0, 3), (3, None), (4, 0), (4, 0), (0, 5)]
    assert owner_deltas(changes) == {3: 1, 4: -2, 5: 1}


def test_drift_names_only_wrong_counts():
    assert drift({1: 5, 2: 3, 3: 0, 4: 2}, {1: 5, 2: 4, 5: 1}) == {2: 4, 4: 0, 5: 1}

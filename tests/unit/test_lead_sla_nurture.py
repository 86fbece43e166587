"""Pure tests of the nurture decisions (due dates, retries, stop reasons)."""
from datetime import datetime, timedelta

import pytest

from lead_sla_core.nurture import (MIN_GAP, RETRY_DELAYS, next_step, retry_at, step_due,
                                   stop_reason)

T0 = datetime(2026, 11, 24, 10, 0)


def test_delays_are_cumulative_from_enrolment():
    assert step_due(T0, 1) == T0 + timedelta(days=1)
    assert step_due(T0, 14) == T0 + timedelta(days=14)
    # the day-7 step is not 7 days after the day-3 one
    assert step_due(T0, 7, last_sent=T0 + timedelta(days=3)) == T0 + timedelta(days=7)


def test_steps_never_fire_back_to_back():
    sent = T0 + timedelta(days=6, hours=23)
    assert step_due(T0, 7, last_sent=sent) == sent + MIN_GAP
    assert step_due(T0, 3, last_sent=T0 + timedelta(days=3)) == T0 + timedelta(days=3) + MIN_GAP


def test_first_step_in_the_past_is_due_now():
    now = T0 + timedelta(days=2)
    assert step_due(T0, 0, now=now) == now
    assert step_due(T0, 0) == T0


def test_negative_delay_is_refused():
    with pytest.raises(ValueError):
        step_due(T0, -1)


def test_retries_back_off_then_give_up():
    assert [retry_at(n, T0) - T0 for n in range(1, len(RETRY_DELAYS) + 1)] == list(RETRY_DELAYS)
    assert RETRY_DELAYS == tuple(sorted(RETRY_DELAYS))
    assert retry_at(len(RETRY_DELAYS) + 1, T0) is None
    with pytest.raises(ValueError):
        retry_at(0, T0)


def test_next_step_in_order():
    assert next_step([4, 2, 9], 4) == 2
    assert next_step([4, 2, 9], 9) is None
    assert next_step([4, 2, 9], 7) is None


@pytest.mark.parametrize("trigger,event,reason", [
    ("cold", "inbound", "replied"), ("lost", "inbound", "replied"),
    ("cold", "warmed", "warmed"), ("lost", "warmed", None),
    ("cold", "won", "won"), ("lost", "won", "won"),
    ("cold", "lost", "lost"), ("lost", "lost", None),
    ("cold", "unarchived", None), ("lost", "unarchived", "unarchived"),
    ("cold", "manual", "manual"), ("lost", "manual", "manual"),
])
def test_stop_reasons(trigger, event, reason):
    assert stop_reason(trigger, event) == reason


def test_unknown_codes_are_refused():
    with pytest.raises(ValueError):
        stop_reason("warm", "inbound")
    with pytest.raises(ValueError):
        stop_reason("cold", "bounced")

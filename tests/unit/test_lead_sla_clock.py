"""Pure tests of the lead_sla working-time clock and settings arithmetic."""
from datetime import datetime, timedelta

import pytest
from hypothesis import given, strategies as st

from lead_sla_core.clock import (NotEnoughWorkingTime, add_working_minutes, answered_status,
                                 clock_times, normalize, status_at, tightened_clock, time_left,
                                 working_minutes_between)
from lead_sla_core.settings import (SettingError, check_note_min_length,
                                    check_report_interval, next_followup, parse_cadence)

D = datetime


def office_hours(first_day, days=14, start=8, end=17):
    """Mon-Fri 08:00-17:00 (naive UTC) from first_day on."""
    out = []
    for i in range(days):
        day = first_day + timedelta(days=i)
        if day.weekday() < 5:
            out.append((day.replace(hour=start), day.replace(hour=end)))
    return out


MONDAY = D(2026, 11, 23)


def test_24_7_clock_is_plain_addition():
    assert add_working_minutes(D(2026, 1, 1, 23, 58), 5) == D(2026, 1, 2, 0, 3)
    assert working_minutes_between(D(2026, 1, 1), D(2026, 1, 1, 1)) == 60


def test_hot_lead_warns_at_minute_3_and_breaches_at_5():
    start = D(2026, 1, 1, 10, 0)
    warn_at, deadline = clock_times(start, 5, 2)
    assert warn_at == D(2026, 1, 1, 10, 3)
    assert deadline == D(2026, 1, 1, 10, 5)
    assert status_at(D(2026, 1, 1, 10, 2, 59), warn_at, deadline) == "running"
    assert status_at(D(2026, 1, 1, 10, 3), warn_at, deadline) == "warning"
    assert status_at(D(2026, 1, 1, 10, 5), warn_at, deadline) == "breached"


def test_night_enquiry_is_due_next_working_morning():
    intervals = office_hours(MONDAY)
    start = MONDAY.replace(hour=23)  # Monday 23:00
    assert add_working_minutes(start, 60, intervals) == D(2026, 11, 24, 9, 0)


def test_friday_evening_enquiry_is_due_monday():
    intervals = office_hours(MONDAY)
    friday = D(2026, 11, 27, 16, 50)
    # 10 minutes left on Friday, 50 more on Monday morning
    assert add_working_minutes(friday, 60, intervals) == D(2026, 11, 30, 8, 50)
    assert working_minutes_between(friday, D(2026, 11, 30, 8, 50), intervals) == 60


def test_warning_counts_working_time_too():
    intervals = office_hours(MONDAY)
    warn_at, deadline = clock_times(D(2026, 11, 23, 16, 50), 60, 15, intervals)
    assert deadline == D(2026, 11, 24, 8, 50)
    assert warn_at == D(2026, 11, 24, 8, 35)


def test_no_warning_when_warn_minutes_is_zero():
    assert clock_times(D(2026, 1, 1), 5, 0) == (None, D(2026, 1, 1, 0, 5))


def test_zero_minutes_in_closed_hours_moves_to_next_opening():
    intervals = office_hours(MONDAY)
    assert add_working_minutes(D(2026, 11, 23, 17, 0), 0, intervals) == D(2026, 11, 24, 8, 0)


def test_not_enough_working_time_is_reported():
    with pytest.raises(NotEnoughWorkingTime):
        add_working_minutes(MONDAY, 10_000, office_hours(MONDAY, days=2))
    with pytest.raises(ValueError):
        add_working_minutes(MONDAY, -1)


def test_normalize_merges_overlaps():
    a, b, c = D(2026, 1, 1, 8), D(2026, 1, 1, 10), D(2026, 1, 1, 12)
    assert normalize([(b, c), (a, b), (a, a)]) == [(a, c)]


def test_time_left():
    # the model words these as "4 min left", "2 h 5 min overdue", "1 d 3 h left"
    now = D(2026, 1, 1, 10, 0)
    assert time_left(now, D(2026, 1, 1, 10, 4, 30)) == (0, 0, 4, False)
    assert time_left(now, D(2026, 1, 1, 7, 55)) == (0, 2, 5, True)
    assert time_left(now, D(2026, 1, 2, 13, 20)) == (1, 3, 20, False)
    assert time_left(now, None) is None


def test_answered_status_met_before_deadline_late_after():
    deadline = D(2026, 1, 1, 10, 5)
    assert answered_status(D(2026, 1, 1, 10, 4), deadline) == "met"
    assert answered_status(deadline, deadline) == "met"
    assert answered_status(D(2026, 1, 1, 10, 18), deadline) == "late"
    # once breached, an answer is late even if the clock was moved since
    assert answered_status(D(2026, 1, 1, 10, 4), deadline, breached=True) == "late"
    assert answered_status(D(2026, 1, 1, 10, 4), None) == "met"


def test_tightened_clock_keeps_the_earlier_instants():
    start = D(2026, 1, 1, 10, 0)
    warn, deadline = start + timedelta(minutes=45), start + timedelta(minutes=60)
    # rise at minute 10 to a 5-minute policy (warn 2 min before)
    now = start + timedelta(minutes=10)
    assert tightened_clock(warn, deadline, now + timedelta(minutes=3),
                           now + timedelta(minutes=5)) == (now + timedelta(minutes=3),
                                                          now + timedelta(minutes=5))
    # rise at minute 58: the current deadline is earlier and stays
    now = start + timedelta(minutes=58)
    assert tightened_clock(warn, deadline, now + timedelta(minutes=3),
                           now + timedelta(minutes=5)) == (warn, deadline)
    # a clock without warning gets the stricter policy's
    assert tightened_clock(None, deadline, now, deadline) == (now, deadline)


@given(st.integers(min_value=0, max_value=5000), st.integers(min_value=0, max_value=7 * 24 * 60))
def test_add_then_measure_roundtrip(minutes, offset):
    intervals = office_hours(MONDAY, days=60)
    start = MONDAY + timedelta(minutes=offset)
    end = add_working_minutes(start, minutes, intervals)
    assert end >= start
    assert working_minutes_between(start, end, intervals) == pytest.approx(minutes)


@given(st.integers(min_value=1, max_value=500), st.integers(min_value=1, max_value=499))
def test_warning_never_after_deadline(response, warn):
    warn_at, deadline = clock_times(MONDAY, response, warn, office_hours(MONDAY, days=30))
    assert warn_at <= deadline


def test_parse_cadence():
    assert parse_cadence("1, 3, 7, 14") == (1, 3, 7, 14)
    assert parse_cadence("2;5") == (2, 5)
    for bad in ("", "  ", "1, x", "3, 1", "0, 2", "-1", "1, 1"):
        with pytest.raises(SettingError):
            parse_cadence(bad)


def test_other_settings_checks():
    assert check_note_min_length(30) == 30
    assert check_report_interval(2) == 2
    for bad in (0, -5, 5000):
        with pytest.raises(SettingError):
            check_note_min_length(bad)
    for bad in (0, -1, 10000):
        with pytest.raises(SettingError):
            check_report_interval(bad)


def test_next_followup_follows_cadence_then_repeats_last_gap():
    first = D(2026, 1, 1, 9)
    cadence = (1, 3, 7, 14)
    assert next_followup(first, first, cadence) == D(2026, 1, 2, 9)
    assert next_followup(first, D(2026, 1, 2, 10), cadence) == D(2026, 1, 4, 9)
    assert next_followup(first, D(2026, 1, 10), cadence) == D(2026, 1, 15, 9)
    assert next_followup(first, D(2026, 1, 15, 10), cadence) == D(2026, 1, 22, 9)
    assert next_followup(first, D(2026, 1, 23), cadence) == D(2026, 1, 29, 9)

"""Validation of the SLA settings and the follow-up cadence arithmetic."""
from datetime import timedelta

DEFAULT_CADENCE = (1, 3, 7, 14)
DEFAULT_NOTE_MIN_LENGTH = 30
DEFAULT_REPORT_INTERVAL_HOURS = 2


class SettingError(ValueError):
    """An invalid setting value, with a message fit for the user."""


def parse_cadence(text):
    """Parse '1, 3, 7, 14' into (1, 3, 7, 14): strictly increasing whole days."""
    if text is None or not str(text).strip():
        raise SettingError("The follow-up cadence is empty: give days such as 1, 3, 7, 14.")
    days = []
    for part in str(text).replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            day = int(part)
        except ValueError:
            raise SettingError(
                "The follow-up cadence must list whole days separated by commas, "
                "not %r." % part) from None
        if day <= 0:
            raise SettingError("Follow-up days must be positive, not %d." % day)
        if days and day <= days[-1]:
            raise SettingError("Follow-up days must increase (%d comes after %d)." % (day, days[-1]))
        if day > 3650:
            raise SettingError("Follow-up day %d is more than ten years away." % day)
        days.append(day)
    if not days:
        raise SettingError("The follow-up cadence is empty: give days such as 1, 3, 7, 14.")
    return tuple(days)


def format_cadence(days):
    return ", ".join(str(d) for d in days)


def check_note_min_length(value):
    if not isinstance(value, int) or value < 1 or value > 2000:
        raise SettingError(
            "The minimum length of the contact note must be between 1 and 2000 characters.")
    return value


def check_report_interval(value):
    if not isinstance(value, (int, float)) or value <= 0 or value > 24 * 31:
        raise SettingError(
            "The exception report interval must be a number of working hours "
            "between 1 and 744.")
    return value


def next_followup(first_contact, now, cadence):
    """Due instant of the next follow-up after ``now`` for a lead first
    contacted at ``first_contact``: the first cadence day still ahead; past
    the last one, repeat the last gap (1, 3, 7, 14 -> 21, 28, ...)."""
    days = tuple(cadence) or DEFAULT_CADENCE
    for day in days:
        due = first_contact + timedelta(days=day)
        if due > now:
            return due
    step = days[-1] - days[-2] if len(days) > 1 else days[-1]
    due = first_contact + timedelta(days=days[-1])
    elapsed = (now - due).total_seconds()
    periods = int(elapsed // (step * 86400)) + 1
    return due + timedelta(days=step * periods)

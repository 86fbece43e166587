"""Phone normalisation to E.164 with ``phonenumbers``.

One customer writes ``012-345 6789`` in a form, WhatsApp sends ``60123456789``
and a portal e-mail says ``+60 12-345 6789``: all must become the same key
(``+60123456789``) or de-duplication fails.
"""
import re

import phonenumbers

_JUNK = re.compile(r"[^\d+]")


def _valid(number):
    return phonenumbers.is_possible_number(number) and phonenumbers.is_valid_number(number)


def normalize_phone(raw, default_region="MY", international=False):
    """Return ``raw`` as an E.164 string, or ``None`` when it is no phone number.

    :param default_region: ISO country code used for national numbers
        (the company's country).
    :param international: the number is known to carry its country code
        without a ``+`` (WhatsApp ``wa_id``), so it is tried that way first.
    """
    if not raw:
        return None
    text = _JUNK.sub("", str(raw))
    if text.count("+") > 1 or ("+" in text and not text.startswith("+")):
        text = "+" + text.replace("+", "")
    digits = text.lstrip("+")
    if not digits or len(digits) < 6 or len(digits) > 17:
        return None
    candidates = []
    if text.startswith("+"):
        candidates.append("+" + digits)
    elif digits.startswith("00"):
        candidates.append("+" + digits[2:])
    elif international:
        candidates += ["+" + digits, digits]
    else:
        candidates += [digits, "+" + digits]
    region = (default_region or "").upper() or None
    for candidate in candidates:
        try:
            number = phonenumbers.parse(candidate, None if candidate.startswith("+") else region)
        except phonenumbers.NumberParseException:
            continue
        if _valid(number):
            return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return None


def normalize_email(raw):
    """Lower-cased bare address from ``"Name" <a@b.c>`` or ``None``."""
    if not raw:
        return None
    match = re.search(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", str(raw))
    return match.group(0).lower() if match else None


def contact_keys(phone=None, contact_ref=None, email=None):
    """Keys identifying one contact, sorted so that locks are always taken in
    the same order (no deadlock between two deliveries)."""
    keys = set()
    if phone:
        keys.add("phone:" + phone)
    if contact_ref:
        keys.add("ref:" + str(contact_ref))
    if email:
        keys.add("email:" + email.lower())
    return sorted(keys)

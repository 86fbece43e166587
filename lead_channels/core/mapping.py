"""Lead Ads ``field_data`` and web-form answers -> lead values.

Standard Meta keys map to standard lead fields; custom questions go through
the channel's field map (question key -> lead field) with the answer coerced
to the field's type; what is neither mapped nor standard ends in the
description so no answer is lost.
"""
import re

STANDARD_KEYS = {
    "full_name": "contact_name",
    "name": "contact_name",
    "email": "email_from",
    "phone_number": "phone",
    "phone": "phone",
    "city": "city",
    "zip_code": "zip",
    "post_code": "zip",
    "street_address": "street",
    "company_name": "partner_name",
    "job_title": "function",
    "website": "website",
}

TIMELINE_WORDS = [  # most specific first: "3 months" is a quarter, not a month
    ("quarter", ("quarter", "3 month", "three month", "90 day")),
    ("later", ("later", "year", "6 month", "not sure yet", "future")),
    ("week", ("week", "immediate", "asap", "now", "urgent", "minggu")),
    ("month", ("month", "30 day", "bulan")),
]


class CoerceError(ValueError):
    pass


def _norm_key(key):
    return re.sub(r"[^a-z0-9]+", "_", str(key or "").strip().lower()).strip("_")


def parse_amount(raw):
    """'RM 500,000', '500k', '1.2m', '300000' -> float."""
    text = str(raw or "").strip().lower().replace(",", "")
    match = re.search(r"(\d+(?:\.\d+)?)\s*(k|m|mil|million|thousand)?", text)
    if not match:
        raise CoerceError("%r is not an amount" % raw)
    value = float(match.group(1))
    unit = match.group(2)
    if unit in ("k", "thousand"):
        value *= 1000
    elif unit in ("m", "mil", "million"):
        value *= 1000000
    return value


def coerce(raw, ftype, selection=None):
    """Coerce one answer to a field type; raise CoerceError when impossible."""
    if isinstance(raw, list):
        raw = ", ".join(str(r) for r in raw)
    text = str(raw if raw is not None else "").strip()
    if ftype in ("char", "text", "html"):
        return text
    if ftype in ("float", "monetary"):
        return parse_amount(text)
    if ftype == "integer":
        return int(parse_amount(text))
    if ftype == "boolean":
        return _norm_key(text) in ("yes", "y", "true", "1", "ya", "on")
    if ftype == "selection":
        options = selection or []
        key = _norm_key(text)
        for value, label in options:
            if key in (_norm_key(value), _norm_key(label)):
                return value
        values = [v for v, _l in options]
        if set(values) >= {"week", "month", "quarter", "later"}:
            lowered = text.lower()
            for value, words in TIMELINE_WORDS:
                if any(w in lowered for w in words):
                    return value
        raise CoerceError("%r is not one of %s" % (raw, ", ".join(values)))
    raise CoerceError("field type %s cannot be mapped" % ftype)


def map_answers(answers, field_map, fields_info):
    """Map answers to lead values.

    :param answers: list of ``(key, value)`` (Lead Ads ``field_data`` names or form keys)
    :param field_map: ``{normalised key: field name}`` from the channel
    :param fields_info: ``{field name: (type, selection)}`` of crm.lead
    :return: ``(values, extra_lines, problems)`` — extra lines go to the description
    """
    values, extra, problems = {}, [], []
    for key, raw in answers:
        nkey = _norm_key(key)
        shown = ", ".join(str(r) for r in raw) if isinstance(raw, list) else str(raw or "")
        target = field_map.get(nkey)
        if target and target in fields_info:
            ftype, selection = fields_info[target]
            try:
                values[target] = coerce(raw, ftype, selection)
            except CoerceError as exc:
                problems.append("%s: %s" % (key, exc))
                extra.append("%s: %s" % (key, shown))
            continue
        std = STANDARD_KEYS.get(nkey)
        if std and std not in values:
            values[std] = shown
            continue
        if nkey in ("first_name", "last_name"):
            values.setdefault("_" + nkey, shown)
            continue
        extra.append("%s: %s" % (key, shown))
    first, last = values.pop("_first_name", None), values.pop("_last_name", None)
    if not values.get("contact_name") and (first or last):
        values["contact_name"] = " ".join(x for x in (first, last) if x)
    return values, extra, problems


def leadgen_answers(field_data):
    """Meta's ``field_data`` [{name, values: [..]}] -> [(name, value)]."""
    answers = []
    for item in field_data or []:
        if not isinstance(item, dict) or not item.get("name"):
            continue
        vals = item.get("values") or []
        answers.append((item["name"], vals[0] if len(vals) == 1 else vals))
    return answers

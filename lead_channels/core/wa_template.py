"""WhatsApp message templates: Meta's listing read into plain values, the
``{{n}}`` parameters counted, checked and sent. Plain Python (no odoo): the ORM
glue is in ``models/lead_channel_wa_template.py`` and the composer.
"""
import re

_PLACEHOLDER = re.compile(r"\{\{\s*(\d+)\s*\}\}")

# Meta's template statuses, as stored (lower case); anything else is "other"
STATUSES = ("approved", "pending", "rejected", "paused", "disabled", "in_appeal", "deleted", "other")
_STATUS_ALIASES = {"pending_deletion": "deleted", "archived": "deleted"}
CATEGORIES = ("marketing", "utility", "authentication")

# error codes of check_params (the caller turns them into words)
MISSING = "missing"
TOO_MANY = "too_many"


def param_count(text):
    """Number of ``{{n}}`` parameters of a template text: the highest ``n``
    (Meta numbers them 1, 2, 3... without gaps)."""
    return max((int(n) for n in _PLACEHOLDER.findall(text or "")), default=0)


def status_of(raw):
    status = str(raw or "").strip().lower()
    status = _STATUS_ALIASES.get(status, status)
    return status if status in STATUSES else "other"


def parse_template(item):
    """One element of ``GET /{waba_id}/message_templates``'s ``data`` as plain
    values, or None when it has no name or language."""
    if not isinstance(item, dict) or not item.get("name") or not item.get("language"):
        return None
    components = item.get("components") if isinstance(item.get("components"), list) else []
    body = next((c.get("text") or "" for c in components
                 if isinstance(c, dict) and str(c.get("type") or "").upper() == "BODY"), "")
    category = str(item.get("category") or "").strip().lower()
    return {
        "name": str(item["name"]),
        "language": str(item["language"]),
        "status": status_of(item.get("status")),
        "category": category if category in CATEGORIES else False,
        "body": body,
        "param_count": param_count(body),
    }


def next_page_path(paging, base_url):
    """The path (relative to ``base_url``) of the next page of a Graph listing,
    ``""`` when there is none, None when ``paging.next`` leaves the Graph API
    URL (the access token must not be sent there)."""
    nxt = (paging or {}).get("next") if isinstance(paging, dict) else None
    if not nxt:
        return ""
    base = (base_url or "").rstrip("/") + "/"
    if not str(nxt).startswith(base):
        return None
    return str(nxt)[len(base):]


def split_params(text):
    """The agent's parameters: one value per line, surrounding spaces removed
    (a trailing empty line is the editor's, not a value)."""
    lines = [line.strip() for line in (text or "").split("\n")]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def check_params(values, count):
    """``(code, position)`` of the first problem of the values for a template
    of ``count`` parameters (position counts from 1), or ``(None, 0)``."""
    for position in range(1, count + 1):
        if position > len(values) or not values[position - 1]:
            return MISSING, position
    if len(values) > count:
        return TOO_MANY, count + 1
    return None, 0


def body_components(values):
    """Meta's ``components`` of a template message for its body parameters."""
    if not values:
        return []
    return [{"type": "body", "parameters": [{"type": "text", "text": value} for value in values]}]


def render(body, values):
    """The template text as the customer reads it (missing values kept as ``{{n}}``)."""
    def fill(match):
        index = int(match.group(1))
        return values[index - 1] if 0 < index <= len(values) and values[index - 1] else match.group(0)
    return _PLACEHOLDER.sub(fill, body or "")

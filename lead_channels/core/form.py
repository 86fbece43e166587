"""Web-form submissions: validation and the per-IP rate limit decision."""
import re

from .phone import normalize_email, normalize_phone

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
HONEYPOT_KEYS = ("website_url", "hp", "_gotcha")
MAX_LEN = {"name": 200, "email": 254, "phone": 40, "message": 10000}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def is_spam(data):
    """A filled honeypot field means a bot: accept silently, store nothing else."""
    return any(str(data.get(k) or "").strip() for k in HONEYPOT_KEYS)


def validate_submission(data, default_region="MY"):
    """Return ``(clean, errors)``; ``errors`` maps field -> reason (empty when valid)."""
    errors = {}
    clean = {}
    for key, limit in MAX_LEN.items():
        value = data.get(key)
        if value is not None and not isinstance(value, (str, int, float)):
            errors[key] = "must be text"
            continue
        value = str(value if value is not None else "").strip()
        if len(value) > limit:
            errors[key] = "longer than %d characters" % limit
        clean[key] = value
    if not clean.get("name"):
        errors.setdefault("name", "is required")
    if clean.get("email"):
        if not _EMAIL.match(clean["email"]):
            errors.setdefault("email", "is not a valid e-mail address")
        else:
            clean["email"] = normalize_email(clean["email"]) or clean["email"]
    if clean.get("phone"):
        e164 = normalize_phone(clean["phone"], default_region)
        if not e164:
            errors.setdefault("phone", "is not a valid phone number")
        clean["phone_e164"] = e164
    if not clean.get("email") and not clean.get("phone") and "email" not in errors and "phone" not in errors:
        errors["phone"] = "a phone number or an e-mail is required"
        errors["email"] = "a phone number or an e-mail is required"
    clean["utm"] = {k: str(data.get(k)).strip()[:200] for k in UTM_KEYS if data.get(k)}
    reserved = set(MAX_LEN) | set(UTM_KEYS) | set(HONEYPOT_KEYS) | {"submission_id", "csrf_token"}
    clean["extra"] = [(k, v) for k, v in data.items() if k not in reserved and v not in (None, "")]
    return clean, errors


def rate_limited(recent_count, limit):
    """True when this address already sent ``limit`` submissions in the window."""
    return limit > 0 and recent_count >= limit

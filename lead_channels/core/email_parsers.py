"""Enquiry e-mails of property portals -> contact and message.

PropertyGuru and iProperty send their enquiry notifications from a no-reply
address with the enquirer's details in labelled lines; anything else goes to
the generic parser, which still keeps the whole body as the message.
"""
import re

from .phone import normalize_email

_PHONE_LIKE = re.compile(r"(?:\+|00)?\d[\d\s().-]{7,18}\d")
_EMAIL_LIKE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


def _field(body, labels):
    """Value of the first ``Label: value`` (or ``Label : value``) line found."""
    for label in labels:
        match = re.search(r"^[ \t>*]*%s[ \t]*[:：][ \t]*(.+?)[ \t]*$" % label, body,
                          re.IGNORECASE | re.MULTILINE)
        if match and match.group(1).strip():
            return match.group(1).strip()
    return None


def _block_after(body, labels, stops):
    """Multi-line value after ``Label:`` up to a blank line followed by a stop marker."""
    for label in labels:
        match = re.search(r"^[ \t]*%s[ \t]*[:：][ \t]*(.*)$" % label, body, re.IGNORECASE | re.MULTILINE)
        if not match:
            continue
        rest = body[match.start(1):]
        cut = len(rest)
        for stop in stops:
            found = re.search(stop, rest, re.IGNORECASE | re.MULTILINE)
            if found:
                cut = min(cut, found.start())
        text = rest[:cut].strip()
        if text:
            return text
    return None


def _result(portal, body, **values):
    values = {k: v for k, v in values.items() if v}
    if values.get("email"):
        values["email"] = normalize_email(values["email"])
    values.setdefault("message", body.strip())
    values["portal"] = portal
    return values


# Labels of each portal's enquiry notification, in order of preference.
PORTALS = {
    "propertyguru": {
        "listing_ref": [r"Listing ID", r"Listing No\.?"],
        "subject_ref": r"Listing ID[:\s#]*(\d+)",
        "name": [r"Name", r"Enquirer"],
        "phone": [r"Mobile", r"Phone", r"Contact Number"],
        "email": [r"Email", r"E-mail"],
        "listing_title": [r"Listing", r"Property"],
        "message": [r"Message"],
        "message_stops": [r"^\s*-{3,}", r"^Reply to this enquiry", r"^Tip:",
                          r"^This enquiry was sent"],
    },
    "iproperty": {
        "listing_ref": [r"Property ID", r"Listing ID"],
        "subject_ref": r"Listing\s+(\d+)",
        "name": [r"Sender Name", r"Name"],
        "phone": [r"Sender Contact No\.?", r"Contact No\.?", r"Phone"],
        "email": [r"Sender Email", r"Email"],
        "listing_title": [r"Property", r"Listing"],
        "message": [r"Comments", r"Message"],
        "message_stops": [r"^\s*-{3,}", r"^\s*Regards", r"^This e-?mail was sent"],
    },
}


def parse_portal(portal, subject, body):
    """Enquiry of a known portal, read through its labels in ``PORTALS``."""
    spec = PORTALS[portal]
    listing_ref = _field(body, spec["listing_ref"])
    if not listing_ref:
        match = re.search(spec["subject_ref"], subject or "", re.IGNORECASE)
        listing_ref = match and match.group(1)
    return _result(
        portal, body,
        name=_field(body, spec["name"]),
        phone=_field(body, spec["phone"]),
        email=_field(body, spec["email"]),
        listing_ref=listing_ref,
        listing_title=_field(body, spec["listing_title"]),
        message=_block_after(body, spec["message"], spec["message_stops"]),
    )


def parse_generic(subject, body, sender=None):
    """Any enquiry: labelled lines if present, else the first phone and e-mail seen."""
    email = _field(body, [r"E-?mail(?: address)?"])
    if not email:
        found = [e for e in _EMAIL_LIKE.findall(body) if normalize_email(e) != normalize_email(sender)]
        email = found[0] if found else sender
    phone = _field(body, [r"Mobile", r"Phone(?: number)?", r"Tel", r"Contact(?: No\.?| number)?", r"H/?P"])
    if not phone:
        match = _PHONE_LIKE.search(body)
        phone = match and match.group(0)
    return _result(
        "generic", body,
        name=_field(body, [r"Name", r"Full name", r"Nama"]),
        phone=phone,
        email=email,
        listing_ref=_field(body, [r"Listing ID", r"Property ID", r"Ref(?:erence)?(?: No\.?)?"]),
    )


def detect_portal(subject, body, sender):
    text = " ".join(x or "" for x in (sender, subject)).lower()
    if "propertyguru" in text:
        return "propertyguru"
    if "iproperty" in text:
        return "iproperty"
    lowered = (body or "").lower()
    if "propertyguru" in lowered and "enquir" in lowered:
        return "propertyguru"
    if "iproperty" in lowered and "enquir" in lowered:
        return "iproperty"
    return "generic"


def parse_email(subject, body, sender=None):
    """Parse one enquiry e-mail (plain-text body)."""
    body = (body or "").replace("\r\n", "\n")
    portal = detect_portal(subject, body, sender)
    if portal in PORTALS:
        result = parse_portal(portal, subject, body)
    else:
        result = parse_generic(subject, body, sender)
    if portal != "generic" and not (result.get("phone") or result.get("email")):
        # the portal changed its layout: fall back rather than lose the contact
        result = dict(parse_generic(subject, body, None), portal=portal)
    return result

"""Meta webhook payloads (WhatsApp Cloud API, Messenger, Instagram, Lead Ads).

``split_delivery`` cuts one delivery into inbox items — one per element of
``entry[]`` x ``changes[]`` x ``messages[]``/``statuses[]`` or ``messaging[]``
— each with a stable external id (wamid, mid, leadgen_id...) so a redelivery is
recognised, and a payload in Meta's own shape holding only that element.
``parse_*`` turn one stored item back into plain values for processing.
"""
import hashlib
import json

WA_MESSAGE = "whatsapp_message"
WA_STATUS = "whatsapp_status"
LEADGEN = "leadgen"
MESSENGER = "messenger"
INSTAGRAM = "instagram"
ECHO = "echo"
UNKNOWN = "unknown"

KINDS = [WA_MESSAGE, WA_STATUS, LEADGEN, MESSENGER, INSTAGRAM, ECHO, UNKNOWN]
# WhatsApp changes carrying messages; "smb_message_echoes" reports what the
# business sent from another WhatsApp client (the Business app, coexistence)
WA_MESSAGE_FIELDS = ("messages", "smb_message_echoes", "message_echoes")


class PayloadError(ValueError):
    """The body is not a Meta delivery we can read."""


def _digest(value):
    raw = value if isinstance(value, bytes) else json.dumps(
        value, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return hashlib.sha256(raw).hexdigest()[:40]


MAX_DEPTH = 32  # Meta's deliveries nest 8 levels; deeper is an attack on the parsers


def _too_deep(data, limit=MAX_DEPTH):
    """True when lists/objects nest deeper than ``limit`` (iterative: no recursion)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, (dict, list)):
                if depth >= limit:
                    return True
                stack.append((child, depth + 1))
    return False


def load_body(body):
    """Decode the raw body; raise PayloadError with a short reason."""
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise PayloadError("body is not UTF-8") from None
    if not body or not body.strip():
        raise PayloadError("empty body")
    try:
        data = json.loads(body)
    except ValueError:
        raise PayloadError("body is not JSON") from None
    except RecursionError:  # json's C parser gives up on very deep nesting
        raise PayloadError("body is nested too deeply") from None
    if not isinstance(data, dict):
        raise PayloadError("JSON body must be an object")
    if _too_deep(data):
        raise PayloadError("body is nested too deeply")
    return data


def _as_list(value):
    return value if isinstance(value, list) else []


def split_delivery(data):
    """Return ``[(kind, external_id, payload_dict)]`` for every element of a delivery."""
    obj = data.get("object")
    items = []
    for entry in _as_list(data.get("entry")):
        if not isinstance(entry, dict):
            continue
        head = {k: entry[k] for k in ("id", "time") if k in entry}
        for change in _as_list(entry.get("changes")):
            if not isinstance(change, dict):
                continue
            field = change.get("field")
            value = change.get("value") if isinstance(change.get("value"), dict) else {}
            if field in WA_MESSAGE_FIELDS and obj == "whatsapp_business_account":
                meta = {k: value[k] for k in ("messaging_product", "metadata") if k in value}
                contacts = _as_list(value.get("contacts"))
                for message in _as_list(value.get("messages")):
                    if not isinstance(message, dict):
                        continue
                    sender = message.get("from") or message.get("from_user_id")
                    contact = [c for c in contacts if isinstance(c, dict) and sender in (
                        c.get("wa_id"), c.get("user_id"))] or contacts[:1]
                    val = dict(meta, contacts=contact, messages=[message])
                    ext = message.get("id") or "wa:" + _digest(message)
                    items.append((WA_MESSAGE, ext, _wrap(obj, head, field, val)))
                for status in _as_list(value.get("statuses")):
                    if not isinstance(status, dict):
                        continue
                    val = dict(meta, statuses=[status])
                    ext = "status:%s:%s" % (status.get("id") or _digest(status), status.get("status"))
                    items.append((WA_STATUS, ext, _wrap(obj, head, field, val)))
                for echo in _as_list(value.get("message_echoes")):
                    if not isinstance(echo, dict):
                        continue
                    val = dict(meta, message_echoes=[echo])
                    ext = echo.get("id") or "wa_echo:" + _digest(echo)
                    items.append((ECHO, ext, _wrap(obj, head, field, val)))
                if not value.get("messages") and not value.get("statuses") and not value.get("message_echoes"):
                    items.append((UNKNOWN, "change:" + _digest(change), _wrap(obj, head, field, value)))
            elif field == "leadgen":
                ext = str(value.get("leadgen_id") or "leadgen:" + _digest(value))
                items.append((LEADGEN, ext, _wrap(obj, head, field, value)))
            else:
                items.append((UNKNOWN, "change:" + _digest(change), _wrap(obj, head, field, value)))
        for event in _as_list(entry.get("messaging")):
            if not isinstance(event, dict):
                continue
            message = event.get("message") if isinstance(event.get("message"), dict) else {}
            postback = event.get("postback") if isinstance(event.get("postback"), dict) else {}
            if message.get("is_echo"):
                kind = ECHO
            else:
                kind = INSTAGRAM if obj == "instagram" else MESSENGER
            ext = message.get("mid") or postback.get("mid") or "msg:" + _digest(event)
            items.append((kind, ext, dict({"object": obj}, entry=[dict(head, messaging=[event])])))
    return items


def _wrap(obj, head, field, value):
    return {"object": obj, "entry": [dict(head, changes=[{"field": field, "value": value}])]}


def _first_change_value(payload):
    entry = _as_list(payload.get("entry"))[0]
    return entry["changes"][0]["value"], entry


def _wa_text(message):
    mtype = message.get("type") or "text"
    body = message.get(mtype) if isinstance(message.get(mtype), dict) else {}
    if mtype == "text":
        return (message.get("text") or {}).get("body") or ""
    if mtype in ("image", "video", "document", "audio", "sticker"):
        caption = body.get("caption") or body.get("filename") or ""
        return ("[%s] %s" % (mtype, caption)).strip()
    if mtype == "location":
        lat, lng = body.get("latitude"), body.get("longitude")
        label = " ".join(x for x in (body.get("name"), body.get("address")) if x)
        link = "https://maps.google.com/?q=%s,%s" % (lat, lng)
        return ("[location] %s %s" % (label, link)).replace("  ", " ")
    if mtype == "button":
        return body.get("text") or ""
    if mtype == "interactive":
        reply = body.get("button_reply") or body.get("list_reply") or {}
        if body.get("nfm_reply"):
            return _flow_text(body["nfm_reply"])
        return reply.get("title") or ""
    if mtype == "order":
        return _order_text(body)
    if mtype == "unsupported":
        return "[unsupported] %s" % _errors_text(message.get("errors") or body.get("errors"))
    if mtype == "reaction":  # an empty emoji: the customer removed the reaction, nothing to say
        return "[reaction] %s" % body["emoji"] if body.get("emoji") else ""
    if mtype == "system":
        return body.get("body") or ""
    if mtype == "contacts":
        shared = []
        for card in shared_contacts(message):
            phones = [phone["phone"] for phone in card["phones"]]
            shared.append(("%s (%s)" % (card["name"], ", ".join(phones)) if phones else card["name"]).strip())
        return "[contacts] %s" % ", ".join(s for s in shared if s)
    return "[%s]" % mtype


def shared_contacts(message):
    """The contact cards a customer shared (a ``contacts`` message), each as
    ``{"name", "phones": [{"phone", "wa_id"}], "email"}``: the phone as the
    customer's phone book wrote it, the ``wa_id`` when WhatsApp knows the
    number."""
    cards = []
    for card in _as_list(message.get("contacts")):
        if not isinstance(card, dict):
            continue
        name = card.get("name") if isinstance(card.get("name"), dict) else {}
        full = name.get("formatted_name") or " ".join(
            str(name[k]) for k in ("first_name", "last_name") if name.get(k)) or ""
        phones = [{"phone": str(p.get("phone") or p.get("wa_id")), "wa_id": str(p["wa_id"]) if p.get("wa_id") else None}
                  for p in _as_list(card.get("phones")) if isinstance(p, dict) and (p.get("phone") or p.get("wa_id"))]
        emails = [str(e["email"]) for e in _as_list(card.get("emails")) if isinstance(e, dict) and e.get("email")]
        if full or phones or emails:
            cards.append({"name": str(full).strip(), "phones": phones, "email": emails[0] if emails else None})
    return cards


def _order_text(order):
    """An order's items, one a line: quantity x product id @ price currency; then the note."""
    lines = ["[order]"]
    for item in _as_list(order.get("product_items")):
        if isinstance(item, dict):
            lines.append("%s x %s @ %s %s" % (item.get("quantity") or 1, item.get("product_retailer_id") or "?",
                                              item.get("item_price") or "?", item.get("currency") or ""))
    if order.get("text"):
        lines.append(str(order["text"]))
    return "\n".join(line.strip() for line in lines)


def _flow_text(reply):
    """A WhatsApp Flow's answers as readable ``key: value`` lines."""
    try:
        answers = json.loads(reply.get("response_json") or "{}")
    except ValueError:
        answers = {}
    lines = [reply.get("body") or "[flow]"]
    if isinstance(answers, dict):
        lines += ["%s: %s" % (key, value) for key, value in answers.items() if key != "flow_token"]
    return "\n".join(lines)


def delivery_errors(payload):
    """Meta's title and details of the errors a stored notification carries
    (``value.errors``: what Meta could not deliver), or an empty string."""
    try:
        value, _entry = _first_change_value(payload)
    except (KeyError, IndexError, TypeError):
        return ""
    return _errors_text(value.get("errors")) if isinstance(value, dict) else ""


def _errors_text(errors):
    """Meta's title and details of what it could not deliver."""
    parts = []
    for error in _as_list(errors):
        if isinstance(error, dict):
            detail = (error.get("error_data") or {}).get("details") or error.get("message") or ""
            parts.append(" - ".join(x for x in (error.get("title"), detail) if x) or str(error.get("code") or ""))
    return "; ".join(parts)


def without_nul(data):
    """``data`` with the NUL characters removed from its texts: JSON may carry
    ``\u0000``, PostgreSQL text cannot, and a delivery that can never be
    stored would fail on every retry."""
    if isinstance(data, str):
        return data.replace("\x00", "")
    if isinstance(data, dict):
        return {without_nul(key): without_nul(value) for key, value in data.items()}
    if isinstance(data, list):
        return [without_nul(value) for value in data]
    return data


def parse_whatsapp_message(payload):
    """Plain values of one stored WhatsApp message item."""
    value, _entry = _first_change_value(without_nul(payload))
    message = value["messages"][0]
    contact = (_as_list(value.get("contacts")) or [{}])[0]
    wa_id = contact.get("wa_id") or message.get("from")
    user_id = contact.get("user_id") or message.get("from_user_id")
    referral = message.get("referral") if isinstance(message.get("referral"), dict) else {}
    try:
        timestamp = int(message.get("timestamp") or 0)
    except (TypeError, ValueError):
        timestamp = 0
    return {
        "wamid": message.get("id"),
        "wa_id": wa_id,
        "contact_ref": wa_id or user_id,
        "user_id": user_id,
        "name": (contact.get("profile") or {}).get("name"),
        "type": message.get("type") or "text",
        "text": _wa_text(message),
        "timestamp": timestamp,
        "phone_number_id": (value.get("metadata") or {}).get("phone_number_id"),
        "system": system_change(message),
        "shared_contacts": shared_contacts(message) if message.get("type") == "contacts" else [],
        "referral": {
            "ad_id": referral.get("source_id"),
            "source_type": referral.get("source_type"),
            "headline": referral.get("headline"),
            "source_url": referral.get("source_url"),
            "body": referral.get("body"),
        } if referral else {},
    }


def system_change(message):
    """A WhatsApp ``system`` message as ``{"type", "body", "new_wa_id", "new_user_id"}``
    (``user_changed_number``: the customer's new number; ``user_changed_user_id``:
    their new business-scoped id), or ``None`` for any other message."""
    if (message.get("type") or "") != "system" or not isinstance(message.get("system"), dict):
        return None
    system = message["system"]
    return {"type": system.get("type") or "", "body": system.get("body") or "",
            "new_wa_id": system.get("new_wa_id") or system.get("wa_id"),
            "new_user_id": system.get("user_id") or system.get("new_user_id")}


def wa_id_e164(wa_id):
    """A WhatsApp ``wa_id`` as E.164 (``+`` and its digits) without checking the
    number against a phone library: WhatsApp verified it. None when it is not
    a plausible international number (6 to 15 digits)."""
    digits = str(wa_id or "").strip().lstrip("+")
    return "+" + digits if digits.isdigit() and 6 <= len(digits) <= 15 else None


STATUS_RANK = {"sent": 1, "delivered": 2, "read": 3, "failed": 4}


def parse_whatsapp_status(payload):
    value, _entry = _first_change_value(without_nul(payload))
    status = value["statuses"][0]
    errors = _as_list(status.get("errors"))
    error = ""
    if errors:
        err = errors[0] if isinstance(errors[0], dict) else {}
        error = err.get("title") or err.get("message") or ""
        detail = (err.get("error_data") or {}).get("details")
        if detail:
            error = "%s: %s" % (error, detail)
    return {"wamid": status.get("id"), "status": status.get("status"),
            "recipient": status.get("recipient_id"), "error": error}


def status_moves_forward(current, new):
    """Statuses arrive out of order: never go back from read to delivered."""
    if new not in STATUS_RANK:
        return False
    if new == "failed":
        return current in (None, False, "", "sent", "delivered")
    return STATUS_RANK.get(current or "", 0) < STATUS_RANK[new] and current != "failed"


def is_whatsapp_echo(payload):
    """True for an ECHO item cut from a WhatsApp change (not Messenger / Instagram)."""
    entry = (_as_list(payload.get("entry")) or [{}])[0]
    return bool(_as_list(entry.get("changes")))


def parse_whatsapp_echo(payload):
    """Plain values of a message the business sent from another WhatsApp
    client: ``to`` is the customer, ``from`` the business number."""
    value, _entry = _first_change_value(payload)
    echo = value["message_echoes"][0]
    try:
        timestamp = int(echo.get("timestamp") or 0)
    except (TypeError, ValueError):
        timestamp = 0
    return {"wamid": echo.get("id"), "to": echo.get("to"), "from": echo.get("from"),
            "text": _wa_text(echo), "timestamp": timestamp}


def parse_leadgen(payload):
    value, _entry = _first_change_value(without_nul(payload))
    return {k: str(value[k]) for k in ("leadgen_id", "page_id", "form_id", "ad_id", "adgroup_id")
            if value.get(k) is not None}


def parse_messaging(payload):
    """Messenger / Instagram DM item."""
    entry = without_nul(payload)["entry"][0]
    event = entry["messaging"][0]
    message = event.get("message") if isinstance(event.get("message"), dict) else {}
    postback = event.get("postback") if isinstance(event.get("postback"), dict) else {}
    referral = event.get("referral") or message.get("referral") or postback.get("referral") or {}
    text = message.get("text") or ""
    if not text and message.get("quick_reply"):
        text = message["quick_reply"].get("payload") or ""
    for att in _as_list(message.get("attachments")):
        if isinstance(att, dict):
            url = (att.get("payload") or {}).get("url") or ""
            text = ("%s\n[%s] %s" % (text, att.get("type") or "file", url)).strip()
    if not text and postback:
        text = postback.get("title") or postback.get("payload") or ""
    ads = referral.get("ads_context_data") or {}
    try:
        timestamp = int(event.get("timestamp") or 0) // 1000 if int(event.get("timestamp") or 0) > 10 ** 11 \
            else int(event.get("timestamp") or 0)
    except (TypeError, ValueError):
        timestamp = 0
    return {
        "mid": message.get("mid") or postback.get("mid"),
        "contact_ref": (event.get("sender") or {}).get("id"),
        "recipient": (event.get("recipient") or {}).get("id"),
        "text": text,
        "timestamp": timestamp,
        "referral": {
            "ad_id": referral.get("ad_id"),
            "source_type": referral.get("source") or referral.get("type"),
            "headline": ads.get("ad_title") or referral.get("ref"),
            "source_url": ads.get("photo_url") or ads.get("video_url"),
        } if referral else {},
    }

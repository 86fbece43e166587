"""Conversation state of a lead: who wrote last, a one-line preview, how long
the customer has been waiting. Plain Python (no odoo): the ORM glue is in
``models/crm_lead_conversation.py``."""
import re

PREVIEW_LENGTH = 120
INBOUND = "in"
OUTBOUND = "out"

_SPACES = re.compile(r"\s+")


def preview(text, limit=PREVIEW_LENGTH):
    """One line of at most ``limit`` characters (an ellipsis when cut)."""
    line = _SPACES.sub(" ", text or "").strip()
    if len(line) <= limit:
        return line
    return line[:limit - 1].rstrip() + "\u2026"


def conversation_values(messages):
    """New conversation values of each lead from a batch of its messages.

    :param messages: iterable of ``(lead_id, date, message_id, direction, text)``
    :return: ``{lead_id: {field: value}}``: the newest message (by date, then
        id) gives the preview and whether the customer awaits a reply; the
        newest inbound date is returned under ``channel_last_inbound_date``
        (the caller keeps the later of it and the stored one), the newest
        message's date under ``channel_last_message_date`` (a batch older than
        the stored last message changes only the inbound date).
    """
    newest, inbound = {}, {}
    for lead_id, date, message_id, direction, text in messages:
        key = (date, message_id)
        if lead_id not in newest or key > newest[lead_id][0]:
            newest[lead_id] = (key, direction, text)
        if direction == INBOUND and (lead_id not in inbound or date > inbound[lead_id]):
            inbound[lead_id] = date
    result = {}
    for lead_id, (key, direction, text) in newest.items():
        values = {"channel_last_message": preview(text) or False, "channel_last_message_date": key[0],
                  "channel_awaiting_reply": direction == INBOUND}
        if lead_id in inbound:
            values["channel_last_inbound_date"] = inbound[lead_id]
        result[lead_id] = values
    return result


def elapsed(seconds):
    """``(number, unit)`` of a waiting time, unit one of "min", "h", "d"."""
    seconds = max(int(seconds), 0)
    if seconds < 3600:
        return seconds // 60, "min"
    if seconds < 86400:
        return seconds // 3600, "h"
    return seconds // 86400, "d"


def merge_stored(values, stored_inbound, stored_last):
    """Values to write given what the lead stores: messages created late
    (a chunk's buffered posts) never override a newer last message."""
    values = dict(values)
    new_inbound = values.get("channel_last_inbound_date")
    if stored_inbound and (not new_inbound or stored_inbound > new_inbound):
        values.pop("channel_last_inbound_date", None)
    if stored_last and stored_last > values["channel_last_message_date"]:
        for key in ("channel_last_message", "channel_awaiting_reply", "channel_last_message_date"):
            values.pop(key)
    return values

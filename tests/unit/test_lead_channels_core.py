"""Pure tests of lead_channels' decision logic (no Odoo)."""
import json
import pathlib

import pytest
from hypothesis import given, strategies as st

from lead_channels_core import backoff, email_parsers, form, mapping, meta
from lead_channels_core.phone import contact_keys, normalize_email, normalize_phone
from lead_channels_core.signature import compute_signature, verify_signature

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "lead_channels" / "tests" / "fixtures"


# ---------------------------------------------------------------- phones
@pytest.mark.parametrize("raw", ["012-345 6789", "+60 12-345 6789", "6012 3456789",
                                 "0060123456789", "(012) 345-6789", "+6012 345 6789"])
def test_malaysian_forms_are_one_number(raw):
    assert normalize_phone(raw, "MY") == "+60123456789"


def test_wa_id_is_international():
    assert normalize_phone("60123456789", "MY", international=True) == "+60123456789"
    assert normalize_phone("6591234567", "MY", international=True) == "+6591234567"


def test_region_follows_company_country():
    assert normalize_phone("9123 4567", "SG") == "+6591234567"
    assert normalize_phone("9123 4567", "MY") != "+6591234567"


@pytest.mark.parametrize("raw", ["", None, "abc", "123", "+60 1", "0000000000000000000000"])
def test_garbage_is_no_phone(raw):
    assert normalize_phone(raw, "MY") is None


@given(st.text(max_size=40))
def test_normalize_never_raises(raw):
    result = normalize_phone(raw, "MY")
    assert result is None or result.startswith("+")


def test_email_and_keys():
    assert normalize_email('"Aisyah" <Aisyah.Ahmad@Example.COM>') == "aisyah.ahmad@example.com"
    assert normalize_email("no address") is None
    assert contact_keys("+6012", "psid1", "A@b.c") == ["email:a@b.c", "phone:+6012", "ref:psid1"]


# ---------------------------------------------------------------- signature
def test_signature_roundtrip_non_ascii():
    body = json.dumps({"text": "Selamat pagi, harga? 你好 ✓"}, ensure_ascii=False).encode()
    header = compute_signature("s3cret", body)
    assert header.startswith("sha256=")
    assert verify_signature("s3cret", body, header)
    assert not verify_signature("other", body, header)
    assert not verify_signature("s3cret", body + b" ", header)
    assert not verify_signature("s3cret", body, None)
    assert not verify_signature("s3cret", body, "sha256=")
    assert not verify_signature("s3cret", body, "sha256=ünïcode")
    assert not verify_signature("", body, header)


# ---------------------------------------------------------------- payloads
def wa_delivery(*messages, statuses=(), contacts=None):
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{
        "field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "60380001000", "phone_number_id": "PNID1"},
            "contacts": contacts or [{"profile": {"name": "Ahmad"}, "wa_id": "60123456789"}],
            "messages": list(messages), "statuses": list(statuses)}}]}]}


def test_split_batches_and_kinds():
    data = wa_delivery(
        {"from": "60123456789", "id": "wamid.A", "timestamp": "1763880000", "type": "text",
         "text": {"body": "Hi"}},
        {"from": "60123456789", "id": "wamid.B", "timestamp": "1763880001", "type": "location",
         "location": {"latitude": 3.1, "longitude": 101.7, "name": "KLCC"}},
        statuses=[{"id": "wamid.OUT", "status": "read", "recipient_id": "60123456789"}])
    data["entry"].append({"id": "PAGE1", "changes": [{"field": "leadgen", "value": {
        "leadgen_id": "444", "page_id": "PAGE1", "form_id": "F1", "ad_id": "AD1"}}]})
    items = meta.split_delivery(data)
    assert [(k, e) for k, e, _p in items] == [
        (meta.WA_MESSAGE, "wamid.A"), (meta.WA_MESSAGE, "wamid.B"),
        (meta.WA_STATUS, "status:wamid.OUT:read"), (meta.LEADGEN, "444")]
    parsed = meta.parse_whatsapp_message(items[1][2])
    assert parsed["wamid"] == "wamid.B" and parsed["name"] == "Ahmad"
    assert "https://maps.google.com/?q=3.1,101.7" in parsed["text"] and "KLCC" in parsed["text"]
    assert meta.parse_whatsapp_status(items[2][2])["status"] == "read"
    assert meta.parse_leadgen(items[3][2])["ad_id"] == "AD1"


def test_withheld_phone_uses_business_scoped_id():
    data = wa_delivery({"from_user_id": "MY.BSUID.1", "id": "wamid.C", "type": "image",
                        "image": {"caption": "this one"}},
                       contacts=[{"profile": {"name": "Mei"}, "user_id": "MY.BSUID.1"}])
    parsed = meta.parse_whatsapp_message(meta.split_delivery(data)[0][2])
    assert parsed["wa_id"] is None and parsed["contact_ref"] == "MY.BSUID.1"
    assert parsed["text"] == "[image] this one"


def test_referral_and_messenger_echo():
    data = wa_delivery({"from": "60123456789", "id": "wamid.D", "type": "text", "text": {"body": "Price?"},
                        "referral": {"source_url": "https://fb.me/ad", "source_id": "AD9",
                                     "source_type": "ad", "headline": "Condo Cheras"}})
    ref = meta.parse_whatsapp_message(meta.split_delivery(data)[0][2])["referral"]
    assert ref["ad_id"] == "AD9" and ref["headline"] == "Condo Cheras"
    page = {"object": "page", "entry": [{"id": "P", "time": 1, "messaging": [
        {"sender": {"id": "PSID1"}, "recipient": {"id": "P"}, "timestamp": 1763880000000,
         "message": {"mid": "m1", "text": "hello"}},
        {"sender": {"id": "P"}, "recipient": {"id": "PSID1"}, "timestamp": 1763880000001,
         "message": {"mid": "m2", "text": "reply", "is_echo": True}}]}]}
    items = meta.split_delivery(page)
    assert [(k, e) for k, e, _p in items] == [(meta.MESSENGER, "m1"), (meta.ECHO, "m2")]
    parsed = meta.parse_messaging(items[0][2])
    assert parsed["contact_ref"] == "PSID1" and parsed["timestamp"] == 1763880000
    insta = dict(page, object="instagram")
    assert meta.split_delivery(insta)[0][0] == meta.INSTAGRAM


def test_unknown_shapes_are_kept_with_stable_ids():
    data = {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [
        {"field": "message_template_status_update", "value": {"event": "APPROVED"}}]}]}
    first, second = meta.split_delivery(data), meta.split_delivery(json.loads(json.dumps(data)))
    assert first[0][0] == meta.UNKNOWN and first[0][1] == second[0][1]


@pytest.mark.parametrize("body,reason", [(b"", "empty"), (b"{oops", "not JSON"), (b"[1]", "object"),
                                         (b"\xff\xfe", "UTF-8")])
def test_load_body_reasons(body, reason):
    with pytest.raises(meta.PayloadError, match=reason):
        meta.load_body(body)


def test_status_order():
    assert meta.status_moves_forward("sent", "delivered")
    assert not meta.status_moves_forward("read", "delivered")
    assert meta.status_moves_forward("delivered", "failed")
    assert not meta.status_moves_forward("read", "failed")


# ---------------------------------------------------------------- mapping
FIELDS = {"lead_budget": ("monetary", None),
          "lead_timeline": ("selection", [("week", "This week"), ("month", "This month"),
                                          ("quarter", "This quarter"), ("later", "Later"),
                                          ("unknown", "Unknown")])}


def test_leadgen_mapping():
    answers = mapping.leadgen_answers([
        {"name": "full_name", "values": ["Siti Rahman"]},
        {"name": "phone_number", "values": ["+60123456789"]},
        {"name": "what_is_your_budget?", "values": ["RM 500k"]},
        {"name": "when_do_you_plan_to_buy?", "values": ["Within 3 months"]},
        {"name": "preferred_area", "values": ["Cheras"]}])
    values, extra, problems = mapping.map_answers(
        answers, {"what_is_your_budget": "lead_budget", "when_do_you_plan_to_buy": "lead_timeline"}, FIELDS)
    assert values == {"contact_name": "Siti Rahman", "phone": "+60123456789",
                      "lead_budget": 500000.0, "lead_timeline": "quarter"}
    assert extra == ["preferred_area: Cheras"] and not problems


def test_mapping_bad_answer_kept_in_description():
    values, extra, problems = mapping.map_answers([("budget", "ask me")], {"budget": "lead_budget"}, FIELDS)
    assert values == {} and extra == ["budget: ask me"] and problems


def test_coerce():
    assert mapping.coerce("1.2m", "float") == 1200000
    assert mapping.coerce("yes", "boolean") is True
    assert mapping.coerce("This month", "selection", FIELDS["lead_timeline"][1]) == "month"
    with pytest.raises(mapping.CoerceError):
        mapping.coerce("x", "many2one")


# ---------------------------------------------------------------- forms
def test_form_validation():
    clean, errors = form.validate_submission({"name": "Ali", "phone": "012-345 6789", "utm_source": "fb"})
    assert not errors and clean["phone_e164"] == "+60123456789" and clean["utm"] == {"utm_source": "fb"}
    _clean, errors = form.validate_submission({"email": "not-an-email", "phone": "12"})
    assert set(errors) == {"name", "email", "phone"}
    _clean, errors = form.validate_submission({"name": "x"})
    assert set(errors) == {"phone", "email"}
    assert form.is_spam({"website_url": "http://spam"}) and not form.is_spam({"name": "a"})
    assert form.rate_limited(5, 5) and not form.rate_limited(4, 5) and not form.rate_limited(99, 0)


# ---------------------------------------------------------------- backoff
def test_backoff_grows_and_caps():
    delays = [backoff.retry_delay(n) for n in range(1, 12)]
    assert delays[:3] == [60, 120, 240] and delays[-1] == backoff.CAP_SECONDS
    assert delays == sorted(delays)
    assert backoff.should_retry(1) and not backoff.should_retry(backoff.MAX_ATTEMPTS)


# ---------------------------------------------------------------- e-mails
def _fixture(name):
    raw = (FIXTURES / name).read_text()
    head, body = raw.split("\n\n", 1)
    subject = [line[9:] for line in head.splitlines() if line.startswith("Subject: ")][0]
    sender = [line[6:] for line in head.splitlines() if line.startswith("From: ")][0]
    return subject, body, sender


def test_propertyguru():
    parsed = email_parsers.parse_email(*_fixture("propertyguru_enquiry.eml"))
    assert parsed["portal"] == "propertyguru"
    assert parsed["name"] == "Nur Aisyah binti Ahmad"
    assert normalize_phone(parsed["phone"], "MY") == "+60123456789"
    assert parsed["email"] == "aisyah.ahmad@example.com"
    assert parsed["listing_ref"] == "34567890"
    assert parsed["message"].startswith("Hi, is this unit still available?")
    assert "Reply to this enquiry" not in parsed["message"]


def test_iproperty():
    parsed = email_parsers.parse_email(*_fixture("iproperty_enquiry.eml"))
    assert parsed["portal"] == "iproperty"
    assert parsed["name"] == "Lim Wei Jie"
    assert normalize_phone(parsed["phone"], "MY") == "+60123456780"
    assert parsed["email"] == "weijie.lim@example.com"
    assert parsed["listing_ref"] == "102938475"
    assert "weekday evenings" in parsed["message"] and "Regards" not in parsed["message"]


def test_generic_keeps_whole_body():
    subject, body, sender = _fixture("generic_enquiry.eml")
    parsed = email_parsers.parse_email(subject, body, sender)
    assert parsed["portal"] == "generic"
    assert normalize_phone(parsed["phone"], "MY") == "+60129876543"
    assert parsed["email"] == "siti.rahman@example.com"
    assert parsed["message"] == body.strip()


def test_wa_id_kept_as_e164_even_outside_the_phone_library():
    assert meta.wa_id_e164("972987654321") == "+972987654321"
    assert meta.wa_id_e164("+60123456789") == "+60123456789"
    assert meta.wa_id_e164("12345") is None and meta.wa_id_e164("MY.BSUID.1") is None
    assert meta.wa_id_e164(None) is None


def test_removed_reaction_says_nothing():
    removed = wa_delivery({"from": "60123456789", "id": "wamid.R0", "type": "reaction",
                           "reaction": {"message_id": "wamid.X", "emoji": ""}})
    added = wa_delivery({"from": "60123456789", "id": "wamid.R1", "type": "reaction",
                         "reaction": {"message_id": "wamid.X", "emoji": "\U0001F44D"}})
    assert meta.parse_whatsapp_message(meta.split_delivery(removed)[0][2])["text"] == ""
    assert meta.parse_whatsapp_message(meta.split_delivery(added)[0][2])["text"] == "[reaction] \U0001F44D"


def test_system_messages():
    changed = wa_delivery({"from": "60123456789", "id": "wamid.S1", "type": "system", "system": {
        "body": "User A changed from +60 12-345 6789 to +60 13-999 8888", "new_wa_id": "60139998888",
        "type": "user_changed_number"}})
    parsed = meta.parse_whatsapp_message(meta.split_delivery(changed)[0][2])
    assert parsed["system"] == {"type": "user_changed_number", "new_wa_id": "60139998888", "new_user_id": None,
                                "body": "User A changed from +60 12-345 6789 to +60 13-999 8888"}
    assert parsed["text"].startswith("User A changed")
    text = wa_delivery({"from": "60123456789", "id": "wamid.S2", "type": "text", "text": {"body": "hi"}})
    assert meta.parse_whatsapp_message(meta.split_delivery(text)[0][2])["system"] is None


def _text_of(message):
    return meta.parse_whatsapp_message(meta.split_delivery(wa_delivery(message))[0][2])["text"]


def test_order_contacts_unsupported_and_flow_are_readable():
    order = _text_of({"from": "60123456789", "id": "wamid.O1", "type": "order", "order": {
        "catalog_id": "C1", "text": "Deliver on Friday", "product_items": [
            {"product_retailer_id": "SKU-1", "quantity": "2", "item_price": "10.50", "currency": "MYR"},
            {"product_retailer_id": "SKU-9", "quantity": 1, "item_price": 99, "currency": "MYR"}]}})
    assert order == "[order]\n2 x SKU-1 @ 10.50 MYR\n1 x SKU-9 @ 99 MYR\nDeliver on Friday"
    shared = _text_of({"from": "60123456789", "id": "wamid.C1", "type": "contacts", "contacts": [
        {"name": {"formatted_name": "Ali Baba"}, "phones": [{"phone": "+60 13-999 8888", "wa_id": "60139998888"}]}]})
    assert shared == "[contacts] Ali Baba (+60 13-999 8888)"
    unsupported = _text_of({"from": "60123456789", "id": "wamid.U1", "type": "unsupported", "errors": [
        {"code": 131051, "title": "Message type unknown",
         "error_data": {"details": "Message type is currently not supported."}}]})
    assert unsupported == "[unsupported] Message type unknown - Message type is currently not supported."
    flow = _text_of({"from": "60123456789", "id": "wamid.F1", "type": "interactive", "interactive": {
        "type": "nfm_reply", "nfm_reply": {"name": "flow", "body": "Sent",
                                          "response_json": '{"flow_token": "t", "budget": "RM 500k", "rooms": "3"}'}}})
    assert flow == "Sent\nbudget: RM 500k\nrooms: 3"


def test_value_errors_are_readable():
    data = {"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "errors": [
            {"code": 131000, "title": "Something went wrong",
             "error_data": {"details": "Media download failed"}}]}}]}]}
    kind, _ext, payload = meta.split_delivery(data)[0]
    assert kind == meta.UNKNOWN
    assert meta.delivery_errors(payload) == "Something went wrong - Media download failed"
    assert meta.delivery_errors({"entry": []}) == ""


SHAPES = pathlib.Path(__file__).resolve().parents[2] / "lead_channels" / "tests" / "data" / "whatsapp_shapes"


@pytest.mark.parametrize("path", sorted(SHAPES.glob("*.json")), ids=lambda p: p.stem)
def test_every_fixture_shape_splits_into_one_readable_item(path):
    items = meta.split_delivery(meta.load_body(path.read_bytes()))
    assert len(items) == 1
    kind, external_id, payload = items[0]
    assert external_id
    if kind == meta.WA_MESSAGE:
        data = meta.parse_whatsapp_message(payload)
        assert data["contact_ref"] and data["wamid"] == external_id
        assert data["text"] or data["type"] == "reaction"  # a removed reaction says nothing
    elif kind == meta.WA_STATUS:
        assert meta.parse_whatsapp_status(payload)["status"] == "read"
    else:
        assert meta.delivery_errors(payload).startswith("Something went wrong")


def test_shared_contacts_keep_names_phones_and_email():
    data = meta.parse_whatsapp_message(meta.split_delivery(meta.load_body(
        (SHAPES / "contacts.json").read_bytes()))[0][2])
    assert data["shared_contacts"] == [
        {"name": "Lim Wei Ming", "phones": [{"phone": "+60 12-888 7766", "wa_id": "60128887766"}],
         "email": "weiming.lim@example.com"},
        {"name": "Priya Nair", "phones": [{"phone": "+60 17-222 3344", "wa_id": None}], "email": None}]
    cards = meta.shared_contacts({"contacts": [
        {"name": {"first_name": "Wei Ming", "last_name": "Lim"}}, "junk", {"phones": [{"wa_id": "60128887766"}]},
        {"name": {}}]})
    assert cards == [{"name": "Wei Ming Lim", "phones": [], "email": None},
                     {"name": "", "phones": [{"phone": "60128887766", "wa_id": "60128887766"}], "email": None}]


def test_nul_characters_are_dropped():
    message, contact = {"from": "60123456789", "id": "wamid.N", "type": "text",
                        "text": {"body": "Harga\x00 unit?"}}, {"profile": {"name": "Ah\x00mad"}, "wa_id": "60123456789"}
    data = {"object": "whatsapp_business_account", "entry": [{"id": "W", "changes": [{"field": "messages", "value": {
        "messages": [message], "contacts": [contact]}}]}]}
    parsed = meta.parse_whatsapp_message(meta.split_delivery(data)[0][2])
    assert (parsed["text"], parsed["name"]) == ("Harga unit?", "Ahmad")
    assert meta.without_nul({"a\x00": ["x\x00", 1, None]}) == {"a": ["x", 1, None]}

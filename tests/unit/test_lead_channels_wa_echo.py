"""Pure tests of WhatsApp echoes (messages the business sent from another WhatsApp client)."""
from lead_channels_core import meta


def delivery(field="smb_message_echoes"):
    return {"object": "whatsapp_business_account", "entry": [{"id": "WABA1", "changes": [{"field": field, "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "60380001000", "phone_number_id": "P1"},
        "message_echoes": [
            {"from": "60380001000", "to": "60123456789", "id": "wamid.E1", "timestamp": "1763880000",
             "type": "text", "text": {"body": "See you Saturday"}},
            {"from": "60380001000", "to": "60123456789", "id": "wamid.E2", "timestamp": "1763880001",
             "type": "image", "image": {"caption": "Floor plan"}}]}}]}]}


def test_each_echo_is_an_echo_item_with_its_wamid():
    for field in ("smb_message_echoes", "message_echoes", "messages"):
        items = meta.split_delivery(delivery(field))
        assert [(kind, ext) for kind, ext, _p in items] == [(meta.ECHO, "wamid.E1"), (meta.ECHO, "wamid.E2")]
        assert all(meta.is_whatsapp_echo(payload) for _k, _e, payload in items)


def test_parse_whatsapp_echo():
    first, second = (payload for _k, _e, payload in meta.split_delivery(delivery()))
    assert meta.parse_whatsapp_echo(first) == {"wamid": "wamid.E1", "to": "60123456789", "from": "60380001000",
                                               "text": "See you Saturday", "timestamp": 1763880000}
    assert meta.parse_whatsapp_echo(second)["text"] == "[image] Floor plan"


def test_messenger_echo_is_not_a_whatsapp_echo():
    items = meta.split_delivery({"object": "page", "entry": [{"id": "PAGE1", "messaging": [
        {"sender": {"id": "PAGE1"}, "recipient": {"id": "PSID"}, "message": {"mid": "m1", "is_echo": True}}]}]})
    assert items[0][0] == meta.ECHO and not meta.is_whatsapp_echo(items[0][2])

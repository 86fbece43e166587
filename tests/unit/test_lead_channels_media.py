"""Pure tests of media and names (lead_channels/core/media.py)."""
import base64
import hashlib

from lead_channels_core import media as m


def test_whatsapp_media_of_each_type():
    for mtype in m.WA_MEDIA_TYPES:
        spec = m.whatsapp_media({"type": mtype, mtype: {"id": "MID", "mime_type": "x/y", "sha256": "ab"}})
        assert spec["type"] == mtype and spec["media_id"] == "MID"
    doc = m.whatsapp_media({"type": "document", "document": {"id": 7, "filename": "a.pdf", "caption": "c"}})
    assert (doc["media_id"], doc["filename"], doc["caption"]) == ("7", "a.pdf", "c")
    assert m.whatsapp_media({"type": "text", "text": {"body": "hi"}}) is None
    assert m.whatsapp_media({"type": "image", "image": {}}) is None
    assert m.whatsapp_media(None) is None


def test_messaging_media_urls_once():
    message = {"attachments": [{"type": "image", "payload": {"url": "https://x/a.jpg"}},
                               {"type": "image", "payload": {"url": "https://x/a.jpg"}},
                               {"type": "fallback", "payload": {"title": "link"}},
                               {"type": "file", "payload": {"url": "javascript:alert(1)"}}, "junk"]}
    assert m.messaging_media(message) == [{"type": "image", "url": "https://x/a.jpg"}]
    assert m.messaging_media({}) == []


def test_check_content():
    data = b"\xff\xd8 jpeg bytes"
    hexdigest = hashlib.sha256(data).hexdigest()
    b64 = base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert m.check_content(data, hexdigest, 100) == m.OK
    assert m.check_content(data, hexdigest.upper(), 100) == m.OK
    assert m.check_content(data, b64, 100) == m.OK
    assert m.check_content(data, "", 100) == m.OK
    assert m.check_content(data, "0" * 64, 100) == m.SHA_MISMATCH
    assert m.check_content(data, "not base64!", 100) == m.SHA_MISMATCH
    assert m.check_content(data, hexdigest, 5) == m.TOO_BIG
    assert m.check_content(b"", hexdigest, 100) == m.EMPTY


def test_too_big_and_sizes():
    assert m.too_big(17 * 1024 * 1024, m.DEFAULT_MAX_BYTES)
    assert not m.too_big(None, 10) and not m.too_big("x", 10) and not m.too_big(10, 10)
    assert m.size_label(17 * 1024 * 1024) == 17.0


def test_retry_is_bounded():
    delays = [m.retry_at_seconds(n) for n in range(1, m.MAX_ATTEMPTS + 1)]
    assert delays[:-1] == sorted(delays[:-1]) and delays[0] == m.BASE_DELAY
    assert delays[-1] is None


def test_file_name():
    assert m.file_name("document", "application/pdf", "brochure.pdf") == "brochure.pdf"
    assert m.file_name("image", "image/jpeg", url="https://cdn/x/photo.jpg?sig=1") == "photo.jpg"
    assert m.file_name("image", "image/jpeg").startswith("image.j")
    assert m.file_name("audio", "") == "audio"


def test_contact_name():
    assert m.contact_name("messenger", {"first_name": "Siti", "last_name": "Aminah", "id": "1"}) == "Siti Aminah"
    assert m.contact_name("messenger", {"first_name": " Siti "}) == "Siti"
    assert m.contact_name("instagram", {"name": "Tan Wei", "username": "tanwei"}) == "Tan Wei"
    assert m.contact_name("instagram", {"username": "tanwei"}) == "@tanwei"
    assert m.contact_name("messenger", {}) is None and m.contact_name("instagram", []) is None


def test_send_types():
    assert m.wa_send_type("image/jpeg") == "image" and m.wa_send_type("image/gif") == "document"
    assert m.wa_send_type("audio/ogg; codecs=opus") == "audio" and m.wa_send_type("video/mp4") == "video"
    assert m.wa_send_type("application/pdf") == "document" and m.wa_send_type(None) == "document"
    assert m.meta_send_type("image/png") == "image" and m.meta_send_type("application/pdf") == "file"

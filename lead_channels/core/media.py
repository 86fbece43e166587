"""Media and names of chat contacts: what to download, whether a download is
good, what to send. Plain Python (no Odoo): the models do the HTTP and ORM."""
import base64
import binascii
import hashlib
import mimetypes

WA_MEDIA_TYPES = ("image", "video", "document", "audio", "sticker")
DEFAULT_MAX_BYTES = 16 * 1024 * 1024  # WhatsApp's own limit for most media
MAX_ATTEMPTS = 5
BASE_DELAY = 60
CAP_DELAY = 6 * 3600

OK = "ok"
TOO_BIG = "too_big"
SHA_MISMATCH = "sha256_mismatch"
EMPTY = "empty"


def whatsapp_media(message):
    """The media of one WhatsApp message, or None:
    ``{"type", "media_id", "mime_type", "sha256", "caption", "filename"}``."""
    if not isinstance(message, dict):
        return None
    mtype = message.get("type")
    body = message.get(mtype) if mtype in WA_MEDIA_TYPES else None
    if not isinstance(body, dict) or not body.get("id"):
        return None
    return {"type": mtype, "media_id": str(body["id"]), "mime_type": body.get("mime_type") or "",
            "sha256": body.get("sha256") or "", "caption": body.get("caption") or "",
            "filename": body.get("filename") or ""}


def messaging_media(message):
    """The attachments of one Messenger / Instagram message that carry a URL:
    ``[{"type", "url"}]`` (at most one per URL)."""
    found, seen = [], set()
    attachments = message.get("attachments") if isinstance(message, dict) else None
    for att in attachments if isinstance(attachments, list) else ():
        if not isinstance(att, dict) or not isinstance(att.get("payload"), dict):
            continue
        url = att["payload"].get("url")
        if isinstance(url, str) and url.startswith(("https://", "http://")) and url not in seen:
            seen.add(url)
            found.append({"type": att.get("type") or "file", "url": url})
    return found


def too_big(size, max_bytes):
    """Whether a declared or measured size is over the cap (unknown sizes are not)."""
    try:
        return int(size) > max_bytes
    except (TypeError, ValueError):
        return False


def sha256_matches(content, expected):
    """Meta's ``sha256`` is hex in most answers, base64 in some: accept both."""
    if not expected:
        return True
    digest = hashlib.sha256(content).digest()
    expected = expected.strip()
    if expected.lower() == digest.hex():
        return True
    try:
        return base64.b64decode(expected, validate=True) == digest
    except (binascii.Error, ValueError):
        return False


def check_content(content, expected_sha256, max_bytes):
    """A code for downloaded bytes: OK, TOO_BIG, SHA_MISMATCH or EMPTY."""
    if not content:
        return EMPTY
    if len(content) > max_bytes:
        return TOO_BIG
    if not sha256_matches(content, expected_sha256):
        return SHA_MISMATCH
    return OK


def retry_at_seconds(attempts):
    """Seconds before the next try after the ``attempts``-th failure, or None
    when no try is left (MAX_ATTEMPTS in all)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return min(CAP_DELAY, BASE_DELAY * 2 ** max(0, attempts - 1))


def file_name(media_type, mime_type, filename="", url=""):
    """A file name for the attachment: Meta's own, else the URL's, else type + extension."""
    if filename:
        return filename[:200]
    tail = url.split("?")[0].rstrip("/").rsplit("/", 1)[-1] if url else ""
    if tail and "." in tail:
        return tail[:200]
    mime = (mime_type or "").split(";")[0].strip()
    extension = mimetypes.guess_extension(mime) or "" if mime else ""
    return "%s%s" % (media_type or "file", extension)


def size_label(size):
    """Bytes as megabytes for people, e.g. 16.0."""
    return round(int(size or 0) / (1024 * 1024), 1)


def contact_name(channel_type, data):
    """The display name Graph gives for a Messenger PSID (first and last name)
    or an Instagram IGSID (name, else @username), or None."""
    if not isinstance(data, dict):
        return None
    if channel_type == "instagram":
        name = str(data.get("name") or "").strip()
        username = str(data.get("username") or "").strip()
        return name or ("@%s" % username if username else None)
    parts = [str(data.get(key) or "").strip() for key in ("first_name", "last_name")]
    return " ".join(p for p in parts if p) or None


def wa_send_type(mime_type):
    """WhatsApp message type of a file sent by an agent: image (JPEG/PNG),
    audio, video (MP4/3GPP), else document."""
    mime = (mime_type or "").split(";")[0].strip().lower()
    if mime in ("image/jpeg", "image/png"):
        return "image"
    if mime.startswith("audio/"):
        return "audio"
    if mime in ("video/mp4", "video/3gpp"):
        return "video"
    return "document"


def meta_send_type(mime_type):
    """Messenger / Instagram attachment type of a file: image, audio, video or file."""
    mime = (mime_type or "").split(";")[0].strip().lower()
    for kind in ("image", "audio", "video"):
        if mime.startswith(kind + "/"):
            return kind
    return "file"

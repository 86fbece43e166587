"""Meta's ``X-Hub-Signature-256`` header: ``sha256=`` + HMAC-SHA256(app secret, raw body)."""
import hashlib
import hmac


def compute_signature(secret, body):
    if isinstance(secret, str):
        secret = secret.encode("utf-8")
    if isinstance(body, str):
        body = body.encode("utf-8")
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify_signature(secret, body, header):
    """True only for a well-formed header matching the raw body (constant time)."""
    if not secret or not header or not isinstance(header, str):
        return False
    expected = compute_signature(secret, body)
    return hmac.compare_digest(expected.encode("ascii"), header.strip().encode("ascii", "replace"))

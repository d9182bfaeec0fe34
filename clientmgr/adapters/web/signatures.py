"""The sidecar's event signature: ``X-Signature: sha256=<hex HMAC-SHA256 of the raw body>``.

Exactly what ``baileys/src/crypto.js`` ``signBody`` makes, keyed with
``SIDECAR_EVENTS_SECRET``. The MAC covers the bytes as received, so the body is verified
before it is parsed, and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["SIGNATURE_HEADER", "sign_body", "signature_matches"]

SIGNATURE_HEADER = "X-Signature"
_PREFIX = "sha256="


def sign_body(secret: str, body: bytes) -> str:
    """The header value the sidecar sends for ``body`` (tests use it to play the sidecar)."""
    return _PREFIX + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def signature_matches(secret: str, body: bytes, header: str | None) -> bool:
    """Whether ``header`` is the signature of ``body`` under ``secret``.

    An empty secret verifies nothing: unsigned events are never accepted.
    """
    if not secret or not header:
        return False
    expected = sign_body(secret, body)
    # Hex digits are case-insensitive; compare one canonical form, in constant time.
    return hmac.compare_digest(expected.encode(), header.strip().lower().encode())

"""Signed callback data: a button names an action and ids, plus a short HMAC bound to the user.

Telegram hands callback data back verbatim, and anyone can send any callback data, so the
bot never trusts it: a button whose signature does not match the pressing user is refused
and logged. Ids inside a valid button are still looked up scoped by the seller's account.
Format: ``<payload>~<sig>`` with ``payload`` like ``cl:card:42`` (≤ 64 bytes in all).
"""

from __future__ import annotations

import base64
import hashlib
import hmac

__all__ = ["MAX_CALLBACK_BYTES", "CallbackSigner", "ForgedCallbackError"]

MAX_CALLBACK_BYTES = 64
_SIG_LEN = 10


class ForgedCallbackError(ValueError):
    """The callback data was not made by this bot for this user."""


class CallbackSigner:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("the callback secret needs at least 16 bytes")
        self._secret = secret

    def _sig(self, user_id: int, payload: str) -> str:
        mac = hmac.new(self._secret, f"{user_id}|{payload}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode()[:_SIG_LEN]

    def sign(self, user_id: int, payload: str) -> str:
        data = f"{payload}~{self._sig(user_id, payload)}"
        if "~" in payload or len(data.encode()) > MAX_CALLBACK_BYTES:
            raise ValueError(f"callback payload too long or malformed: {payload!r}")
        return data

    def verify(self, user_id: int, data: str) -> str:
        """The payload, or ForgedCallbackError."""
        payload, sep, sig = data.rpartition("~")
        if not sep or not hmac.compare_digest(sig, self._sig(user_id, payload)):
            raise ForgedCallbackError(data)
        return payload

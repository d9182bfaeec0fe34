"""The WhatsApp port: the sellers' own numbers, reached through the Baileys sidecar.

It mirrors the sidecar's HTTP API (``baileys/README.md``) one call per route, so the real
adapter stays a thin translation and the in-memory fake can promise exactly the same.
What every implementation promises (held by ``tests/contract/test_whatsapp_gateway.py``):

- A session id is 1–64 of ``A-Z a-z 0-9 _ -``; anything else is WhatsAppRequestError.
- ``start_session`` is start-or-resume: a new session goes ``connecting`` → ``qr`` until the
  phone scans the code; a session whose phone is still linked comes back ``open`` without a
  QR; calling it on a running session just returns it.
- ``send_text`` sends once per ``(session, idempotency_key)``: a repeat returns the first
  message id without sending, even while the session is not open (records outlive
  restarts and logouts). A phone ``to`` is looked up first, so a Brazilian mobile reaches
  the JID WhatsApp knows, with or without the 9th digit.
- ``lookup`` answers in the order asked, one ``WaLookup`` per phone, echoing each phone.
- ``send_presence`` shows the contact "digitando…" (``composing``) or stops it (``paused``);
  the dispatcher shows it before each send, for as long as a person would take to type.
- Errors: WhatsAppUnavailableError (transient, nothing happened: retry later),
  WhatsAppSessionNotOpenError (the seller must link the phone), NotOnWhatsAppError
  (permanent), WhatsAppSendError (WhatsApp refused or timed out: retry with the same key),
  WhatsAppRequestError (a malformed call: a bug).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from typing import Protocol

from attrs import frozen

__all__ = [
    "MAX_IDEMPOTENCY_KEY",
    "MAX_TEXT_LENGTH",
    "SESSION_ID",
    "Presence",
    "WaLookup",
    "WaSession",
    "WaState",
    "WhatsAppGateway",
]

SESSION_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What the sidecar accepts as a session id (use ``fullmatch``)."""
MAX_TEXT_LENGTH = 4096
MAX_IDEMPOTENCY_KEY = 200


class WaState(StrEnum):
    """A session's connection state, named as the sidecar names it."""

    CONNECTING = "connecting"
    QR = "qr"
    """Waiting for the seller to scan ``WaSession.qr`` in WhatsApp → Linked devices."""
    OPEN = "open"
    CLOSED = "closed"
    """Stopped; ``reason`` says why (``qr_timeout``, ``connection_replaced``, …)."""
    LOGGED_OUT = "logged_out"
    """The phone unlinked this device: only a new QR brings it back."""


class Presence(StrEnum):
    """What the contact sees under the seller's name while a message is on its way."""

    COMPOSING = "composing"
    """"digitando…": a person is typing."""
    PAUSED = "paused"
    """Stopped typing (the indicator goes away)."""


@frozen
class WaSession:
    """One seller's WhatsApp session as the sidecar reports it.

    ``qr`` is the text to draw as a QR code (only in state ``qr``; it rotates, so draw the
    latest). ``phone`` is the linked number in E.164 (``+5511988887777``) once open;
    ``lid`` its WhatsApp LID JID when known. ``reason`` explains ``closed`` and reconnects.
    """

    id: str
    state: WaState
    qr: str | None = None
    phone: str | None = None
    reason: str | None = None
    lid: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state is WaState.OPEN


@frozen
class WaLookup:
    """Whether ``phone`` (as asked) is on WhatsApp, and the JID/LID to reach it.

    ``jid`` is the form WhatsApp knows (``5511988887777@s.whatsapp.net`` — for an old
    Brazilian account possibly without the 9th digit); both are None when ``exists`` is
    false. Clients keep both, since Baileys 7 addresses contacts by either.
    """

    phone: str
    exists: bool
    jid: str | None = None
    lid: str | None = None


class WhatsAppGateway(Protocol):
    async def start_session(self, session_id: str) -> WaSession:
        """Start or resume the session and return it (see the module docstring)."""

    async def get_session(self, session_id: str) -> WaSession | None:
        """The session, or None when the sidecar has none by that id (never started, or
        forgotten by ``logout``)."""

    async def logout(self, session_id: str) -> None:
        """Unlink the phone, wipe the session's auth state and forget it; afterwards
        ``get_session`` answers None. Logging out an unknown session is not an error."""

    async def send_text(self, session_id: str, to: str, text: str, idempotency_key: str) -> str:
        """Send ``text`` (1–4096 characters) to ``to`` and return WhatsApp's message id.

        ``to`` is a phone in E.164 (``+5511988887777``) or a person's JID (``…@s.whatsapp.net``
        or ``…@lid``, used as is). ``idempotency_key`` (1–200 characters) makes a retry
        safe: the same key in the same session returns the first id and sends nothing.
        Raises NotOnWhatsAppError when a phone ``to`` is not on WhatsApp.
        """

    async def send_presence(self, session_id: str, to: str, presence: Presence) -> None:
        """Show ``presence`` in the chat with ``to`` (a phone in E.164, looked up first, or a
        person's JID used as is — as in ``send_text``). Sends no message and keeps no
        record: WhatsApp drops ``composing`` after about 10 s, so a longer wait repeats it.

        The session must be open (else WhatsAppSessionNotOpenError). Raises
        NotOnWhatsAppError when a phone ``to`` is not on WhatsApp, and WhatsAppSendError
        when WhatsApp refused the update (nothing to retry: the message can go without it).
        """

    async def lookup(self, session_id: str, phones: Sequence[str]) -> list[WaLookup]:
        """Which ``phones`` (E.164) are on WhatsApp, in the order asked; the session must
        be open. An empty list answers an empty list."""

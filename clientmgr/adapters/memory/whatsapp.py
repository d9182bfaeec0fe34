"""A simulated WhatsApp: sessions, the seller's phone and the network, all in memory.

``InMemoryWhatsAppGateway`` implements ``WhatsAppGateway`` for unit tests and the offline
playground, and is held by the same contract suite as the real sidecar adapter. Besides
the port it has controls that play the other side, named like the sidecar's own fake
(``baileys/src/testing/fake-socket.js``): ``scan`` (the phone reads the QR), ``rotate_qr``,
``drop``, ``log_out`` (unlinked from the phone), ``set_on_whatsapp`` / ``add_number`` /
``remove_number``, ``fail_next`` and ``down``; ``sent`` lists what went out, ``presences``
the "digitando…" shown, and ``timeline`` both in the order they happened.

Like the sidecar: message ids are derived from (session, idempotency key), so the same key
always names the same message; phone numbers are resolved with the Brazilian 9th-digit
variants (mobiles only, the form asked tried first); the idempotency records outlive a
logout; and an unanswered QR gives up after ``max_qr`` codes (``closed``/``qr_timeout``).
Every call yields to the event loop once, as a real network call would, so concurrent
callers interleave in tests.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from collections.abc import Iterable, Sequence

from attrs import define, frozen

from clientmgr.errors import (
    NotOnWhatsAppError,
    WhatsAppError,
    WhatsAppRequestError,
    WhatsAppSendError,
    WhatsAppSessionNotOpenError,
    WhatsAppUnavailableError,
)
from clientmgr.ports.whatsapp import (
    MAX_IDEMPOTENCY_KEY,
    MAX_TEXT_LENGTH,
    SESSION_ID,
    Presence,
    WaLookup,
    WaSession,
    WaState,
)

__all__ = ["InMemoryWhatsAppGateway", "SentWhatsAppMessage", "ShownPresence", "phone_variants"]

_USER_SERVER = "s.whatsapp.net"
_DIGITS = re.compile(r"[1-9][0-9]{7,14}")
_BR_MOBILE_WITH_9 = re.compile(r"55([1-9]{2})9([6-9][0-9]{7})")
_BR_MOBILE_WITHOUT_9 = re.compile(r"55([1-9]{2})([6-9][0-9]{7})")
_USER_JID = re.compile(r"([0-9]{5,20})(?::[0-9]+)?@(s\.whatsapp\.net|lid)")


@frozen
class SentWhatsAppMessage:
    """One message the simulated network accepted; ``to`` is the JID it reached."""

    session_id: str
    to: str
    text: str
    message_id: str
    idempotency_key: str


@frozen
class ShownPresence:
    """One presence update the contact saw; ``to`` is the JID it reached."""

    session_id: str
    to: str
    presence: Presence


@define
class _Session:
    id: str
    state: WaState
    qr: str | None = None
    qr_attempts: int = 0
    phone: str | None = None
    lid: str | None = None
    reason: str | None = None

    def snapshot(self) -> WaSession:
        return WaSession(
            id=self.id,
            state=self.state,
            qr=self.qr,
            phone=self.phone,
            reason=self.reason,
            lid=self.lid,
        )


def _digits_of(text: str) -> str | None:
    """The sidecar's ``digitsOf``: "+55 (11) 98888-7777" → "5511988887777", else None."""
    cleaned = re.sub(r"[\s().-]", "", text.strip().removeprefix("+"))
    return cleaned if _DIGITS.fullmatch(cleaned) else None


def phone_variants(digits: str) -> list[str]:
    """The forms WhatsApp is asked about for ``digits``, the given one first.

    A Brazilian mobile (55 + DDD + 9 + 8 digits, subscriber number starting 6–9) may be
    registered without its 9th digit (accounts from before 2016) and an 8-digit one may
    have gained it; landlines get no variant, since adding a 9 could name someone else.
    """
    with_9 = _BR_MOBILE_WITH_9.fullmatch(digits)
    if with_9:
        return [digits, f"55{with_9[1]}{with_9[2]}"]
    without_9 = _BR_MOBILE_WITHOUT_9.fullmatch(digits)
    if without_9:
        return [digits, f"55{without_9[1]}9{without_9[2]}"]
    return [digits]


def _message_id(session_id: str, idempotency_key: str) -> str:
    # The sidecar's messageIdFor: Baileys' "3EB0" + 18 hex format, derived from the key.
    digest = hashlib.sha256(f"clientmgr\0{session_id}\0{idempotency_key}".encode()).hexdigest()
    return f"3EB0{digest.upper()[:18]}"


class InMemoryWhatsAppGateway:
    """Implements ``WhatsAppGateway`` with a simulated phone per session.

    ``everyone_on_whatsapp`` makes every number exist unless removed (the sidecar's
    ``SIDECAR_FAKE=1`` behaviour, handy in the playground); by default only the numbers
    given to ``set_on_whatsapp`` / ``add_number`` (and linked sellers' phones) exist.
    """

    def __init__(self, *, everyone_on_whatsapp: bool = False, max_qr: int = 5) -> None:
        if max_qr < 1:
            raise ValueError("max_qr must be at least 1")
        self.down = False
        """While True every port call raises WhatsAppUnavailableError (sidecar down)."""
        self.sent: list[SentWhatsAppMessage] = []
        self.presences: list[ShownPresence] = []
        self.timeline: list[SentWhatsAppMessage | ShownPresence] = []
        """Sends and presences in the order they happened (e.g. "typing" before the send)."""
        self.everyone_on_whatsapp = everyone_on_whatsapp
        self.max_qr = max_qr
        self._sessions: dict[str, _Session] = {}
        self._numbers: dict[str, str | None] = {}  # digits as WhatsApp knows them → LID JID
        self._removed: set[str] = set()
        self._records: dict[tuple[str, str], str] = {}  # (session, key) → message id
        self._failures: list[WhatsAppError] = []
        self._qr_serial = itertools.count(1)

    # -- the port -------------------------------------------------------------------

    async def start_session(self, session_id: str) -> WaSession:
        await self._call(session_id)
        session = self._sessions.get(session_id)
        if session is None:
            session = self._sessions[session_id] = _Session(session_id, WaState.CONNECTING)
        if session.state is WaState.CLOSED and session.phone is not None:
            session.state, session.reason = WaState.OPEN, None  # resumed: still linked
        elif session.state in (WaState.CONNECTING, WaState.CLOSED, WaState.LOGGED_OUT):
            session.qr_attempts = 0
            session.reason = None
            self._show_new_qr(session)
        return session.snapshot()

    async def get_session(self, session_id: str) -> WaSession | None:
        await self._call(session_id)
        session = self._sessions.get(session_id)
        return None if session is None else session.snapshot()

    async def logout(self, session_id: str) -> None:
        await self._call(session_id)
        self._sessions.pop(session_id, None)

    async def send_text(self, session_id: str, to: str, text: str, idempotency_key: str) -> str:
        await self._call(session_id)
        if not 1 <= len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise WhatsAppRequestError(
                f"the idempotency key must have 1-{MAX_IDEMPOTENCY_KEY} characters"
            )
        if not 1 <= len(text) <= MAX_TEXT_LENGTH:
            raise WhatsAppRequestError(f"the text must have 1-{MAX_TEXT_LENGTH} characters")
        session = self._require_session(session_id)
        previous = self._records.get((session_id, idempotency_key))
        if previous is not None:
            return previous
        self._require_open(session)
        jid = self._recipient(to)
        if self._failures:
            raise self._failures.pop(0)
        message_id = _message_id(session_id, idempotency_key)
        self._records[(session_id, idempotency_key)] = message_id
        sent = SentWhatsAppMessage(session_id, jid, text, message_id, idempotency_key)
        self.sent.append(sent)
        self.timeline.append(sent)
        return message_id

    async def send_presence(self, session_id: str, to: str, presence: Presence) -> None:
        await self._call(session_id)
        try:
            state = Presence(presence)
        except ValueError:
            raise WhatsAppRequestError(
                f"the presence must be one of {', '.join(Presence)}, not {presence!r}"
            ) from None
        self._require_open(self._require_session(session_id))
        shown = ShownPresence(session_id, self._recipient(to), state)
        self.presences.append(shown)
        self.timeline.append(shown)

    async def lookup(self, session_id: str, phones: Sequence[str]) -> list[WaLookup]:
        await self._call(session_id)
        self._require_open(self._require_session(session_id))
        return [self._lookup_one(phone) for phone in phones]

    # -- the other side: the seller's phone and the network -------------------------

    def scan(self, session_id: str, phone: str, *, lid: str | None = None) -> WaSession:
        """The seller reads the QR with ``phone``: the session opens, linked to it."""
        session = self._sessions.get(session_id)
        if session is None or session.state is not WaState.QR:
            raise ValueError(f"session {session_id} is not showing a QR code")
        digits = _digits_of(phone)
        if digits is None:
            raise ValueError(f"not a phone number with country code: {phone!r}")
        session.state, session.qr, session.reason = WaState.OPEN, None, None
        session.phone, session.lid = f"+{digits}", lid
        self.add_number(digits, lid=lid)
        return session.snapshot()

    def rotate_qr(self, session_id: str) -> str | None:
        """The QR expired and a new one came; after ``max_qr`` codes the session gives up
        (``closed``, reason ``qr_timeout``) and None is returned."""
        session = self._sessions.get(session_id)
        if session is None or session.state is not WaState.QR:
            raise ValueError(f"session {session_id} is not showing a QR code")
        if session.qr_attempts >= self.max_qr:
            session.state, session.qr, session.reason = WaState.CLOSED, None, "qr_timeout"
            return None
        self._show_new_qr(session)
        return session.qr

    def drop(self, session_id: str, reason: str = "connection_lost") -> None:
        """The connection fell (``closed``); the phone stays linked, so ``start_session``
        resumes it without a QR."""
        session = self._known(session_id)
        session.state, session.qr, session.reason = WaState.CLOSED, None, reason

    def log_out(self, session_id: str) -> None:
        """The seller removed the linked device on the phone: ``logged_out``, new QR needed."""
        session = self._known(session_id)
        session.state, session.qr, session.reason = WaState.LOGGED_OUT, None, "logged_out"
        session.phone = session.lid = None

    def set_on_whatsapp(self, phones: Iterable[str]) -> None:
        """Exactly these numbers exist on WhatsApp, in the form given (register one without
        the 9th digit to play an old Brazilian account)."""
        self._numbers.clear()
        self._removed.clear()
        for phone in phones:
            self.add_number(phone)

    def add_number(self, phone: str, *, lid: str | None = None) -> None:
        digits = self._control_digits(phone)
        self._numbers[digits] = lid
        self._removed.discard(digits)

    def remove_number(self, phone: str) -> None:
        digits = self._control_digits(phone)
        self._numbers.pop(digits, None)
        self._removed.add(digits)

    def fail_next(self, n: int = 1, error: WhatsAppError | None = None) -> None:
        """The next ``n`` sends that would go out raise ``error`` (WhatsAppSendError by
        default) and send nothing; a repeat of an already sent key is not affected."""
        self._failures.extend(
            [error or WhatsAppSendError("WhatsApp did not accept the message")] * n
        )

    def sent_to(self, jid: str) -> list[SentWhatsAppMessage]:
        return [message for message in self.sent if message.to == jid]

    # -- internals --------------------------------------------------------------------

    async def _call(self, session_id: str) -> None:
        await asyncio.sleep(0)
        if self.down:
            raise WhatsAppUnavailableError()
        if not isinstance(session_id, str) or not SESSION_ID.fullmatch(session_id):
            raise WhatsAppRequestError(f"invalid session id: {session_id!r}")

    def _show_new_qr(self, session: _Session) -> None:
        session.qr_attempts += 1
        session.state = WaState.QR
        session.qr = f"2@fake{next(self._qr_serial)},{session.id},{session.qr_attempts}"

    def _known(self, session_id: str) -> _Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise ValueError(f"no session {session_id}")
        return session

    def _require_session(self, session_id: str) -> _Session:
        session = self._sessions.get(session_id)
        if session is None:
            raise WhatsAppSessionNotOpenError(session_id, None)
        return session

    @staticmethod
    def _require_open(session: _Session) -> None:
        if session.state is not WaState.OPEN:
            raise WhatsAppSessionNotOpenError(session.id, session.state.value)

    @staticmethod
    def _control_digits(phone: str) -> str:
        digits = _digits_of(phone)
        if digits is None:
            raise ValueError(f"not a phone number with country code: {phone!r}")
        return digits

    def _recipient(self, to: str) -> str:
        if "@" in to:
            match = _USER_JID.fullmatch(to.strip())
            if match is None:
                raise WhatsAppRequestError(f"not a person's WhatsApp JID: {to}")
            return f"{match[1]}@{match[2]}"
        if _digits_of(to) is None:
            raise WhatsAppRequestError(f"not a phone number with country code or a JID: {to!r}")
        found = self._lookup_one(to)
        if not found.exists or found.jid is None:
            raise NotOnWhatsAppError(to)
        return found.jid

    def _lookup_one(self, phone: str) -> WaLookup:
        digits = _digits_of(phone)
        if digits is None:
            raise WhatsAppRequestError(f"not a phone number with country code: {phone!r}")
        for form in phone_variants(digits):
            if form in self._numbers:
                return WaLookup(phone, True, f"{form}@{_USER_SERVER}", self._numbers[form])
        if self.everyone_on_whatsapp and digits not in self._removed:
            return WaLookup(phone, True, f"{digits}@{_USER_SERVER}", None)
        return WaLookup(phone, False)

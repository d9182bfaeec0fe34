"""What the WhatsApp sidecar's events change: ticks on messages, opt-outs, dropped sessions.

The sidecar POSTs ``{event_id, type, session_id, ts, data}`` (``baileys/README.md``) and
retries until it gets a 2xx, so every event may arrive more than once. Rather than keep
the ids of processed events, each event is applied *by its effect*, which a repeat finds
already done:

- ``ack``: a message's status only moves forward, sent → delivered → read (a ``delivered``
  arriving after ``read`` changes nothing); an ``error`` ack fails a message only while it
  is merely ``sent``. The message is found by WhatsApp's id, which the dispatcher stored.
- ``message``: a client who answers exactly "SAIR", "PARAR", "STOP" or "CANCELAR" (any
  case, accents, surrounding spaces or punctuation) is opted out of every message and their
  queued reminders are cancelled; the seller is told. An opted-out client stays opted out.
- ``state``: when a linked session is lost for good (``logged_out``, or ``closed`` for a
  reason other than a shutdown), the seller is told what to do; when it comes back by
  itself, the seller is told it did. ``qr``: the first QR code after such a drop is sent to
  the seller as a photo (the bot's 🔗 Conectar shows one that keeps itself fresh). A state
  event older than ``STATE_MAX_AGE`` or a QR older than ``QR_MAX_AGE`` is no longer news.

What was told about a session is journaled in the audit trail (entity
``whatsapp_session``, beside the bot's ``whatsapp.connect`` / ``whatsapp.disconnect``), and
the journal decides: a drop already told is not told again, a QR is only forwarded after a
drop, a logout the seller did in the bot is not reported back to them. A notice is sent
*before* its journal entry is written, so when Telegram is unreachable
(SellerUnreachableError) nothing is recorded and the sidecar's retry tells it then. An
opt-out is the exception: the client's wish is committed first, whatever Telegram does,
and a ``client.opt_out_told`` entry written after the notice lets a retry tell the seller
without changing anything twice.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from attrs import evolve, field, frozen

from clientmgr.core.accounts import Account
from clientmgr.core.audit import AuditEvent
from clientmgr.core.clients import Client
from clientmgr.core.i18n import _
from clientmgr.core.outbox import OutboxStatus
from clientmgr.core.phones import format_phone
from clientmgr.errors import AccountNotFoundError, InvalidPhoneError, WhatsAppError
from clientmgr.ports.clock import Clock
from clientmgr.ports.notifier import NoticeAction, SellerNotice, SellerNotifier
from clientmgr.ports.repositories import UnitOfWork, UnitOfWorkFactory
from clientmgr.ports.whatsapp_events import EventLookupsFactory
from clientmgr.services.accounts import audit
from clientmgr.services.sending import resume_session

__all__ = [
    "OPT_OUT_WORDS",
    "EventResult",
    "MalformedEventError",
    "Outcome",
    "SidecarEvent",
    "WhatsAppEvents",
    "account_id_of_session",
    "is_opt_out",
    "parse_event",
]

OPT_OUT_WORDS = frozenset({"sair", "parar", "stop", "cancelar"})
"""A whole incoming message equal to one of these (see ``is_opt_out``) opts the client out."""

SESSION_ENTITY = "whatsapp_session"
CONNECTED = "whatsapp.connect"  # written by services.whatsapp when the seller taps Conectar
DISCONNECTED = "whatsapp.disconnect"  # … and when the seller unlinks in the bot
DROPPED = "whatsapp.dropped"
QR_SENT = "whatsapp.qr_sent"
RECONNECTED = "whatsapp.reconnected"
JOURNAL = frozenset({CONNECTED, DISCONNECTED, DROPPED, QR_SENT, RECONNECTED})
OPTED_OUT = "client.opted_out"
OPT_OUT_TOLD = "client.opt_out_told"

_SESSION_ID = re.compile(r"acc-([1-9][0-9]{0,17})")
_DIGITS = re.compile(r"[1-9][0-9]{7,14}")
_BR_MOBILE_WITH_9 = re.compile(r"55([1-9]{2})9([6-9][0-9]{7})")
_BR_MOBILE_WITHOUT_9 = re.compile(r"55([1-9]{2})([6-9][0-9]{7})")
_PERSON_JID = re.compile(r"[0-9]{5,20}@(s\.whatsapp\.net|lid)")
_TRIM = " \t\r\n.,;:!?¡¿\"'“”‘’()[]*_~-"
_MAX_EVENT_TEXT = 64

# Closed for these reasons the sidecar is only stopping (a deploy) or the seller is still in
# the bot's connect screen, which says so itself.
_NOT_A_DROP = frozenset({"shutdown", "stopped", "qr_timeout"})
_CLOSED_KEYS = {
    "connection_replaced": "events.wa_closed.connection_replaced",
    "forbidden": "events.wa_closed.forbidden",
    "reconnect_failed": "events.wa_closed.reconnect_failed",
}
_ACK_TARGET = {
    "server": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.READ,
}
# How far along a message is; an ack applies only to a message behind it. A failed message
# WhatsApp later reports delivered was delivered after all. Cancelled ones never change.
_PROGRESS = {
    OutboxStatus.QUEUED: 0,
    OutboxStatus.SENDING: 1,
    OutboxStatus.SENT: 2,
    OutboxStatus.FAILED: 2,
    OutboxStatus.DELIVERED: 3,
    OutboxStatus.READ: 4,
}
QR_MAX_AGE = timedelta(minutes=2)
"""WhatsApp rotates a QR code within a minute: an older one (a delivery held up by retries)
is not worth a photo."""
STATE_MAX_AGE = timedelta(hours=1)
"""The sidecar retries an event for a few minutes; a state older than this is a replay, not
news, and telling it could contradict what the seller has done since."""
ACK_ERROR_REASON = _("O WhatsApp avisou que não conseguiu entregar a mensagem.")
"""``last_error`` of a message WhatsApp acked with an error (the seller reads it)."""


class MalformedEventError(WhatsAppError, ValueError):
    """The body is not a sidecar event (missing or mistyped fields): answered with 400."""


class Outcome(StrEnum):
    APPLIED = "applied"
    """Something changed (or the seller was told)."""
    UNCHANGED = "unchanged"
    """Already applied (a repeat), or nothing to move: the status is already further on."""
    IGNORED = "ignored"
    """Not ours to act on: unknown session, account, message or client; an ordinary text."""


@frozen
class EventResult:
    outcome: Outcome
    detail: str


@frozen
class SidecarEvent:
    """One event as the sidecar sends it (``ts``: when the sidecar published it)."""

    event_id: str
    type: str
    session_id: str
    data: Mapping[str, Any] = field(factory=dict)
    ts: datetime | None = None


def parse_event(payload: object) -> SidecarEvent:
    """The event in a decoded JSON body; MalformedEventError says what is wrong."""
    if not isinstance(payload, dict):
        raise MalformedEventError("the event must be a JSON object")
    values = {}
    for name in ("event_id", "type", "session_id"):
        value = payload.get(name)
        if not isinstance(value, str) or not value.strip():
            raise MalformedEventError(f"{name!r} must be a non-empty string")
        if len(value) > 512:
            raise MalformedEventError(f"{name!r} is too long")
        values[name] = value
    data = payload.get("data", {})
    if not isinstance(data, dict):
        raise MalformedEventError("'data' must be a JSON object")
    ts = payload.get("ts")
    when = None
    if isinstance(ts, str):
        try:
            when = datetime.fromisoformat(ts)
        except ValueError:
            raise MalformedEventError(f"'ts' is not an ISO time: {ts[:40]!r}") from None
        if when.tzinfo is None:
            raise MalformedEventError("'ts' has no time zone")
    elif ts is not None:
        raise MalformedEventError("'ts' must be an ISO time string")
    return SidecarEvent(data=data, ts=when, **values)


def account_id_of_session(session_id: str) -> int | None:
    """The account behind a session named by ``services.whatsapp.session_id_for``."""
    match = _SESSION_ID.fullmatch(session_id)
    return None if match is None else int(match[1])


def is_opt_out(text: object) -> bool:
    """Whether a client's whole message asks to stop: "SAIR", "Parar.", " stop! ", "cancelár"."""
    if not isinstance(text, str) or len(text) > _MAX_EVENT_TEXT:
        return False
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.strip(_TRIM).casefold() in OPT_OUT_WORDS


def _phone_forms(digits: str) -> list[str]:
    """``digits`` and, for a Brazilian mobile, the form with/without the 9th digit: WhatsApp
    may know an old number without it while the seller typed it with it."""
    with_9 = _BR_MOBILE_WITH_9.fullmatch(digits)
    if with_9:
        return [digits, f"55{with_9[1]}{with_9[2]}"]
    without_9 = _BR_MOBILE_WITHOUT_9.fullmatch(digits)
    if without_9:
        return [digits, f"55{without_9[1]}9{without_9[2]}"]
    return [digits]


def _addresses(data: Mapping[str, Any]) -> tuple[set[str], set[str]]:
    """Phones (E.164) and JIDs/LIDs a ``message`` event's sender may be stored under."""
    phones: set[str] = set()
    jids: set[str] = set()
    for key in ("from", "from_lid"):
        value = data.get(key)
        if isinstance(value, str) and _PERSON_JID.fullmatch(value.strip()):
            jids.add(value.strip())
    digits = data.get("from_phone")
    if not (isinstance(digits, str) and _DIGITS.fullmatch(digits)):
        sender = data.get("from")
        user = sender.split("@")[0] if isinstance(sender, str) else ""
        digits = user if sender and sender.endswith("@s.whatsapp.net") else None
    if digits and _DIGITS.fullmatch(digits):
        for form in _phone_forms(digits):
            phones.add(f"+{form}")
            jids.add(f"{form}@s.whatsapp.net")
    return phones, jids


def _shown_phone(phone: str | None) -> str:
    if not phone:
        return ""
    e164 = phone if phone.startswith("+") else f"+{phone}"
    try:
        return format_phone(e164)
    except InvalidPhoneError:
        return e164


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class WhatsAppEvents:
    """The use case: ``await events.apply(event)`` for each event the sidecar delivers.

    Raises SellerUnreachableError when a notice could not reach Telegram (the web runner
    answers 503 so the sidecar retries); anything else comes back as an ``EventResult``.
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        notifier: SellerNotifier,
        lookups: EventLookupsFactory,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._notifier = notifier
        self._lookups = lookups

    async def apply(self, event: SidecarEvent) -> EventResult:
        account_id = account_id_of_session(event.session_id)
        if account_id is None:
            return EventResult(Outcome.IGNORED, f"session {event.session_id!r} is not a seller's")
        handlers = {
            "ack": self._ack,
            "message": self._message,
            "state": self._state,
            "qr": self._qr,
        }
        handler = handlers.get(event.type)
        if handler is None:
            return EventResult(Outcome.IGNORED, f"event type {event.type!r} is not handled")
        return await handler(account_id, event)

    # -- acks ---------------------------------------------------------------------------

    async def _ack(self, account_id: int, event: SidecarEvent) -> EventResult:
        message_id = event.data.get("message_id")
        status = event.data.get("status")
        if not isinstance(message_id, str) or not message_id:
            raise MalformedEventError("an ack needs data.message_id")
        if status != "error" and status not in _ACK_TARGET:
            return EventResult(Outcome.IGNORED, f"ack status {status!r} is not handled")
        async with self._uow_factory() as uow:
            message = await self._lookups(uow).message_for_ack(account_id, message_id)
            if message is None or message.id is None:
                return EventResult(Outcome.IGNORED, f"no outbox message is {message_id}")
            current = _PROGRESS.get(message.status)
            if status == "error":
                if message.status is not OutboxStatus.SENT:
                    return EventResult(
                        Outcome.UNCHANGED, f"message {message.id} is {message.status}"
                    )
                await uow.outbox.set_status(
                    account_id, message.id, OutboxStatus.FAILED, error=ACK_ERROR_REASON
                )
                await uow.commit()
                return EventResult(Outcome.APPLIED, f"message {message.id} failed (error ack)")
            target = _ACK_TARGET[status]
            if current is None or current >= _PROGRESS[target]:
                return EventResult(
                    Outcome.UNCHANGED, f"message {message.id} is already {message.status}"
                )
            await uow.outbox.set_status(account_id, message.id, target, at=self._when(event))
            await uow.commit()
        return EventResult(Outcome.APPLIED, f"message {message.id} {message.status} → {target}")

    def _older_than(self, event: SidecarEvent, age: timedelta) -> bool:
        return event.ts is not None and self._clock.now() - event.ts > age

    def _when(self, event: SidecarEvent) -> datetime:
        """When the ack happened: the event's time, never later than now."""
        now = self._clock.now()
        return now if event.ts is None or event.ts > now else event.ts

    # -- incoming messages: opt-outs -----------------------------------------------------

    async def _message(self, account_id: int, event: SidecarEvent) -> EventResult:
        text = event.data.get("text")
        if not is_opt_out(text):
            return EventResult(Outcome.IGNORED, "an incoming message that is not an opt-out")
        phones, jids = _addresses(event.data)
        if not phones and not jids:
            raise MalformedEventError("an incoming message needs data.from or data.from_phone")
        word = str(text).strip(_TRIM)[:_MAX_EVENT_TEXT] or str(text)
        async with self._uow_factory() as uow:
            account = await self._account(uow, account_id)
            if account is None:
                return EventResult(Outcome.IGNORED, f"no account {account_id}")
            clients = await self._lookups(uow).clients_at(account_id, phones=phones, jids=jids)
            if not clients:
                return EventResult(Outcome.IGNORED, "the sender is none of the seller's clients")
            changed = [c for c in clients if not c.opted_out]
            for client in changed:
                await self._opt_out(uow, client, word)
            await uow.commit()
            untold = list(changed)
            for client in clients:
                if client not in changed and await self._opt_out_untold(uow, client):
                    untold.append(client)
        for client in untold:
            await self._notifier.notify(
                account.telegram_id,
                SellerNotice(
                    "events.client_opted_out",
                    {"name": client.name, "phone": _shown_phone(client.phone), "word": word},
                    buttons=(NoticeAction.CLIENT,),
                    client_id=client.id,
                ),
            )
            async with self._uow_factory() as uow:
                await audit(
                    uow, self._clock, account_id, OPT_OUT_TOLD, "client", client.id, actor="system"
                )
                await uow.commit()
        if changed:
            names = ", ".join(str(c.id) for c in changed)
            return EventResult(Outcome.APPLIED, f"client(s) {names} opted out")
        if untold:
            return EventResult(Outcome.APPLIED, "the seller was told of an earlier opt-out")
        return EventResult(Outcome.UNCHANGED, "already opted out")

    async def _opt_out(self, uow: UnitOfWork, client: Client, word: str) -> None:
        assert client.id is not None
        await uow.clients.update(evolve(client, opted_out=True, updated_at=self._clock.now()))
        cancelled = await uow.outbox.cancel_queued_for_client(client.account_id, client.id)
        await audit(
            uow,
            self._clock,
            client.account_id,
            OPTED_OUT,
            "client",
            client.id,
            actor="client",
            word=word,
            cancelled=cancelled,
        )

    async def _opt_out_untold(self, uow: UnitOfWork, client: Client) -> bool:
        """Opted out by an earlier event whose notice did not reach the seller."""
        last = await uow.audit.latest(
            client.account_id,
            entity="client",
            entity_id=str(client.id),
            actions=(OPTED_OUT, OPT_OUT_TOLD),
        )
        return last is not None and last.action == OPTED_OUT

    # -- session state and QR codes -------------------------------------------------------

    async def _state(self, account_id: int, event: SidecarEvent) -> EventResult:
        if self._older_than(event, STATE_MAX_AGE):
            return EventResult(Outcome.UNCHANGED, "a state too old to be news")
        state = event.data.get("state")
        reason = event.data.get("reason")
        reason = reason if isinstance(reason, str) else None
        account, last = await self._journal(account_id)
        if account is None:
            return EventResult(Outcome.IGNORED, f"no account {account_id}")
        last_action = None if last is None else last.action
        if state == "open":
            # The queue of a session that was not open resumes now, not at the next recheck.
            phone = event.data.get("phone")
            phone = phone if isinstance(phone, str) and phone else None
            await resume_session(self._uow_factory, self._clock, account_id, phone)
            if last_action not in (DROPPED, QR_SENT):
                return EventResult(Outcome.UNCHANGED, "open, and no drop was reported")
            notice = SellerNotice(
                "events.wa_reconnected",
                {"phone": _shown_phone(phone)},
                buttons=(NoticeAction.WHATSAPP,),
            )
            return await self._tell(account, RECONNECTED, notice, state="open")
        if state == "logged_out":
            if last_action == DISCONNECTED:
                return EventResult(Outcome.UNCHANGED, "the seller unlinked it in the bot")
            notice = SellerNotice(
                "events.wa_logged_out",
                buttons=(
                    NoticeAction.CONNECT_WHATSAPP,
                    NoticeAction.SEND_BY_HAND,
                    NoticeAction.WHATSAPP,
                ),
            )
        elif state == "closed":
            if reason == "qr_timeout" and last_action == QR_SENT:
                notice = SellerNotice(
                    "events.wa_qr_expired", buttons=(NoticeAction.CONNECT_WHATSAPP,)
                )
            elif reason in _NOT_A_DROP or not event.data.get("phone"):
                # Not linked to a phone: the seller is in the bot's connect screen, if anywhere.
                return EventResult(Outcome.UNCHANGED, f"closed ({reason}): nothing to report")
            else:
                notice = SellerNotice(
                    _CLOSED_KEYS.get(reason or "", "events.wa_closed.other"),
                    {"reason": reason or "?"},
                    buttons=(
                        NoticeAction.CONNECT_WHATSAPP,
                        NoticeAction.SEND_BY_HAND,
                        NoticeAction.WHATSAPP,
                    ),
                )
        else:
            return EventResult(Outcome.UNCHANGED, f"state {state!r}: nothing to report")
        if (
            last is not None
            and last.action == DROPPED
            and last.data.get("state") == state
            and (last.data.get("reason") == (reason or ""))
        ):
            return EventResult(Outcome.UNCHANGED, "this drop was already reported")
        return await self._tell(account, DROPPED, notice, state=str(state), reason=reason or "")

    async def _qr(self, account_id: int, event: SidecarEvent) -> EventResult:
        qr = event.data.get("qr")
        if not isinstance(qr, str) or not qr:
            raise MalformedEventError("a qr event needs data.qr")
        if self._older_than(event, QR_MAX_AGE):
            return EventResult(Outcome.UNCHANGED, "a QR code too old to scan")
        account, last = await self._journal(account_id)
        if account is None:
            return EventResult(Outcome.IGNORED, f"no account {account_id}")
        if last is None or last.action != DROPPED:
            return EventResult(Outcome.UNCHANGED, "a QR code not following a drop")
        notice = SellerNotice("events.wa_qr", qr=qr, buttons=(NoticeAction.CONNECT_WHATSAPP,))
        return await self._tell(account, QR_SENT, notice, qr=_digest(qr))

    async def _journal(self, account_id: int) -> tuple[Account | None, AuditEvent | None]:
        async with self._uow_factory() as uow:
            account = await self._account(uow, account_id)
            if account is None:
                return None, None
            last = await uow.audit.latest(account_id, entity=SESSION_ENTITY, actions=JOURNAL)
        return account, last

    async def _tell(
        self, account: Account, action: str, notice: SellerNotice, **data: object
    ) -> EventResult:
        """Send the notice, then journal it (so a notice that failed is retried)."""
        assert account.id is not None
        await self._notifier.notify(account.telegram_id, notice)
        async with self._uow_factory() as uow:
            await audit(
                uow,
                self._clock,
                account.id,
                action,
                SESSION_ENTITY,
                f"acc-{account.id}",
                actor="system",
                **data,
            )
            await uow.commit()
        return EventResult(Outcome.APPLIED, f"{action}: told the seller ({notice.key})")

    @staticmethod
    async def _account(uow: UnitOfWork, account_id: int) -> Account | None:
        try:
            return await uow.accounts.get(account_id)
        except AccountNotFoundError:
            return None

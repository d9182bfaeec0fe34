"""The outbox dispatcher: hand queued WhatsApp messages to the sidecar, at a safe pace.

One ``Dispatcher.dispatch_once`` call claims a small batch of due messages (a lease with a
random owner token, so any number of workers can run and a dead worker's rows come back
when its lease ends), then works through them one WhatsApp session at a time. The send
carries the message's idempotency key (``idempotency_key_for``), so a message resent
after a crash is not sent twice by the sidecar.

Rules, in the order they are checked for each claimed message:

1. **Expired account** (``AccountStatus.EXPIRED``; the grace days still send): the message is
   *cancelled* with a reason, not kept waiting. A reminder held until the seller renews
   would go out days late with a wrong "vence hoje"; the seller sees the reason in the
   client's history and can use "Cobrar agora" after renewing.
2. **Client paused, archived or opted out** (SAIR): cancelled with the reason naming them.
3. **Send window** (``Account.in_send_window``): outside it the message goes back to the
   queue due at the next window start (``next_window_start``); no attempt is spent.
4. **Pacing per session** (``SessionPacing``, stored in the database so it holds across
   replicas): a jittered interval between two sends of one number (8–20 s by default),
   a daily cap counted on the seller's local day, and a lower cap in the first days after
   the number is first seen (warm-up ramp). A message that must wait goes back to the
   queue at the allowed time, no attempt spent; a reached cap waits for the next day's
   window.
5. **Send**: first the contact sees "digitando…" (the ``composing`` presence) for as long as
   the text takes to type (``DispatchSettings.typing_time``), then the message goes to the
   JID WhatsApp gave for the client's number when it was saved (``Client.wa_jid``), or to
   the phone, which the sidecar looks up. By outcome:

   - accepted → ``sent`` with WhatsApp's message id and ``sent_at``;
   - ``NotOnWhatsAppError`` → ``failed`` at once ("O número … não tem WhatsApp.");
   - session ``logged_out`` (the phone unlinked this device) → ``failed`` at once, telling
     the seller to connect again; any other state, or no session known to the sidecar
     (it may be restarting) → the session's queue *pauses*: its messages wait, with no
     attempt spent, and are tried again every ``session_recheck`` (or at once after
     ``resume_session``) — nothing is lost;
   - ``WhatsAppUnavailableError`` (sidecar down, breaker open) → back to the queue after
     ``unavailable_delay``, no attempt spent;
   - ``WhatsAppRequestError`` (a malformed request: a bug) → ``failed``;
   - anything else (``WhatsAppSendError``, timeouts, surprises) → retried with exponential
     backoff and jitter, ``failed`` after ``max_attempts`` with a readable reason.

A claim counts one attempt; the cases above that spend none give it back. The presence is
part of the send: it fails the same ways, except that WhatsApp refusing a presence
(``WhatsAppSendError``) does not hold the message back.
"""

from __future__ import annotations

import asyncio
import random
import secrets
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from attrs import define, evolve, field, frozen

from clientmgr.core.accounts import Account, AccountStatus
from clientmgr.core.clients import Client, ensure_reachable
from clientmgr.core.i18n import _
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.errors import (
    ClientUnreachableError,
    NotOnWhatsAppError,
    WhatsAppError,
    WhatsAppRequestError,
    WhatsAppSendError,
    WhatsAppSessionNotOpenError,
    WhatsAppUnavailableError,
)
from clientmgr.ports.clock import Clock
from clientmgr.ports.pacing import PauseReason, SessionPacing
from clientmgr.ports.repositories import UnitOfWork, UnitOfWorkFactory
from clientmgr.ports.whatsapp import MAX_IDEMPOTENCY_KEY, Presence, WhatsAppGateway
from clientmgr.services.whatsapp import session_id_for

__all__ = [
    "NOTE_DAILY_CAP",
    "NOTE_SESSION_PAUSED",
    "NOTE_UNAVAILABLE",
    "REASON_BAD_REQUEST",
    "REASON_EXPIRED",
    "REASON_LOGGED_OUT",
    "DispatchReport",
    "DispatchSettings",
    "Dispatcher",
    "idempotency_key_for",
    "next_window_start",
    "recipient_of",
    "resume_session",
    "take_slot",
    "take_slots",
]

REASON_EXPIRED = _(
    "Não enviada: sua assinatura venceu. Renove em Assinatura e use Cobrar agora para enviar."
)
REASON_LOGGED_OUT = _(
    "Não enviada: seu WhatsApp foi desconectado no celular. "
    "Conecte de novo em WhatsApp → Conectar e use Cobrar agora."
)
REASON_BAD_REQUEST = _("Não enviada: o WhatsApp recusou a mensagem (texto ou número inválido).")
NOTE_SESSION_PAUSED = _("Aguardando seu WhatsApp conectar para enviar.")
NOTE_DAILY_CAP = _("Limite de envios do dia atingido: sai no próximo horário de envio.")
NOTE_UNAVAILABLE = _("O WhatsApp está fora do ar agora; a mensagem sai assim que ele voltar.")


def _positive(instance: object, attribute: object, value: int) -> None:
    if value < 1:
        raise ValueError(f"{getattr(attribute, 'name', 'value')} must be at least 1")


@frozen
class DispatchSettings:
    """How the dispatcher paces and retries; the defaults are for production.

    ``min_gap``..``max_gap``: interval between two sends of one session, chosen at random.
    ``daily_cap``: sends per session per local day; ``warmup_caps[d]`` caps day ``d`` after
    the number was first seen (day 0 is that day), never above ``daily_cap``.
    ``per_session``: messages of one session taken per claim (with an 8–20 s interval one is
    all a session can send; tests with no interval take more).
    ``lease``: how long a claim is held; it must outlast working through one batch (a few
    sends in turn per session, each up to the sidecar adapter's read timeout). A lease that
    runs out early costs a resend that the idempotency key turns into a no-op.
    ``typing_min``..``typing_max``: how long "digitando…" shows before a send, sized to the
    text at ``typing_chars_per_second`` (both 0: the presence is shown without a wait).
    """

    batch_size: int = field(default=10, validator=_positive)
    per_session: int = field(default=1, validator=_positive)
    lease: timedelta = timedelta(minutes=5)
    min_gap: timedelta = timedelta(seconds=8)
    max_gap: timedelta = timedelta(seconds=20)
    daily_cap: int = field(default=200, validator=_positive)
    warmup_caps: tuple[int, ...] = (30, 60, 120)
    max_attempts: int = field(default=5, validator=_positive)
    retry_base: timedelta = timedelta(minutes=1)
    retry_max: timedelta = timedelta(hours=1)
    unavailable_delay: timedelta = timedelta(seconds=30)
    session_recheck: timedelta = timedelta(minutes=2)
    concurrency: int = field(default=4, validator=_positive)
    typing_min: timedelta = timedelta(seconds=1)
    typing_max: timedelta = timedelta(seconds=6)
    typing_chars_per_second: int = field(default=40, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if not timedelta(0) <= self.min_gap <= self.max_gap:
            raise ValueError("the send interval needs 0 <= min_gap <= max_gap")
        if not timedelta(0) <= self.typing_min <= self.typing_max:
            raise ValueError("the typing time needs 0 <= typing_min <= typing_max")
        if self.lease <= timedelta(0):
            raise ValueError("the lease must be positive")
        if any(cap < 1 for cap in self.warmup_caps):
            raise ValueError("warm-up caps must be at least 1")
        if self.retry_base <= timedelta(0) or self.retry_max < self.retry_base:
            raise ValueError("retries need 0 < retry_base <= retry_max")

    def cap_for(self, day_number: int) -> int:
        """The cap on day ``day_number`` since the number was first seen (0 = that day)."""
        if 0 <= day_number < len(self.warmup_caps):
            return min(self.warmup_caps[day_number], self.daily_cap)
        return self.daily_cap

    def typing_time(self, text: str) -> timedelta:
        """How long a person takes to type ``text``, within [typing_min, typing_max]."""
        typed = timedelta(seconds=len(text) / self.typing_chars_per_second)
        return min(self.typing_max, max(self.typing_min, typed))

    def gap(self, rng: random.Random) -> timedelta:
        """A random interval in [min_gap, max_gap]."""
        spread = (self.max_gap - self.min_gap).total_seconds()
        return self.min_gap + timedelta(seconds=rng.uniform(0, spread))

    def retry_delay(self, attempts: int, rng: random.Random) -> timedelta:
        """Exponential backoff after ``attempts`` tries, with jitter: 50–100 % of
        ``retry_base * 2**(attempts-1)``, capped at ``retry_max``."""
        ceiling = min(self.retry_max, self.retry_base * 2 ** max(0, attempts - 1))
        return ceiling * rng.uniform(0.5, 1.0)


@frozen
class DispatchReport:
    """What one ``dispatch_once`` did. ``deferred`` went back to the queue without spending
    an attempt (window, pacing, paused session, sidecar down); ``unavailable`` says the
    sidecar could not be reached, so the caller should wait before claiming again;
    ``errors`` are unexpected exceptions (their messages were retried), for the log."""

    claimed: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    unavailable: bool = False
    errors: tuple[BaseException, ...] = ()


@define
class _Tally:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    cancelled: int = 0
    deferred: int = 0
    unavailable: bool = False
    errors: list[BaseException] = field(factory=list)

    def report(self, claimed: int) -> DispatchReport:
        return DispatchReport(
            claimed=claimed,
            sent=self.sent,
            retried=self.retried,
            failed=self.failed,
            cancelled=self.cancelled,
            deferred=self.deferred,
            unavailable=self.unavailable,
            errors=tuple(self.errors),
        )


def idempotency_key_for(message: OutboxMessage) -> str:
    """The key the sidecar dedupes sends by: the dedupe key (unique, stable across resends
    and database restores), or ``outbox:<id>`` when it is too long for the sidecar."""
    if 1 <= len(message.dedupe_key) <= MAX_IDEMPOTENCY_KEY:
        return message.dedupe_key
    return f"outbox:{message.id}"


def recipient_of(message: OutboxMessage, client: Client | None) -> str:
    """Where ``message`` goes: the JID WhatsApp gave for the client's number (an old
    Brazilian mobile may be known without its 9th digit, and it spares a lookup), as long
    as the message is for the client's current number; otherwise the phone itself."""
    if client is not None and client.wa_jid and client.phone == message.to:
        return client.wa_jid
    return message.to


def _local_start(account: Account, day: date) -> datetime:
    start = datetime.combine(day, account.reminder_policy.window_start, tzinfo=account.zone)
    return start.astimezone(UTC)


def next_window_start(account: Account, now: datetime) -> datetime:
    """When the account's send window opens next after ``now`` (today's start if it has not
    come yet, else tomorrow's), in UTC."""
    local = account.local_now(now)
    if local.time() < account.reminder_policy.window_start:
        return _local_start(account, local.date())
    return _local_start(account, local.date() + timedelta(days=1))


def take_slot(
    pacing: SessionPacing,
    account: Account,
    now: datetime,
    settings: DispatchSettings,
    rng: random.Random,
) -> tuple[SessionPacing, datetime | None]:
    """Ask the session's pacing for the right to send one message at ``now``.

    Returns the pacing to save and None (send now: the count and the next allowed time are
    already moved on), or the unchanged-in-spirit pacing and the time to wait for.
    """
    today = account.local_now(now).date()
    if pacing.day != today:
        pacing = evolve(pacing, day=today, sent_today=0)
    if pacing.next_send_at > now:
        return pacing, pacing.next_send_at
    day_number = (today - account.local_now(pacing.first_seen_at).date()).days
    if pacing.sent_today >= settings.cap_for(day_number):
        resume = _local_start(account, today + timedelta(days=1))
        paused = evolve(
            pacing, next_send_at=resume, pause_reason=PauseReason.DAILY_CAP, updated_at=now
        )
        return paused, resume
    granted = evolve(
        pacing,
        sent_today=pacing.sent_today + 1,
        next_send_at=now + settings.gap(rng),
        pause_reason=None,
        updated_at=now,
    )
    return granted, None


def take_slots(
    pacing: SessionPacing,
    account: Account,
    now: datetime,
    settings: DispatchSettings,
    rng: random.Random,
    wanted: int,
) -> tuple[SessionPacing, int, datetime | None]:
    """``take_slot`` for up to ``wanted`` messages in a row: the pacing to save, how many may
    go now, and when the others may (None when all may). With an interval between sends
    that is at most one; with none (tests, or pacing switched off) up to the day's cap, in
    one transaction instead of one per message."""
    granted = 0
    wait: datetime | None = None
    while granted < wanted:
        pacing, wait = take_slot(pacing, account, now, settings, rng)
        if wait is not None:
            break
        granted += 1
    return pacing, granted, wait


def _refunded(pacing: SessionPacing, account: Account, now: datetime, count: int) -> SessionPacing:
    """Give back the day's count of ``count`` sends that did not go out."""
    if pacing.day != account.local_now(now).date() or count < 1:
        return pacing
    return evolve(pacing, sent_today=max(0, pacing.sent_today - count), updated_at=now)


async def resume_session(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, phone: str | None = None
) -> SessionPacing:
    """The seller's WhatsApp is open again: lift a ``session_not_open`` pause now instead of
    at the next recheck. For the sidecar's ``state: open`` event; harmless to repeat.

    Also starts the warm-up ramp now when the dispatcher never sent for the session, or
    when ``phone`` (the linked number, E.164) is not the number linked before: a new number
    has no sending history with WhatsApp, whatever the session sent from the old one.
    """
    now = clock.now()
    async with uow_factory() as uow:
        pacing = await uow.outbox.lock_pacing(session_id_for(account_id), account_id, now)
        if pacing.pause_reason is PauseReason.SESSION_NOT_OPEN:
            pacing = evolve(pacing, next_send_at=now, pause_reason=None, updated_at=now)
        if phone:
            if pacing.phone is not None and pacing.phone != phone:
                pacing = evolve(pacing, first_seen_at=now, updated_at=now)
            pacing = evolve(pacing, phone=phone)
        await uow.outbox.save_pacing(pacing)
        await uow.commit()
    return pacing


class Dispatcher:
    """Claims due outbox messages and sends them through the WhatsApp gateway.

    ``dispatch_once`` is one tick; run it in a loop (``clientmgr.adapters.worker.outbox_loop``).
    Sessions in one batch are served concurrently (at most ``settings.concurrency``), the
    messages of one session one after another. ``rng`` makes the jitter reproducible;
    ``sleep`` waits out the typing time (tests pass one that records instead).
    """

    def __init__(
        self,
        uow_factory: UnitOfWorkFactory,
        clock: Clock,
        gateway: WhatsAppGateway,
        settings: DispatchSettings | None = None,
        *,
        rng: random.Random | None = None,
        name: str = "dispatcher",
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self._uow_factory = uow_factory
        self._clock = clock
        self._gateway = gateway
        self.settings = settings or DispatchSettings()
        self._rng = rng or random.Random()
        self.name = name
        self._sleep = sleep

    async def dispatch_once(self) -> DispatchReport:
        """Claim one batch and settle every message in it (sent, failed, cancelled or back
        in the queue). Returns what happened; ``claimed == 0`` means nothing was due."""
        s = self.settings
        owner = f"{self.name}:{secrets.token_hex(8)}"
        async with self._uow_factory() as uow:
            claimed = await uow.outbox.claim_due(
                self._clock.now(),
                owner=owner,
                lease=s.lease,
                limit=s.batch_size,
                per_account=s.per_session,
            )
            await uow.commit()
        tally = _Tally()
        if not claimed:
            return tally.report(0)
        by_account: dict[int, list[OutboxMessage]] = {}
        for message in claimed:
            by_account.setdefault(message.account_id, []).append(message)
        limit = asyncio.Semaphore(s.concurrency)

        async def serve(account_id: int, messages: list[OutboxMessage]) -> None:
            async with limit:
                await self._serve_session(account_id, messages, owner, tally)

        results = await asyncio.gather(
            *(serve(a, m) for a, m in by_account.items()), return_exceptions=True
        )
        tally.errors.extend(r for r in results if isinstance(r, BaseException))
        return tally.report(len(claimed))

    # -- one session ------------------------------------------------------------------

    async def _serve_session(
        self, account_id: int, messages: Sequence[OutboxMessage], owner: str, tally: _Tally
    ) -> None:
        async with self._uow_factory() as uow:
            account = await uow.accounts.get(account_id)
            clients: dict[int, Client] = {}
            for client_id in sorted({m.client_id for m in messages if m.client_id is not None}):
                clients[client_id] = await uow.clients.get(account_id, client_id)
        now = self._clock.now()
        sendable: list[OutboxMessage] = []
        refused: list[tuple[OutboxMessage, str]] = []
        for message in messages:
            reason = _refusal(account, clients.get(message.client_id or 0), now)
            if reason is None:
                sendable.append(message)
            else:
                refused.append((message, reason))
        if refused:
            async with self._uow_factory() as uow:
                for message, reason in refused:
                    await _release(uow, message, owner, OutboxStatus.CANCELLED, error=reason)
                await uow.commit()
            tally.cancelled += len(refused)
        if not sendable:
            return
        if not account.in_send_window(now):
            await self._requeue(sendable, owner, next_window_start(account, now))
            tally.deferred += len(sendable)
            return
        session_id = session_id_for(account_id)
        pacing, granted, wait = await self._take_slots(session_id, account, now, len(sendable))
        held = sendable[granted:]
        if held:
            assert wait is not None
            capped = pacing.pause_reason is PauseReason.DAILY_CAP
            await self._requeue(held, owner, wait, note=NOTE_DAILY_CAP if capped else None)
            tally.deferred += len(held)
        pending = deque(sendable[:granted])
        while pending:
            message = pending.popleft()
            to = recipient_of(message, clients.get(message.client_id or 0))
            if not await self._send(session_id, account, message, to, pending, owner, tally):
                return

    async def _send(
        self,
        session_id: str,
        account: Account,
        message: OutboxMessage,
        to: str,
        pending: deque[OutboxMessage],
        owner: str,
        tally: _Tally,
    ) -> bool:
        """Send one message to ``to`` and record the outcome; False when the rest must wait
        too (they hold a pacing slot each, given back with them)."""
        assert message.id is not None
        try:
            await self._show_typing(session_id, to, message.text)
            provider_id = await self._gateway.send_text(
                session_id, to, message.text, idempotency_key_for(message)
            )
        except NotOnWhatsAppError as exc:
            await self._end(message, owner, OutboxStatus.FAILED, str(exc), refund_to=account)
            tally.failed += 1
            return True
        except WhatsAppSessionNotOpenError as exc:
            if exc.state == "logged_out":
                await self._end(
                    message, owner, OutboxStatus.FAILED, REASON_LOGGED_OUT, refund_to=account
                )
                tally.failed += 1
                return True
            await self._pause(account, [message, *pending], owner)
            tally.deferred += 1 + len(pending)
            return False
        except WhatsAppUnavailableError:
            await self._requeue(
                [message, *pending],
                owner,
                self._clock.now() + self.settings.unavailable_delay,
                note=NOTE_UNAVAILABLE,
                refund_to=account,
            )
            tally.deferred += 1 + len(pending)
            tally.unavailable = True
            return False
        except WhatsAppRequestError:
            await self._end(
                message, owner, OutboxStatus.FAILED, REASON_BAD_REQUEST, refund_to=account
            )
            tally.failed += 1
            return True
        except Exception as exc:  # WhatsAppSendError, timeouts, bugs: retry, do not stall
            if not isinstance(exc, WhatsAppError):
                tally.errors.append(exc)
            await self._retry_or_fail(message, owner, tally)
            return True
        async with self._uow_factory() as uow:
            await uow.outbox.mark_sent(
                message.account_id,
                message.id,
                provider_message_id=provider_id,
                at=self._clock.now(),
            )
            await uow.commit()
        tally.sent += 1
        return True

    async def _show_typing(self, session_id: str, to: str, text: str) -> None:
        """ "digitando…" for as long as ``text`` takes to type. A presence WhatsApp refuses
        is only cosmetic, so the message goes anyway; other errors are the send's own."""
        try:
            await self._gateway.send_presence(session_id, to, Presence.COMPOSING)
        except WhatsAppSendError:
            return
        seconds = self.settings.typing_time(text).total_seconds()
        if seconds > 0:
            await self._sleep(seconds)

    async def _retry_or_fail(self, message: OutboxMessage, owner: str, tally: _Tally) -> None:
        s = self.settings
        if message.attempts >= s.max_attempts:
            reason = _(
                "Não enviada: o WhatsApp não aceitou a mensagem depois de {attempts} "
                "tentativas. Tente Cobrar agora mais tarde ou envie pelo link do WhatsApp."
            ).format(attempts=message.attempts)
            await self._end(message, owner, OutboxStatus.FAILED, reason)
            tally.failed += 1
            return
        note = _(
            "O WhatsApp não confirmou o envio (tentativa {attempt} de {max_attempts}); "
            "vamos tentar de novo."
        ).format(attempt=message.attempts, max_attempts=s.max_attempts)
        at = self._clock.now() + s.retry_delay(message.attempts, self._rng)
        async with self._uow_factory() as uow:
            await _release(uow, message, owner, OutboxStatus.QUEUED, at=at, error=note)
            await uow.commit()
        tally.retried += 1

    # -- storage steps ------------------------------------------------------------------

    async def _take_slots(
        self, session_id: str, account: Account, now: datetime, wanted: int
    ) -> tuple[SessionPacing, int, datetime | None]:
        assert account.id is not None
        async with self._uow_factory() as uow:
            pacing = await uow.outbox.lock_pacing(session_id, account.id, now)
            updated, granted, wait = take_slots(
                pacing, account, now, self.settings, self._rng, wanted
            )
            if updated != pacing:
                await uow.outbox.save_pacing(updated)
            await uow.commit()
        return updated, granted, wait

    async def _refund_slots(self, uow: UnitOfWork, account: Account, count: int) -> SessionPacing:
        """Give back ``count`` slots of sends that did not go out (in ``uow``, not committed)."""
        assert account.id is not None
        now = self._clock.now()
        pacing = await uow.outbox.lock_pacing(session_id_for(account.id), account.id, now)
        refunded = _refunded(pacing, account, now, count)
        if refunded != pacing:
            await uow.outbox.save_pacing(refunded)
        return refunded

    async def _pause(self, account: Account, messages: list[OutboxMessage], owner: str) -> None:
        """The session is not open: hold its whole queue until the recheck (or a resume)."""
        now = self._clock.now()
        until = now + self.settings.session_recheck
        async with self._uow_factory() as uow:
            pacing = await self._refund_slots(uow, account, len(messages))
            await uow.outbox.save_pacing(
                evolve(
                    pacing,
                    next_send_at=max(pacing.next_send_at, until),
                    pause_reason=PauseReason.SESSION_NOT_OPEN,
                    updated_at=now,
                )
            )
            for message in messages:
                await _release(
                    uow,
                    message,
                    owner,
                    OutboxStatus.QUEUED,
                    at=until,
                    error=NOTE_SESSION_PAUSED,
                    refund_attempt=True,
                )
            await uow.commit()

    async def _requeue(
        self,
        messages: list[OutboxMessage],
        owner: str,
        at: datetime,
        *,
        note: str | None = None,
        refund_to: Account | None = None,
    ) -> None:
        """Back to the queue due at ``at`` without spending an attempt; ``refund_to``: they
        held pacing slots of that account's session, given back too."""
        async with self._uow_factory() as uow:
            if refund_to is not None:
                await self._refund_slots(uow, refund_to, len(messages))
            for message in messages:
                await _release(
                    uow, message, owner, OutboxStatus.QUEUED, at=at, error=note, refund_attempt=True
                )
            await uow.commit()

    async def _end(
        self,
        message: OutboxMessage,
        owner: str,
        status: OutboxStatus,
        reason: str,
        *,
        refund_to: Account | None = None,
    ) -> None:
        """Failed or cancelled for good, with the reason the seller reads."""
        async with self._uow_factory() as uow:
            if refund_to is not None:
                await self._refund_slots(uow, refund_to, 1)
            await _release(uow, message, owner, status, error=reason)
            await uow.commit()


def _refusal(account: Account, client: Client | None, now: datetime) -> str | None:
    """Why this message must not go out at all, or None."""
    if account.status(now) is AccountStatus.EXPIRED:
        return REASON_EXPIRED
    if client is not None:
        try:
            ensure_reachable(client)
        except ClientUnreachableError as exc:
            return str(exc)
    return None


async def _release(
    uow: UnitOfWork,
    message: OutboxMessage,
    owner: str,
    status: OutboxStatus,
    *,
    at: datetime | None = None,
    error: str | None = None,
    refund_attempt: bool = False,
) -> bool:
    assert message.id is not None
    return await uow.outbox.release_claim(
        message.account_id,
        message.id,
        owner,
        status,
        next_attempt_at=at,
        error=error,
        refund_attempt=refund_attempt,
    )

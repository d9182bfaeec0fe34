"""Reminders the seller triggers by hand: preview one, queue it now, read a client's history.

Choices:

- The kind follows the seller's today against the due date: before it a ``before_due``
  reminder, on the day ``due_today``, after it ``overdue``, so "Cobrar agora" always says
  the right thing. Paused and archived clients get the same text in a preview.
- The preview also carries a ``wa.me`` link with the text filled in, so the seller can send
  from their own phone while the WhatsApp session is down (or simply prefers to).
- Queuing refuses expired accounts (AccountExpiredError) and clients who must not be
  messaged: opted out (they answered SAIR), archived or paused (ClientUnreachableError
  subclasses, which name the client). A preview is only reading and is never refused.
- A double tap must queue one message: the caller passes an idempotency key (e.g. the
  Telegram callback id) and the outbox's UNIQUE dedupe key ``now:<account>:<client>:<key>``
  holds the rest. A repeat returns the message already queued, even if the account or the
  client changed since: the first tap was accepted.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from urllib.parse import quote

from attrs import frozen

from clientmgr.core.accounts import Account
from clientmgr.core.clients import Client, ensure_reachable
from clientmgr.core.i18n import _
from clientmgr.core.outbox import OutboxMessage
from clientmgr.core.payments import Payment
from clientmgr.core.rendering import RenderContext, missing_values, render, text_for
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import (
    ConflictError,
)
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWork, UnitOfWorkFactory
from clientmgr.services.accounts import audit, require_writable
from clientmgr.services.templates import pix_code_for

__all__ = [
    "PAID",
    "HistoryEntry",
    "HistoryKind",
    "ReminderPreview",
    "client_history",
    "kind_for_due",
    "preview_reminder",
    "queue_reminder_now",
    "whatsapp_link",
]

PAID = "paid"
"""The ``status`` of a history entry that is a payment."""


def kind_for_due(due: date, today: date) -> TemplateKind:
    """Which message fits a client due on ``due`` when the seller's today is ``today``."""
    if today < due:
        return TemplateKind.BEFORE_DUE
    if today == due:
        return TemplateKind.DUE_TODAY
    return TemplateKind.OVERDUE


def whatsapp_link(phone: str, text: str) -> str:
    """``https://wa.me/<digits>?text=<text>``: opens the chat with the message typed in."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return f"https://wa.me/{digits}?text={quote(text, safe='')}"


@frozen
class ReminderPreview:
    """The reminder ``client`` would get now, as text and as a ready ``wa.me`` link.

    ``missing`` names the variables that came out empty (e.g. ``pix`` with no PIX key
    saved), so the bot can warn before the seller sends it.
    """

    client: Client
    kind: TemplateKind
    text: str
    whatsapp_link: str
    pix_code: str | None
    missing: tuple[str, ...] = ()


class HistoryKind(StrEnum):
    PAYMENT = "payment"
    MESSAGE = "message"


@frozen
class HistoryEntry:
    """One line of the client card's "Histórico".

    ``at`` is when it happened (a message: when it was sent, else when it was queued);
    ``status`` is ``"paid"`` for a payment and the message's OutboxStatus value otherwise.
    """

    at: datetime
    kind: HistoryKind
    status: str
    payment: Payment | None = None
    message: OutboxMessage | None = None


async def _compose(
    uow: UnitOfWork, now: datetime, account: Account, client: Client
) -> ReminderPreview:
    """The one place preview and queue build the text, so "Cobrar agora" sends what it showed."""
    today = account.local_now(now).date()
    kind = kind_for_due(client.due_date, today)
    template_text = text_for(kind, await uow.templates.get(client.account_id, kind))
    pix_code = pix_code_for(account, client.price)
    ctx = RenderContext.for_client(client, account, today, pix_code=pix_code)
    text = render(template_text, ctx)
    return ReminderPreview(
        client=client,
        kind=kind,
        text=text,
        whatsapp_link=whatsapp_link(client.phone, text),
        pix_code=pix_code,
        missing=tuple(missing_values(template_text, ctx)),
    )


async def preview_reminder(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, client_id: int
) -> ReminderPreview:
    """The message "Cobrar agora" would send. Raises ClientNotFoundError (other account too)."""
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id)
        client = await uow.clients.get(account_id, client_id)
        return await _compose(uow, clock.now(), account, client)


async def queue_reminder_now(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    account_id: int,
    client_id: int,
    idempotency_key: str,
) -> OutboxMessage:
    """Queue the reminder for sending as soon as the dispatcher may (its send window applies).

    Raises AccountExpiredError, ClientNotFoundError, or a ClientUnreachableError subclass
    (ClientOptedOutError, ClientArchivedError, ClientPausedError). The same
    ``idempotency_key`` returns the message the first call queued.
    """
    if not idempotency_key.strip():
        raise ValueError("idempotency_key must not be blank")
    key = f"now:{account_id}:{client_id}:{idempotency_key}"
    async with uow_factory() as uow:
        existing = await uow.outbox.get_by_dedupe_key(account_id, key)
        if existing is not None:
            return existing
        account = await require_writable(uow, clock, account_id)
        client = await uow.clients.get(account_id, client_id)
        ensure_reachable(client)
        now = clock.now()
        reminder = await _compose(uow, now, account, client)
        added = await uow.outbox.add(
            OutboxMessage(
                account_id=account_id,
                client_id=client_id,
                to=client.phone,
                text=reminder.text,
                kind=reminder.kind,
                dedupe_key=key,
                created_at=now,
                next_attempt_at=now,
            )
        )
        if added is None:  # a simultaneous tap with the same key committed first
            existing = await uow.outbox.get_by_dedupe_key(account_id, key)
            if existing is None:
                raise ConflictError(_("Esta mensagem já foi enviada para a fila."))
            return existing
        await audit(
            uow, clock, account_id, "reminder.queued", "client", client_id, kind=reminder.kind
        )
        await uow.commit()
        return added


async def client_history(
    uow_factory: UnitOfWorkFactory, account_id: int, client_id: int, *, limit: int | None = None
) -> list[HistoryEntry]:
    """The client's payments and messages merged, newest first (at most ``limit``).

    Raises ClientNotFoundError, also for another account's client.
    """
    async with uow_factory() as uow:
        await uow.clients.get(account_id, client_id)
        payments = await uow.payments.list_for_client(account_id, client_id)
        messages = await uow.outbox.list_for_client(account_id, client_id)
    entries = [
        HistoryEntry(at=p.paid_at, kind=HistoryKind.PAYMENT, status=PAID, payment=p)
        for p in payments
    ]
    entries += [
        HistoryEntry(
            at=m.sent_at or m.created_at,
            kind=HistoryKind.MESSAGE,
            status=m.status.value,
            message=m,
        )
        for m in messages
    ]
    entries.sort(key=_newest_first)
    return entries if limit is None else entries[:limit]


def _newest_first(entry: HistoryEntry) -> tuple[float, str, int]:
    record = entry.payment or entry.message
    record_id = record.id if record is not None and record.id is not None else 0
    return (-entry.at.timestamp(), entry.kind.value, -record_id)

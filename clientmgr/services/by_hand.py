"""Send waiting WhatsApp messages by hand while the seller's own WhatsApp is not connected.

While the session is down the dispatcher keeps messages ``queued``. The seller can send
them from the phone instead, through a ``wa.me`` link with the text typed in; tapping
"sent" then cancels the queued message with a note the seller reads in the client's
history, so it does not go out a second time when the session comes back.

The cancel is conditional (``OutboxRepository.cancel_if_queued``), decided on the latest
committed row: a message the dispatcher claimed meanwhile is left to it, and the seller is
told it already went out (``MessageNotQueuedError``) so they do not send it twice.
"""

from __future__ import annotations

from attrs import evolve, frozen

from clientmgr.core.i18n import _
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.phones import format_phone
from clientmgr.errors import InvalidPhoneError, MessageNotQueuedError
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWork, UnitOfWorkFactory
from clientmgr.services.accounts import audit
from clientmgr.services.reminders import whatsapp_link

__all__ = [
    "NOTE_SENT_BY_HAND",
    "PAGE_SIZE",
    "SENT_BY_HAND",
    "HandMessage",
    "WaitingMessages",
    "count_waiting",
    "mark_sent_by_hand",
    "waiting_messages",
]

PAGE_SIZE = 5
"""Messages on one screen: each has its own row of buttons."""
NOTE_SENT_BY_HAND = _("Enviada por você pelo link do WhatsApp.")
"""``last_error`` of a message the seller sent by hand (read in the client's history)."""
SENT_BY_HAND = "outbox.sent_by_hand"
"""Audit action of a message marked as sent by hand."""


@frozen
class HandMessage:
    """One queued message as the seller sends it by hand: who it is for (the client's name,
    or the phone when it has no client) and the ``wa.me`` link with its text typed in."""

    message: OutboxMessage
    name: str
    link: str

    @property
    def id(self) -> int:
        assert self.message.id is not None
        return self.message.id


@frozen
class WaitingMessages:
    """The first waiting messages, oldest due first, and how many wait in all."""

    messages: tuple[HandMessage, ...]
    total: int


async def _hand(uow: UnitOfWork, message: OutboxMessage) -> HandMessage:
    if message.client_id is not None:
        name = (await uow.clients.get(message.account_id, message.client_id)).name
    else:
        try:
            name = format_phone(message.to)
        except InvalidPhoneError:
            name = message.to
    return HandMessage(message, name, whatsapp_link(message.to, message.text))


async def waiting_messages(
    uow_factory: UnitOfWorkFactory, account_id: int, *, limit: int = PAGE_SIZE
) -> WaitingMessages:
    """The account's queued messages to send by hand (at most ``limit``) and their total."""
    async with uow_factory() as uow:
        queued = await uow.outbox.list_queued(account_id, limit=limit)
        total = await uow.outbox.count_queued(account_id)
        shown = tuple([await _hand(uow, m) for m in queued])
    return WaitingMessages(shown, max(total, len(shown)))


async def count_waiting(uow_factory: UnitOfWorkFactory, account_id: int) -> int:
    """How many of the account's messages wait in the queue."""
    async with uow_factory() as uow:
        return await uow.outbox.count_queued(account_id)


def _done_by_hand(message: OutboxMessage) -> bool:
    return message.status is OutboxStatus.CANCELLED and message.last_error == NOTE_SENT_BY_HAND


async def mark_sent_by_hand(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, message_id: int
) -> HandMessage:
    """The seller sent this message by hand: cancel it in the queue with a note, audited.

    A second tap on a message already marked is answered as done, without a second audit
    entry. Raises NotFoundError (an unknown id or another account's message) and
    MessageNotQueuedError when the message left the queue first (the dispatcher sent or
    is sending it, or it was cancelled or failed). Looked at twice: a message the
    dispatcher took and gave back at once (the session is still down) is queued again.
    """
    for _attempt in range(2):
        async with uow_factory() as uow:
            message = await uow.outbox.get(account_id, message_id)
            hand = await _hand(uow, message)
            if _done_by_hand(message):
                return hand
            if message.status is not OutboxStatus.QUEUED:
                break
            if await uow.outbox.cancel_if_queued(account_id, message_id, error=NOTE_SENT_BY_HAND):
                await audit(
                    uow,
                    clock,
                    account_id,
                    SENT_BY_HAND,
                    "outbox",
                    message_id,
                    client_id=message.client_id,
                )
                await uow.commit()
                done = evolve(message, status=OutboxStatus.CANCELLED, last_error=NOTE_SENT_BY_HAND)
                return evolve(hand, message=done)
    left = message.status in (OutboxStatus.FAILED, OutboxStatus.CANCELLED)
    raise MessageNotQueuedError(hand.name, going_out=not left)

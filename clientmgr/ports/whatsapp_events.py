"""Look-ups the sidecar's events need that the repositories do not offer.

An event names things as WhatsApp knows them: a message by WhatsApp's id, a person by JID,
LID or bare phone digits. These finders answer in those terms, inside the caller's unit of
work (``lookups(uow)``), so what an event changes commits together with what it read.
Status changes still go through ``OutboxRepository.set_status``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Protocol

from clientmgr.core.clients import Client
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.ports.repositories import UnitOfWork

__all__ = ["EventLookups", "EventLookupsFactory"]


class EventLookups(Protocol):
    async def message_for_ack(
        self, account_id: int, provider_message_id: str
    ) -> OutboxMessage | None:
        """The account's outbox message WhatsApp calls ``provider_message_id``, or None.

        Held against other writers until the unit of work ends (PostgreSQL ``FOR UPDATE``),
        so two acks of one message applied at once cannot move its status backwards.
        """

    async def clients_at(
        self, account_id: int, *, phones: Collection[str], jids: Collection[str]
    ) -> Sequence[Client]:
        """The account's clients whose phone (E.164) is in ``phones`` or whose WhatsApp JID
        or LID is in ``jids``, by id; archived ones included."""

    async def outbox_depth(self) -> dict[OutboxStatus, int]:
        """How many outbox messages are in each status, across every account (every status
        is a key): the queue depth the web runner's metrics show."""


EventLookupsFactory = Callable[[UnitOfWork], EventLookups]
"""Gives the look-ups bound to an open unit of work of the same storage."""

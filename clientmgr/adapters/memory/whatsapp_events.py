"""The sidecar events' look-ups in memory, reading the unit of work's own transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from clientmgr.adapters.memory.store import Transaction
from clientmgr.adapters.memory.unit_of_work import InMemoryUnitOfWork
from clientmgr.core.clients import Client
from clientmgr.core.outbox import OutboxMessage, OutboxStatus

__all__ = ["InMemoryEventLookups", "memory_event_lookups"]


class InMemoryEventLookups:
    """Implements ``EventLookups`` (no row locks: one event loop, as the memory store is)."""

    def __init__(self, uow: InMemoryUnitOfWork) -> None:
        self._uow = uow

    def _tx(self) -> Transaction:
        # The unit of work's transaction, as its own repositories reach it (same package).
        return self._uow._current()

    async def message_for_ack(
        self, account_id: int, provider_message_id: str
    ) -> OutboxMessage | None:
        found = [
            m
            for m in self._tx().read("outbox")
            if m.account_id == account_id and m.provider_message_id == provider_message_id
        ]
        return min(found, key=lambda m: m.id) if found else None

    async def clients_at(
        self, account_id: int, *, phones: Collection[str], jids: Collection[str]
    ) -> Sequence[Client]:
        wanted_jids = set(jids)
        wanted_phones = set(phones)
        return sorted(
            (
                c
                for c in self._tx().read("clients")
                if c.account_id == account_id
                and (
                    c.phone in wanted_phones
                    or (c.wa_jid is not None and c.wa_jid in wanted_jids)
                    or (c.wa_lid is not None and c.wa_lid in wanted_jids)
                )
            ),
            key=lambda c: c.id,
        )

    async def outbox_depth(self) -> dict[OutboxStatus, int]:
        counts = dict.fromkeys(OutboxStatus, 0)
        for message in self._tx().read("outbox"):
            counts[message.status] += 1
        return counts


def memory_event_lookups(uow: InMemoryUnitOfWork) -> InMemoryEventLookups:
    """An ``EventLookupsFactory`` for the in-memory unit of work (it must be open)."""
    return InMemoryEventLookups(uow)

"""Planning and reporting reminders on an ``InMemoryStore``: the SQL adapter's promises in Python.

Each call reads the latest committed tables in a transaction of its own; ``enqueue``
checks every reminder against the clients and the dedupe keys and commits, all without
awaiting anything in between, so nothing can interleave (as one SQL statement would).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, date, datetime

from attrs import evolve

from clientmgr.adapters.memory.store import InMemoryStore
from clientmgr.core.clients import Client
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.ports.planning import DeliveryStats, PlannedReminder, ReasonCount, ReportedMessage

__all__ = ["InMemoryReminderPlanner"]

_DELIVERED = (OutboxStatus.DELIVERED, OutboxStatus.READ)
_WAITING = (OutboxStatus.QUEUED, OutboxStatus.SENDING)


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"naive datetime {value!r}: clientmgr stores aware datetimes only")
    return value.astimezone(UTC)


def _in(value: datetime | None, start: datetime, end: datetime) -> bool:
    return value is not None and start <= value < end


class InMemoryReminderPlanner:
    """Implements ``ReminderPlanner`` and ``ReminderReports`` on the store's tables."""

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store

    async def candidates(self, account_id: int, due_dates: Collection[date]) -> Sequence[Client]:
        wanted = set(due_dates)
        clients = self._store.begin().read("clients")
        return sorted(
            (
                client
                for client in clients
                if client.account_id == account_id
                and client.due_date in wanted
                and client.receives_reminders
            ),
            key=lambda client: (client.due_date, client.id),
        )

    async def existing_keys(self, account_id: int, dedupe_keys: Collection[str]) -> set[str]:
        outbox = self._store.begin().read("outbox")
        found = set()
        for key in dedupe_keys:
            holder = outbox.holder("dedupe_key", key)
            message = None if holder is None else outbox.get(holder)
            if message is not None and message.account_id == account_id:
                found.add(key)
        return found

    async def enqueue(self, account_id: int, reminders: Sequence[PlannedReminder]) -> int:
        tx = self._store.begin()
        clients = tx.read("clients")
        table = tx.write("outbox")
        inserted = 0
        for reminder in sorted(reminders, key=lambda r: r.message.dedupe_key):
            message = reminder.message
            client = None if message.client_id is None else clients.get(message.client_id)
            if (
                message.account_id != account_id
                or client is None
                or client.account_id != account_id
                or client.due_date != reminder.due_date
                or not client.receives_reminders
                or table.holder("dedupe_key", message.dedupe_key) is not None
            ):
                continue
            stored = evolve(
                message,
                id=self._store.next_id("outbox"),
                created_at=_utc(message.created_at),
                next_attempt_at=_utc(message.next_attempt_at),
            )
            table.put(stored.id, stored)
            inserted += 1
        self._store.commit(tx)
        return inserted

    async def delivery_stats(
        self,
        account_id: int,
        start: datetime,
        end: datetime,
        *,
        undelivered_start: datetime,
        undelivered_end: datetime,
        limit: int = 10,
    ) -> DeliveryStats:
        start, end = _utc(start), _utc(end)
        undelivered_start, undelivered_end = _utc(undelivered_start), _utc(undelivered_end)
        tx = self._store.begin()
        clients = tx.read("clients")
        messages = [m for m in tx.read("outbox") if m.account_id == account_id]
        sent = [m for m in messages if _in(m.sent_at, start, end)]
        failed = sorted(
            (
                m
                for m in messages
                if m.status is OutboxStatus.FAILED and _in(m.next_attempt_at, start, end)
            ),
            key=lambda m: (m.next_attempt_at, m.id),
        )
        late = sorted(
            (
                m
                for m in messages
                if m.status is OutboxStatus.SENT
                and _in(m.sent_at, undelivered_start, undelivered_end)
            ),
            key=lambda m: (m.sent_at, m.id),
        )
        reasons = Counter(m.last_error for m in failed)

        def name_of(message: OutboxMessage) -> str | None:
            client = None if message.client_id is None else clients.get(message.client_id)
            return None if client is None or client.account_id != account_id else client.name

        def reported(
            chosen: Iterable[OutboxMessage], at: Callable[[OutboxMessage], datetime]
        ) -> tuple[ReportedMessage, ...]:
            return tuple(
                ReportedMessage(
                    client_id=m.client_id,
                    client_name=name_of(m),
                    kind=m.kind,
                    status=m.status,
                    at=at(m),
                    reason=m.last_error,
                )
                for m in chosen
            )

        return DeliveryStats(
            sent=len(sent),
            delivered=sum(1 for m in sent if m.status in _DELIVERED),
            read=sum(1 for m in sent if m.status is OutboxStatus.READ),
            failed=len(failed),
            reasons=tuple(
                ReasonCount(reason, n)
                for reason, n in sorted(reasons.items(), key=lambda item: (-item[1], item[0] or ""))
            ),
            failures=reported(failed[:limit], lambda m: m.next_attempt_at),
            undelivered_count=len(late),
            undelivered=reported(late[:limit], lambda m: m.sent_at or m.created_at),
            pending=sum(1 for m in messages if m.status in _WAITING),
        )

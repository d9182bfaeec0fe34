"""Planning and reporting reminders in SQL: a few set-based statements per account.

``enqueue`` is one ``WITH v(…) AS (VALUES …) INSERT INTO outbox … SELECT … FROM v JOIN
clients … ON CONFLICT (dedupe_key) DO NOTHING RETURNING id`` per batch: the rendered texts
travel as a VALUES list (rendering needs Python: PIX CRCs, pt-BR formatting), and the join
with ``clients`` re-checks, at write time, that each client is still due on the date its
text was rendered for and may still get reminders. On PostgreSQL the SELECT takes
``FOR SHARE OF clients``, so a payment running at the same time is ordered against the
insert (see ``ReminderPlanner.enqueue``); SQLite runs one writer at a time anyway (the
engine's ``BEGIN IMMEDIATE``). Rows go in dedupe-key order, so two planners inserting the
same keys wait for each other instead of deadlocking.

The delivery report counts with one aggregate query and reads at most ``limit`` named rows
for failures and undelivered messages.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Integer,
    String,
    Text,
    and_,
    case,
    column,
    func,
    select,
    values,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clientmgr.adapters.sql.mapping import client_from_row
from clientmgr.adapters.sql.repositories._common import dialect_name, insert_for
from clientmgr.adapters.sql.tables import clients_table as c
from clientmgr.adapters.sql.tables import outbox_table as t
from clientmgr.adapters.sql.types import UtcDateTime, as_utc
from clientmgr.core.clients import Client
from clientmgr.core.outbox import OutboxStatus
from clientmgr.core.templates import TemplateKind
from clientmgr.ports.planning import (
    DeliveryStats,
    PlannedReminder,
    ReasonCount,
    ReportedMessage,
)

__all__ = ["SqlReminderPlanner"]

_DELIVERED = (OutboxStatus.DELIVERED.value, OutboxStatus.READ.value)
_WAITING = (OutboxStatus.QUEUED.value, OutboxStatus.SENDING.value)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


class SqlReminderPlanner:
    """Implements ``ReminderPlanner`` and ``ReminderReports`` on a session factory (each call
    is its own transaction)."""

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = session_factory

    async def candidates(self, account_id: int, due_dates: Collection[date]) -> Sequence[Client]:
        if not due_dates:
            return []
        query = (
            select(c)
            .where(
                c.c.account_id == account_id,
                c.c.due_date.in_(sorted(due_dates)),
                c.c.paused.is_(False),
                c.c.archived.is_(False),
                c.c.opted_out.is_(False),
            )
            .order_by(c.c.due_date, c.c.id)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).mappings().all()
        return [client_from_row(row) for row in rows]

    async def existing_keys(self, account_id: int, dedupe_keys: Collection[str]) -> set[str]:
        if not dedupe_keys:
            return set()
        query = select(t.c.dedupe_key).where(
            t.c.account_id == account_id, t.c.dedupe_key.in_(sorted(dedupe_keys))
        )
        async with self._sessions() as session:
            return set((await session.execute(query)).scalars())

    async def enqueue(self, account_id: int, reminders: Sequence[PlannedReminder]) -> int:
        rows = [
            (
                r.message.client_id,
                r.due_date,
                r.message.to,
                r.message.text,
                r.message.kind.value,
                r.message.dedupe_key,
                r.message.status.value,
                as_utc(r.message.next_attempt_at),
                as_utc(r.message.created_at),
            )
            for r in sorted(reminders, key=lambda r: r.message.dedupe_key)
            if r.message.account_id == account_id and r.message.client_id is not None
        ]
        if not rows:
            return 0
        v = (
            values(
                column("client_id", Integer),
                column("due_date", Date),
                column("recipient", Text),
                column("text", Text),
                column("kind", String),
                column("dedupe_key", Text),
                column("status", String),
                column("next_attempt_at", UtcDateTime),
                column("created_at", UtcDateTime),
                name="v",
            )
            .data(rows)
            .cte("v")
        )
        async with self._sessions() as session:
            chosen = (
                select(
                    c.c.account_id,
                    v.c.client_id,
                    v.c.recipient,
                    v.c.text,
                    v.c.kind,
                    v.c.dedupe_key,
                    v.c.status,
                    v.c.next_attempt_at,
                    v.c.created_at,
                )
                .select_from(
                    v.join(
                        c,
                        and_(
                            c.c.account_id == account_id,
                            c.c.id == v.c.client_id,
                            c.c.due_date == v.c.due_date,
                        ),
                    )
                )
                # A WHERE clause also keeps SQLite from reading ON CONFLICT as a join's ON.
                .where(c.c.paused.is_(False), c.c.archived.is_(False), c.c.opted_out.is_(False))
                .order_by(v.c.dedupe_key)
            )
            if dialect_name(session) == "postgresql":
                chosen = chosen.with_for_update(read=True, of=c)
            statement = (
                insert_for(session, t)
                .from_select(
                    [
                        "account_id",
                        "client_id",
                        "recipient",
                        "text",
                        "kind",
                        "dedupe_key",
                        "status",
                        "next_attempt_at",
                        "created_at",
                    ],
                    chosen,
                )
                .on_conflict_do_nothing(index_elements=[t.c.dedupe_key])
                .returning(t.c.id)
            )
            inserted = len((await session.execute(statement)).all())
            await session.commit()
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
        start, end = as_utc(start), as_utc(end)
        undelivered_start, undelivered_end = as_utc(undelivered_start), as_utc(undelivered_end)
        sent_in_window = and_(t.c.sent_at >= start, t.c.sent_at < end)
        failed = and_(
            t.c.status == OutboxStatus.FAILED.value,
            t.c.next_attempt_at >= start,
            t.c.next_attempt_at < end,
        )
        undelivered = and_(
            t.c.status == OutboxStatus.SENT.value,
            t.c.sent_at >= undelivered_start,
            t.c.sent_at < undelivered_end,
        )
        counts = select(
            _count(sent_in_window).label("sent"),
            _count(and_(sent_in_window, t.c.status.in_(_DELIVERED))).label("delivered"),
            _count(and_(sent_in_window, t.c.status == OutboxStatus.READ.value)).label("read"),
            _count(failed).label("failed"),
            _count(undelivered).label("undelivered"),
            _count(t.c.status.in_(_WAITING)).label("pending"),
        ).where(t.c.account_id == account_id)
        reasons = (
            select(t.c.last_error, func.count().label("n"))
            .where(t.c.account_id == account_id, failed)
            .group_by(t.c.last_error)
        )
        async with self._sessions() as session:
            totals = (await session.execute(counts)).mappings().one()
            reason_rows = (await session.execute(reasons)).all()
            failures = await self._named(session, account_id, failed, t.c.next_attempt_at, limit)
            late = await self._named(session, account_id, undelivered, t.c.sent_at, limit)
        return DeliveryStats(
            sent=int(totals["sent"]),
            delivered=int(totals["delivered"]),
            read=int(totals["read"]),
            failed=int(totals["failed"]),
            # Ties sorted here, byte-wise, not by the server's collation: as in every adapter.
            reasons=tuple(
                ReasonCount(reason, int(n))
                for reason, n in sorted(reason_rows, key=lambda row: (-row[1], row[0] or ""))
            ),
            failures=failures,
            undelivered_count=int(totals["undelivered"]),
            undelivered=late,
            pending=int(totals["pending"]),
        )

    @staticmethod
    async def _named(
        session: AsyncSession,
        account_id: int,
        condition: ColumnElement[bool],
        at: Any,
        limit: int,
    ) -> tuple[ReportedMessage, ...]:
        query = (
            select(
                t.c.client_id,
                c.c.name,
                t.c.kind,
                t.c.status,
                at.label("at"),
                t.c.last_error,
            )
            .select_from(
                t.outerjoin(c, and_(c.c.account_id == t.c.account_id, c.c.id == t.c.client_id))
            )
            .where(t.c.account_id == account_id, condition)
            .order_by(at, t.c.id)
            .limit(limit)
        )
        rows = (await session.execute(query)).mappings().all()
        return tuple(
            ReportedMessage(
                client_id=row["client_id"],
                client_name=row["name"],
                kind=TemplateKind(row["kind"]),
                status=OutboxStatus(row["status"]),
                at=row["at"],
                reason=row["last_error"],
            )
            for row in rows
        )

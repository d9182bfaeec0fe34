"""Queued WhatsApp messages in SQL: one row per dedupe key, however often a reminder is planned.

The dispatcher's part (``claim_due`` … ``get_pacing``): PostgreSQL claims with ``SELECT …
FOR UPDATE SKIP LOCKED`` in a CTE feeding the ``UPDATE``, so concurrent workers split the
due rows without waiting on each other; SQLite claims with one ``UPDATE … RETURNING``,
which the engine runs under ``BEGIN IMMEDIATE`` (one writer at a time), so it is atomic
too. Pacing rows are locked the same way: written first (an ``INSERT … ON CONFLICT DO
NOTHING`` takes SQLite's write lock), then read ``FOR UPDATE``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from attrs import evolve
from sqlalchemy import and_, case, exists, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clientmgr.adapters.sql.mapping import outbox_message_from_row, outbox_message_values
from clientmgr.adapters.sql.repositories._common import (
    account_exists,
    client_exists,
    dialect_name,
    insert_for,
    rowcount,
)
from clientmgr.adapters.sql.tables import outbox_table as t
from clientmgr.adapters.sql.tables import wa_pacing_table as p
from clientmgr.adapters.sql.types import as_utc
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.errors import AccountNotFoundError, ClientNotFoundError, ConflictError, NotFoundError
from clientmgr.ports.pacing import PauseReason, SessionPacing
from clientmgr.ports.repositories import OutboxActivity

__all__ = ["STATUS_TIMESTAMP_COLUMNS", "SqlAlchemyOutboxRepository"]

STATUS_TIMESTAMP_COLUMNS = {
    OutboxStatus.SENT: "sent_at",
    OutboxStatus.DELIVERED: "delivered_at",
    OutboxStatus.READ: "read_at",
}
"""Which column ``set_status(..., at=...)`` stamps for each status; other statuses stamp none."""


def _not_found(message_id: int) -> NotFoundError:
    return NotFoundError(f"Mensagem {message_id} não encontrada.")


class SqlAlchemyOutboxRepository:
    """Implements ``OutboxRepository``; ``add`` is INSERT … ON CONFLICT (dedupe_key) DO NOTHING."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, message: OutboxMessage) -> OutboxMessage | None:
        statement = (
            insert_for(self._session, t)
            .values(outbox_message_values(message))
            .on_conflict_do_nothing(index_elements=[t.c.dedupe_key])
            .returning(t.c.id)
        )
        try:
            async with self._session.begin_nested():
                new_id = (await self._session.execute(statement)).scalar_one_or_none()
        except IntegrityError as exc:
            if message.client_id is not None and not await client_exists(
                self._session, message.account_id, message.client_id
            ):
                raise ClientNotFoundError(f"Cliente {message.client_id} não encontrado.") from exc
            if not await account_exists(self._session, message.account_id):
                raise AccountNotFoundError(f"Conta {message.account_id} não encontrada.") from exc
            raise ConflictError(f"A mensagem não pôde ser gravada: {exc.orig}") from exc
        return None if new_id is None else evolve(message, id=new_id)

    async def get(self, account_id: int, message_id: int) -> OutboxMessage:
        query = select(t).where(t.c.account_id == account_id, t.c.id == message_id)
        row = (await self._session.execute(query)).mappings().first()
        if row is None:
            raise _not_found(message_id)
        return outbox_message_from_row(row)

    async def list_for_client(self, account_id: int, client_id: int) -> Sequence[OutboxMessage]:
        query = (
            select(t)
            .where(t.c.account_id == account_id, t.c.client_id == client_id)
            .order_by(t.c.created_at.desc(), t.c.id.desc())
        )
        rows = (await self._session.execute(query)).mappings()
        return [outbox_message_from_row(row) for row in rows]

    async def set_status(
        self,
        account_id: int,
        message_id: int,
        status: OutboxStatus,
        *,
        error: str | None = None,
        provider_message_id: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """Move a message to ``status``; the keyword arguments are written only when given."""
        values: dict[str, Any] = {"status": status.value}
        if error is not None:
            values["last_error"] = error
        if provider_message_id is not None:
            values["provider_message_id"] = provider_message_id
        if at is not None and status in STATUS_TIMESTAMP_COLUMNS:
            values[STATUS_TIMESTAMP_COLUMNS[status]] = as_utc(at)
        statement = (
            update(t).where(t.c.account_id == account_id, t.c.id == message_id).values(values)
        )
        if rowcount(await self._session.execute(statement)) == 0:
            raise _not_found(message_id)

    async def cancel_queued_for_client(self, account_id: int, client_id: int) -> int:
        statement = (
            update(t)
            .where(
                t.c.account_id == account_id,
                t.c.client_id == client_id,
                t.c.status == OutboxStatus.QUEUED.value,
            )
            .values(status=OutboxStatus.CANCELLED.value, last_error=None)
        )
        return rowcount(await self._session.execute(statement))

    async def list_queued(self, account_id: int, *, limit: int) -> Sequence[OutboxMessage]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        query = (
            select(t)
            .where(t.c.account_id == account_id, t.c.status == OutboxStatus.QUEUED.value)
            .order_by(t.c.next_attempt_at, t.c.id)
            .limit(limit)
        )
        rows = (await self._session.execute(query)).mappings()
        return [outbox_message_from_row(row) for row in rows]

    async def count_queued(self, account_id: int) -> int:
        query = (
            select(func.count())
            .select_from(t)
            .where(t.c.account_id == account_id, t.c.status == OutboxStatus.QUEUED.value)
        )
        return int((await self._session.execute(query)).scalar_one())

    async def cancel_if_queued(
        self, account_id: int, message_id: int, *, error: str | None = None
    ) -> bool:
        """One conditional UPDATE: under READ COMMITTED PostgreSQL re-checks the status on the
        latest row (waiting for a claim still in its transaction); SQLite has one writer."""
        values: dict[str, Any] = {"status": OutboxStatus.CANCELLED.value}
        if error is not None:
            values["last_error"] = error
        statement = (
            update(t)
            .where(
                t.c.account_id == account_id,
                t.c.id == message_id,
                t.c.status == OutboxStatus.QUEUED.value,
            )
            .values(values)
        )
        return rowcount(await self._session.execute(statement)) == 1

    async def get_by_dedupe_key(self, account_id: int, dedupe_key: str) -> OutboxMessage | None:
        query = select(t).where(t.c.account_id == account_id, t.c.dedupe_key == dedupe_key)
        row = (await self._session.execute(query)).mappings().first()
        return None if row is None else outbox_message_from_row(row)

    async def activity_between(self, start: datetime, end: datetime) -> OutboxActivity:
        start, end = as_utc(start), as_utc(end)
        created = and_(t.c.created_at >= start, t.c.created_at < end)
        sent = and_(t.c.sent_at >= start, t.c.sent_at < end)
        waiting = t.c.status.in_([OutboxStatus.QUEUED.value, OutboxStatus.SENDING.value])
        query = select(
            func.count(case((created, 1))),
            func.count(case((sent, 1))),
            func.count(case((waiting, 1))),
        )
        queued, sent_count, pending = (await self._session.execute(query)).one()
        return OutboxActivity(queued=int(queued), sent=int(sent_count), pending=int(pending))

    # -- the dispatcher ----------------------------------------------------------------

    async def claim_due(
        self,
        now: datetime,
        *,
        owner: str,
        lease: timedelta,
        limit: int,
        per_account: int | None = None,
    ) -> Sequence[OutboxMessage]:
        if limit < 1 or (per_account is not None and per_account < 1):
            raise ValueError("limit and per_account must be at least 1")
        now = as_utc(now)
        o = t.alias("candidate")
        candidates = (
            select(o.c.id)
            .where(_claimable(o, now))
            .order_by(o.c.next_attempt_at, o.c.id)
            .limit(limit)
        )
        if per_account is not None:
            r = t.alias("ranked")
            ranked = (
                select(
                    r.c.id,
                    func.row_number()
                    .over(partition_by=r.c.account_id, order_by=(r.c.next_attempt_at, r.c.id))
                    .label("rank"),
                )
                .where(_claimable(r, now))
                .subquery("ranking")
            )
            candidates = candidates.where(
                o.c.id.in_(select(ranked.c.id).where(ranked.c.rank <= per_account))
            )
        values = {
            "status": OutboxStatus.SENDING.value,
            "lease_until": now + lease,
            "lease_owner": owner,
            "attempts": t.c.attempts + 1,
        }
        if dialect_name(self._session) == "postgresql":
            picked = candidates.with_for_update(skip_locked=True).cte("picked")
            statement = update(t).where(t.c.id == picked.c.id)
        else:
            statement = update(t).where(t.c.id.in_(candidates))
        rows = (await self._session.execute(statement.values(values).returning(*t.c))).mappings()
        claimed = [outbox_message_from_row(row) for row in rows]
        claimed.sort(key=lambda m: (m.next_attempt_at, m.id or 0))
        return claimed

    async def mark_sent(
        self, account_id: int, message_id: int, *, provider_message_id: str, at: datetime
    ) -> bool:
        statement = (
            update(t)
            .where(
                t.c.account_id == account_id,
                t.c.id == message_id,
                t.c.status.in_([OutboxStatus.QUEUED.value, OutboxStatus.SENDING.value]),
            )
            .values(
                status=OutboxStatus.SENT.value,
                provider_message_id=provider_message_id,
                sent_at=as_utc(at),
                lease_until=None,
                lease_owner=None,
                last_error=None,
            )
        )
        return rowcount(await self._session.execute(statement)) == 1

    async def release_claim(
        self,
        account_id: int,
        message_id: int,
        owner: str,
        status: OutboxStatus,
        *,
        next_attempt_at: datetime | None = None,
        error: str | None = None,
        refund_attempt: bool = False,
    ) -> bool:
        values: dict[str, Any] = {
            "status": status.value,
            "lease_until": None,
            "lease_owner": None,
            **_release_changes(status, next_attempt_at, error),
        }
        if refund_attempt:
            values["attempts"] = case((t.c.attempts > 0, t.c.attempts - 1), else_=0)
        statement = (
            update(t)
            .where(
                t.c.account_id == account_id,
                t.c.id == message_id,
                t.c.status == OutboxStatus.SENDING.value,
                t.c.lease_owner == owner,
            )
            .values(values)
        )
        return rowcount(await self._session.execute(statement)) == 1

    async def lock_pacing(self, session_id: str, account_id: int, now: datetime) -> SessionPacing:
        query = select(p).where(p.c.session_id == session_id).with_for_update()
        if dialect_name(self._session) == "postgresql":
            # Row locks exist there: lock the row if it is there (one round trip, the usual
            # case). SQLite locks the whole database on the first write, so it writes first.
            row = (await self._session.execute(query)).mappings().first()
            if row is not None:
                return _pacing_from_row(row)
        now = as_utc(now)
        fresh = SessionPacing(
            session_id=session_id,
            account_id=account_id,
            next_send_at=now,
            day=now.date(),
            first_seen_at=now,
            updated_at=now,
        )
        await self._session.execute(
            insert_for(self._session, p)
            .values(_pacing_values(fresh))
            .on_conflict_do_nothing(index_elements=[p.c.session_id])
        )
        row = (await self._session.execute(query)).mappings().one()
        return _pacing_from_row(row)

    async def save_pacing(self, pacing: SessionPacing) -> None:
        values = _pacing_values(pacing)
        statement = (
            insert_for(self._session, p)
            .values(values)
            .on_conflict_do_update(index_elements=[p.c.session_id], set_=values)
        )
        await self._session.execute(statement)

    async def get_pacing(self, session_id: str) -> SessionPacing | None:
        query = select(p).where(p.c.session_id == session_id)
        row = (await self._session.execute(query)).mappings().first()
        return None if row is None else _pacing_from_row(row)


def _claimable(o: Any, now: datetime) -> Any:
    """Due (queued and its time came, or sending with a dead lease) in a session that may send."""
    due = or_(
        and_(o.c.status == OutboxStatus.QUEUED.value, o.c.next_attempt_at <= now),
        and_(o.c.status == OutboxStatus.SENDING.value, o.c.lease_until <= now),
    )
    held_back = exists().where(p.c.account_id == o.c.account_id, p.c.next_send_at > now)
    return and_(due, ~held_back)


def _release_changes(
    status: OutboxStatus, next_attempt_at: datetime | None, error: str | None
) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    if status is OutboxStatus.QUEUED:
        if next_attempt_at is None:
            raise ValueError("a message going back to the queue needs next_attempt_at")
        changes["next_attempt_at"] = as_utc(next_attempt_at)
    elif status not in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
        raise ValueError(f"a claim ends queued, failed or cancelled, not {status.value}")
    if error is not None:
        changes["last_error"] = error
    return changes


def _pacing_values(pacing: SessionPacing) -> dict[str, Any]:
    return {
        "session_id": pacing.session_id,
        "account_id": pacing.account_id,
        "next_send_at": as_utc(pacing.next_send_at),
        "day": pacing.day,
        "sent_today": pacing.sent_today,
        "first_seen_at": as_utc(pacing.first_seen_at),
        "pause_reason": None if pacing.pause_reason is None else pacing.pause_reason.value,
        "updated_at": as_utc(pacing.updated_at),
        "phone": pacing.phone,
    }


def _pacing_from_row(row: Any) -> SessionPacing:
    reason = row["pause_reason"]
    return SessionPacing(
        session_id=row["session_id"],
        account_id=row["account_id"],
        next_send_at=row["next_send_at"],
        day=row["day"],
        sent_today=row["sent_today"],
        first_seen_at=row["first_seen_at"],
        updated_at=row["updated_at"],
        pause_reason=None if reason is None else PauseReason(reason),
        phone=row["phone"],
    )

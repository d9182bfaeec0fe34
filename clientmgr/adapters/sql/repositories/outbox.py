"""Queued WhatsApp messages in SQL: one row per dedupe key, however often a reminder is planned."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from attrs import evolve
from sqlalchemy import and_, case, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clientmgr.adapters.sql.mapping import outbox_message_from_row, outbox_message_values
from clientmgr.adapters.sql.repositories._common import (
    account_exists,
    client_exists,
    insert_for,
    rowcount,
)
from clientmgr.adapters.sql.tables import outbox_table as t
from clientmgr.adapters.sql.types import as_utc
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.errors import AccountNotFoundError, ClientNotFoundError, ConflictError, NotFoundError
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
            .values(status=OutboxStatus.CANCELLED.value)
        )
        return rowcount(await self._session.execute(statement))

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

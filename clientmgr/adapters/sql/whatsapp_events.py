"""The sidecar events' look-ups in SQL, on the unit of work's own session (one transaction)."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from clientmgr.adapters.sql.mapping import (
    client_from_row,
    outbox_message_from_row,
)
from clientmgr.adapters.sql.tables import clients_table, outbox_table
from clientmgr.adapters.sql.unit_of_work import SqlAlchemyUnitOfWork
from clientmgr.core.clients import Client
from clientmgr.core.outbox import OutboxMessage, OutboxStatus

__all__ = ["SqlEventLookups", "sql_event_lookups"]


class SqlEventLookups:
    """Implements ``EventLookups``.

    ``message_for_ack`` locks the row with ``FOR UPDATE`` on PostgreSQL. SQLite ignores
    that clause, and does not need it the way clientmgr runs on it: one web process, fed
    by one sidecar whose events arrive one at a time, in order.
    """

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def message_for_ack(
        self, account_id: int, provider_message_id: str
    ) -> OutboxMessage | None:
        t = outbox_table
        query = (
            select(t)
            .where(t.c.account_id == account_id, t.c.provider_message_id == provider_message_id)
            .order_by(t.c.id)
            .limit(1)
            .with_for_update()
        )
        row = (await self._session.execute(query)).mappings().first()
        return None if row is None else outbox_message_from_row(row)

    async def clients_at(
        self, account_id: int, *, phones: Collection[str], jids: Collection[str]
    ) -> Sequence[Client]:
        t = clients_table
        matches = []
        if phones:
            matches.append(t.c.phone.in_(sorted(phones)))
        if jids:
            matches += [t.c.wa_jid.in_(sorted(jids)), t.c.wa_lid.in_(sorted(jids))]
        if not matches:
            return []
        query = select(t).where(t.c.account_id == account_id, or_(*matches)).order_by(t.c.id)
        return [client_from_row(row) for row in (await self._session.execute(query)).mappings()]

    async def outbox_depth(self) -> dict[OutboxStatus, int]:
        t = outbox_table
        query = select(t.c.status, func.count()).group_by(t.c.status)
        counts = dict.fromkeys(OutboxStatus, 0)
        for status, count in (await self._session.execute(query)).all():
            counts[OutboxStatus(status)] = count
        return counts


def sql_event_lookups(uow: SqlAlchemyUnitOfWork) -> SqlEventLookups:
    """An ``EventLookupsFactory`` for the SQL unit of work (it must be open)."""
    return SqlEventLookups(uow.session)

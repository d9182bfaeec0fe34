"""The audit trail in SQL: append-only, read newest first."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from clientmgr.adapters.sql.mapping import audit_event_from_row, audit_event_values
from clientmgr.adapters.sql.tables import audit_events_table as t
from clientmgr.core.audit import AuditEvent

__all__ = ["SqlAlchemyAuditRepository"]


class SqlAlchemyAuditRepository:
    """Implements ``AuditRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, event: AuditEvent) -> None:
        await self._session.execute(insert(t).values(audit_event_values(event)))

    async def latest(
        self,
        account_id: int,
        *,
        entity: str,
        actions: Collection[str],
        entity_id: str | None = None,
    ) -> AuditEvent | None:
        if not actions:
            return None
        query = select(t).where(
            t.c.account_id == account_id, t.c.entity == entity, t.c.action.in_(sorted(actions))
        )
        if entity_id is not None:
            query = query.where(t.c.entity_id == entity_id)
        query = query.order_by(t.c.created_at.desc(), t.c.id.desc()).limit(1)
        row = (await self._session.execute(query)).mappings().first()
        return None if row is None else audit_event_from_row(row)

    async def list(self, account_id: int, *, limit: int = 50) -> Sequence[AuditEvent]:
        query = (
            select(t)
            .where(t.c.account_id == account_id)
            .order_by(t.c.created_at.desc(), t.c.id.desc())
            .limit(limit)
        )
        return [
            audit_event_from_row(row) for row in (await self._session.execute(query)).mappings()
        ]

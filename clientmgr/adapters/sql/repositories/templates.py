"""A seller's own message texts, one per (account, kind); absent kinds use the built-in default."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clientmgr.adapters.sql.mapping import template_from_row, template_values
from clientmgr.adapters.sql.repositories._common import insert_for
from clientmgr.adapters.sql.tables import templates_table as t
from clientmgr.core.templates import Template, TemplateKind
from clientmgr.errors import AccountNotFoundError

__all__ = ["SqlAlchemyTemplateRepository"]


class SqlAlchemyTemplateRepository:
    """Implements ``TemplateRepository``; ``save`` is one INSERT … ON CONFLICT DO UPDATE."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, account_id: int, kind: TemplateKind) -> Template | None:
        query = select(t).where(t.c.account_id == account_id, t.c.kind == kind.value)
        row = (await self._session.execute(query)).mappings().first()
        return None if row is None else template_from_row(row)

    async def save(self, template: Template) -> None:
        values = template_values(template)
        statement = insert_for(self._session, t).values(values)
        statement = statement.on_conflict_do_update(
            index_elements=[t.c.account_id, t.c.kind],
            set_={"text": statement.excluded.text, "updated_at": statement.excluded.updated_at},
        )
        try:
            async with self._session.begin_nested():
                await self._session.execute(statement)
        except IntegrityError as exc:
            raise AccountNotFoundError(f"Conta {template.account_id} não encontrada.") from exc

    async def delete(self, account_id: int, kind: TemplateKind) -> None:
        await self._session.execute(
            delete(t).where(t.c.account_id == account_id, t.c.kind == kind.value)
        )

    async def list(self, account_id: int) -> Sequence[Template]:
        query = select(t).where(t.c.account_id == account_id).order_by(t.c.kind)
        return [template_from_row(row) for row in (await self._session.execute(query)).mappings()]

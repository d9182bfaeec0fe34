"""What every SQL repository needs: the dialect's INSERT (ON CONFLICT), row counts, existence."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import Table, exists, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.ext.asyncio import AsyncSession

from clientmgr.adapters.sql.tables import accounts_table, clients_table

__all__ = ["account_exists", "client_exists", "dialect_name", "insert_for", "rowcount"]


def dialect_name(session: AsyncSession) -> str:
    bind = session.bind
    if bind is None:
        raise RuntimeError("the session is not bound to an engine")
    return bind.dialect.name


def insert_for(session: AsyncSession, table: Table) -> Any:
    """``INSERT`` with ``on_conflict_do_*`` for the session's database (PostgreSQL or SQLite)."""
    if dialect_name(session) == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)


def rowcount(result: Result[Any]) -> int:
    return cast(CursorResult[Any], result).rowcount


async def account_exists(session: AsyncSession, account_id: int) -> bool:
    query = select(exists().where(accounts_table.c.id == account_id))
    return bool((await session.execute(query)).scalar())


async def client_exists(session: AsyncSession, account_id: int, client_id: int) -> bool:
    query = select(
        exists().where(clients_table.c.account_id == account_id, clients_table.c.id == client_id)
    )
    return bool((await session.execute(query)).scalar())

"""A seller's clients in SQL: scoped by account, phone unique per account, bulk upsert."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from attrs import evolve
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    and_,
    case,
    cast,
    false,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clientmgr.adapters.sql.mapping import client_from_row, client_values
from clientmgr.adapters.sql.repositories._common import (
    account_exists,
    dialect_name,
    insert_for,
    rowcount,
)
from clientmgr.adapters.sql.search import name_key, phone_fragment
from clientmgr.adapters.sql.tables import clients_table as t
from clientmgr.adapters.sql.types import CENT
from clientmgr.core.clients import Client
from clientmgr.errors import (
    AccountNotFoundError,
    ClientNotFoundError,
    ConflictError,
    DuplicatePhoneError,
    InvalidMoneyError,
)
from clientmgr.ports.repositories import ClientTally, Tally

__all__ = ["UPSERT_BATCH_SIZE", "SqlAlchemyClientRepository"]

UPSERT_BATCH_SIZE = 2000
"""Rows per INSERT … ON CONFLICT statement: ~18 parameters a row stays well under the
32k bind-parameter limits of both asyncpg and SQLite."""

# What an import may change on a client that already has the phone. The flags (paused,
# archived, opted out) are the seller's and the client's decisions, not the spreadsheet's,
# and the WhatsApp ids are only replaced by newer known ones.
_UPSERT_OVERWRITES = (
    "name",
    "name_key",
    "plan",
    "price",
    "cycle",
    "due_date",
    "anchor_day",
    "notes",
    "updated_at",
)
_UPSERT_KEEPS_KNOWN = ("wa_jid", "wa_lid")


def _check_price(client: Client) -> None:
    if client.price < 0:
        raise InvalidMoneyError("O valor não pode ser negativo.")


def _not_found(client_id: int | None) -> ClientNotFoundError:
    return ClientNotFoundError(f"Cliente {client_id} não encontrado.")


def _batches(rows: list[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class SqlAlchemyClientRepository:
    """Implements ``ClientRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, client: Client) -> Client:
        _check_price(client)
        statement = insert(t).values(client_values(client)).returning(t.c.id)
        try:
            async with self._session.begin_nested():
                new_id = (await self._session.execute(statement)).scalar_one()
        except IntegrityError as exc:
            raise await self._explain(client, exc) from exc
        return evolve(client, id=new_id)

    async def get(self, account_id: int, client_id: int) -> Client:
        query = select(t).where(t.c.account_id == account_id, t.c.id == client_id)
        row = (await self._session.execute(query)).mappings().first()
        if row is None:
            raise _not_found(client_id)
        return client_from_row(row)

    async def get_by_phone(self, account_id: int, phone: str) -> Client | None:
        query = select(t).where(t.c.account_id == account_id, t.c.phone == phone)
        row = (await self._session.execute(query)).mappings().first()
        return None if row is None else client_from_row(row)

    async def update(self, client: Client) -> None:
        if client.id is None:
            raise _not_found(None)
        _check_price(client)
        values = client_values(client)
        del values["account_id"], values["created_at"]  # a client never changes hands
        statement = (
            update(t).where(t.c.account_id == client.account_id, t.c.id == client.id).values(values)
        )
        try:
            async with self._session.begin_nested():
                result = await self._session.execute(statement)
        except IntegrityError as exc:
            raise await self._explain(client, exc) from exc
        if rowcount(result) == 0:
            raise _not_found(client.id)

    async def list(
        self,
        account_id: int,
        *,
        search: str | None = None,
        due_from: date | None = None,
        due_to: date | None = None,
        paused: bool | None = None,
        archived: bool | None = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> Sequence[Client]:
        conditions: list[ColumnElement[bool]] = [t.c.account_id == account_id]
        if search is not None and search.strip():
            conditions.append(_matches(search.strip()))
        if due_from is not None:
            conditions.append(t.c.due_date >= due_from)
        if due_to is not None:
            conditions.append(t.c.due_date <= due_to)
        if paused is not None:
            conditions.append(t.c.paused == paused)
        if archived is not None:
            conditions.append(t.c.archived == archived)
        query = (
            select(t)
            .where(*conditions)
            .order_by(t.c.due_date, t.c.name_key, t.c.id)
            .offset(offset)
            .limit(limit)
        )
        return [client_from_row(row) for row in (await self._session.execute(query)).mappings()]

    async def count(self, account_id: int, *, archived: bool | None = False) -> int:
        query = select(func.count()).select_from(t).where(t.c.account_id == account_id)
        if archived is not None:
            query = query.where(t.c.archived == archived)
        return int((await self._session.execute(query)).scalar_one())

    async def tally(self, account_id: int, *, today: date, until: date) -> ClientTally:
        """One pass over the account's clients with conditional COUNTs and SUMs."""
        active = t.c.paused == false()
        overdue = and_(active, t.c.due_date < today)
        due_soon = and_(active, t.c.due_date >= today, t.c.due_date <= until)
        query = select(
            func.count(case((active, 1))),
            func.count(case((t.c.paused == true(), 1))),
            func.count(case((overdue, 1))),
            _cents_where(overdue),
            func.count(case((due_soon, 1))),
            _cents_where(due_soon),
        ).where(t.c.account_id == account_id, t.c.archived == false())
        row = (await self._session.execute(query)).one()
        return ClientTally(
            active=int(row[0]),
            paused=int(row[1]),
            overdue=Tally(int(row[2]), _reais(row[3])),
            due_soon=Tally(int(row[4]), _reais(row[5])),
        )

    async def count_all(self, *, archived: bool | None = False) -> int:
        query = select(func.count()).select_from(t)
        if archived is not None:
            query = query.where(t.c.archived == archived)
        return int((await self._session.execute(query)).scalar_one())

    async def upsert_many(self, account_id: int, clients: Sequence[Client]) -> tuple[int, int]:
        """Insert or update by phone, set-based; a phone given twice counts once (the last wins).

        The whole call is one SAVEPOINT: it applies entirely or not at all. Existing clients
        get the imported name, plan, price, cycle, due date, anchor day and notes; their
        paused/archived/opted-out flags stay, and their WhatsApp ids unless new ones are given.
        """
        by_phone: dict[str, dict[str, Any]] = {}
        for client in clients:
            _check_price(client)
            values = client_values(client)
            values["account_id"] = account_id  # the caller's account, whatever the entity says
            by_phone[client.phone] = values
        if not by_phone:
            return 0, 0
        rows = list(by_phone.values())
        inserted = updated = 0
        try:
            # On SQLite the savepoint also opens the write transaction, so the phones
            # counted below cannot change before the batch is written.
            async with self._session.begin_nested():
                for batch in _batches(rows, UPSERT_BATCH_SIZE):
                    new, old = await self._upsert_batch(account_id, batch)
                    inserted += new
                    updated += old
        except IntegrityError as exc:
            if not await account_exists(self._session, account_id):
                raise AccountNotFoundError(f"Conta {account_id} não encontrada.") from exc
            raise ConflictError(f"A importação não pôde ser gravada: {exc.orig}") from exc
        return inserted, updated

    async def _upsert_batch(self, account_id: int, batch: list[dict[str, Any]]) -> tuple[int, int]:
        statement = insert_for(self._session, t)
        excluded = statement.excluded
        changes: dict[str, Any] = {name: excluded[name] for name in _UPSERT_OVERWRITES}
        for name in _UPSERT_KEEPS_KNOWN:
            changes[name] = func.coalesce(excluded[name], t.c[name])
        statement = statement.on_conflict_do_update(
            index_elements=[t.c.account_id, t.c.phone], set_=changes
        )
        if dialect_name(self._session) == "postgresql":
            # xmax is 0 on a freshly inserted row version and set on an updated one.
            statement = statement.returning(literal_column("(xmax = 0)").label("inserted"))
            flags = (await self._session.execute(statement, batch)).scalars().all()
            new = sum(1 for flag in flags if flag)
            return new, len(flags) - new
        phones = [row["phone"] for row in batch]
        existing_query = (
            select(func.count())
            .select_from(t)
            .where(t.c.account_id == account_id, t.c.phone.in_(phones))
        )
        existing = int((await self._session.execute(existing_query)).scalar_one())
        await self._session.execute(statement, batch)
        return len(batch) - existing, existing

    async def _explain(self, client: Client, exc: IntegrityError) -> Exception:
        """Turn a constraint violation into the domain error that says what collided."""
        holder = await self.get_by_phone(client.account_id, client.phone)
        if holder is not None and holder.id != client.id:
            return DuplicatePhoneError(client.phone, holder.id)
        if not await account_exists(self._session, client.account_id):
            return AccountNotFoundError(f"Conta {client.account_id} não encontrada.")
        return ConflictError(f"O cliente não pôde ser gravado: {exc.orig}")


def _cents_where(condition: ColumnElement[bool]) -> ColumnElement[Any]:
    """Sum of the matching prices as whole cents (SQLite keeps NUMERIC as floating point)."""
    cents = cast(func.round(t.c.price * 100), BigInteger)
    return func.coalesce(func.sum(case((condition, cents), else_=0)), 0)


def _reais(cents: object) -> Decimal:
    return (Decimal(str(cents)) / 100).quantize(CENT)


def _matches(search: str) -> ColumnElement[bool]:
    """Part of the name (case and accents ignored) or, for phone-like text, part of the phone."""
    by_name = t.c.name_key.contains(name_key(search), autoescape=True)
    digits = phone_fragment(search)
    if digits is None:
        return by_name
    return or_(by_name, t.c.phone.contains(digits, autoescape=True))

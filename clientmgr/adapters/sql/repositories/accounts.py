"""Accounts (sellers) in SQL; one per Telegram user, enforced by UNIQUE(telegram_id)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from attrs import evolve
from sqlalchemy import case, func, insert, literal, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clientmgr.adapters.sql.mapping import account_from_row, account_values
from clientmgr.adapters.sql.repositories._common import rowcount
from clientmgr.adapters.sql.tables import accounts_table as t
from clientmgr.adapters.sql.types import UtcDateTime, as_utc
from clientmgr.core.accounts import GRACE_PERIOD, Account, AccountStatus
from clientmgr.errors import AccountNotFoundError, DuplicateAccountError

__all__ = ["SqlAlchemyAccountRepository"]


def _duplicate(telegram_id: int) -> DuplicateAccountError:
    return DuplicateAccountError(f"Já existe uma conta para o usuário do Telegram {telegram_id}.")


class SqlAlchemyAccountRepository:
    """Implements ``AccountRepository``; writes run in a SAVEPOINT so a duplicate spares the UoW."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, account: Account) -> Account:
        statement = insert(t).values(account_values(account)).returning(t.c.id)
        try:
            async with self._session.begin_nested():
                new_id = (await self._session.execute(statement)).scalar_one()
        except IntegrityError as exc:
            raise _duplicate(account.telegram_id) from exc
        return evolve(account, id=new_id)

    async def get(self, account_id: int) -> Account:
        row = (
            (await self._session.execute(select(t).where(t.c.id == account_id))).mappings().first()
        )
        if row is None:
            raise AccountNotFoundError(f"Conta {account_id} não encontrada.")
        return account_from_row(row)

    async def get_by_telegram_id(self, telegram_id: int) -> Account | None:
        query = select(t).where(t.c.telegram_id == telegram_id)
        row = (await self._session.execute(query)).mappings().first()
        return None if row is None else account_from_row(row)

    async def update(self, account: Account) -> None:
        if account.id is None:
            raise AccountNotFoundError("Conta sem id.")
        values = account_values(account)
        del values["created_at"]  # set once, when the account registers
        statement = update(t).where(t.c.id == account.id).values(values)
        try:
            async with self._session.begin_nested():
                result = await self._session.execute(statement)
        except IntegrityError as exc:
            raise _duplicate(account.telegram_id) from exc
        if rowcount(result) == 0:
            raise AccountNotFoundError(f"Conta {account.id} não encontrada.")

    async def list(self) -> Sequence[Account]:
        query = select(t).order_by(t.c.created_at, t.c.id)
        return [account_from_row(row) for row in (await self._session.execute(query)).mappings()]

    async def count_by_status(self, now: datetime) -> dict[AccountStatus, int]:
        """``Account.status`` as one CASE, grouped; the contract suite compares the two."""
        now = as_utc(now)
        at = literal(now, UtcDateTime())
        grace_edge = literal(now - GRACE_PERIOD, UtcDateTime())
        paid = t.c.paid_until > t.c.trial_ends_at  # NULL (not paid) when paid_until is NULL
        access_until = case((paid, t.c.paid_until), else_=t.c.trial_ends_at)
        derived = case(
            (
                access_until > at,
                case((paid, AccountStatus.ACTIVE.value), else_=AccountStatus.TRIAL.value),
            ),
            (access_until > grace_edge, AccountStatus.GRACE.value),
            else_=AccountStatus.EXPIRED.value,
        ).label("status")
        statuses = select(derived).subquery()
        query = select(statuses.c.status, func.count()).group_by(statuses.c.status)
        counts = {AccountStatus(name): int(n) for name, n in await self._session.execute(query)}
        return {status: counts.get(status, 0) for status in AccountStatus}

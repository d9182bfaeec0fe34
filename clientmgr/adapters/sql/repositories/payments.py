"""Payments clients made to a seller; idempotent per (account, key), summed in exact cents."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from attrs import evolve
from sqlalchemy import BigInteger, cast, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clientmgr.adapters.sql.mapping import payment_from_row, payment_values
from clientmgr.adapters.sql.repositories._common import client_exists
from clientmgr.adapters.sql.tables import payments_table as t
from clientmgr.adapters.sql.types import CENT, as_utc
from clientmgr.core.payments import Payment
from clientmgr.errors import ClientNotFoundError, ConflictError, InvalidMoneyError

__all__ = ["SqlAlchemyPaymentRepository"]


class SqlAlchemyPaymentRepository:
    """Implements ``PaymentRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, payment: Payment) -> Payment:
        if payment.amount < 0:
            raise InvalidMoneyError("O valor não pode ser negativo.")
        statement = insert(t).values(payment_values(payment)).returning(t.c.id)
        try:
            async with self._session.begin_nested():
                new_id = (await self._session.execute(statement)).scalar_one()
        except IntegrityError as exc:
            key = payment.idempotency_key
            if key is not None and await self.get_by_key(payment.account_id, key) is not None:
                raise ConflictError("Este pagamento já foi registrado.") from exc
            if not await client_exists(self._session, payment.account_id, payment.client_id):
                raise ClientNotFoundError(f"Cliente {payment.client_id} não encontrado.") from exc
            raise ConflictError(f"O pagamento não pôde ser gravado: {exc.orig}") from exc
        return evolve(payment, id=new_id)

    async def get_by_key(self, account_id: int, idempotency_key: str) -> Payment | None:
        query = select(t).where(
            t.c.account_id == account_id, t.c.idempotency_key == idempotency_key
        )
        row = (await self._session.execute(query)).mappings().first()
        return None if row is None else payment_from_row(row)

    async def list_for_client(self, account_id: int, client_id: int) -> Sequence[Payment]:
        query = (
            select(t)
            .where(t.c.account_id == account_id, t.c.client_id == client_id)
            .order_by(t.c.paid_at.desc(), t.c.id.desc())
        )
        return [payment_from_row(row) for row in (await self._session.execute(query)).mappings()]

    async def total_between(self, account_id: int, start: datetime, end: datetime) -> Decimal:
        # Summed as whole cents: SQLite keeps NUMERIC as floating point, and a float sum of
        # thousands of amounts can drift by a cent.
        cents = func.coalesce(func.sum(cast(func.round(t.c.amount * 100), BigInteger)), 0)
        query = select(cents).where(
            t.c.account_id == account_id,
            t.c.paid_at >= as_utc(start),
            t.c.paid_at < as_utc(end),
        )
        total = int((await self._session.execute(query)).scalar_one())
        return (Decimal(total) / 100).quantize(CENT)

"""The sellers' own Mercado Pago charges; UNIQUE(mp_payment_id) makes replays harmless."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from attrs import evolve
from sqlalchemy import BigInteger, cast, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from clientmgr.adapters.sql.mapping import (
    subscription_payment_from_row,
    subscription_payment_values,
)
from clientmgr.adapters.sql.repositories._common import account_exists, rowcount
from clientmgr.adapters.sql.tables import subscription_payments_table as t
from clientmgr.adapters.sql.types import CENT, as_utc
from clientmgr.core.subscriptions import SubscriptionPayment, SubscriptionStatus
from clientmgr.errors import AccountNotFoundError, ConflictError, InvalidMoneyError, NotFoundError
from clientmgr.ports.repositories import Tally

__all__ = ["SqlAlchemySubscriptionRepository"]


class SqlAlchemySubscriptionRepository:
    """Implements ``SubscriptionRepository``."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, payment: SubscriptionPayment) -> SubscriptionPayment:
        if payment.amount < 0:
            raise InvalidMoneyError("O valor não pode ser negativo.")
        statement = insert(t).values(subscription_payment_values(payment)).returning(t.c.id)
        try:
            async with self._session.begin_nested():
                new_id = (await self._session.execute(statement)).scalar_one()
        except IntegrityError as exc:
            if await self.get_by_mp_id(payment.mp_payment_id) is not None:
                raise ConflictError(
                    f"O pagamento {payment.mp_payment_id} do Mercado Pago já foi registrado."
                ) from exc
            if not await account_exists(self._session, payment.account_id):
                raise AccountNotFoundError(f"Conta {payment.account_id} não encontrada.") from exc
            raise ConflictError(f"O pagamento não pôde ser gravado: {exc.orig}") from exc
        return evolve(payment, id=new_id)

    async def get_by_mp_id(self, mp_payment_id: str) -> SubscriptionPayment | None:
        query = select(t).where(t.c.mp_payment_id == mp_payment_id)
        row = (await self._session.execute(query)).mappings().first()
        return None if row is None else subscription_payment_from_row(row)

    async def update(self, payment: SubscriptionPayment) -> None:
        """Status, QR code, approval time, applied flag and amount; raises NotFoundError."""
        if payment.id is None:
            raise NotFoundError("Pagamento sem id.")
        values = subscription_payment_values(payment)
        for fixed in ("account_id", "mp_payment_id", "created_at"):
            del values[fixed]
        statement = (
            update(t)
            .where(t.c.id == payment.id, t.c.account_id == payment.account_id)
            .values(values)
        )
        if rowcount(await self._session.execute(statement)) == 0:
            raise NotFoundError(f"Pagamento {payment.id} não encontrado.")

    async def list_for_account(self, account_id: int) -> Sequence[SubscriptionPayment]:
        query = (
            select(t)
            .where(t.c.account_id == account_id)
            .order_by(t.c.created_at.desc(), t.c.id.desc())
        )
        rows = (await self._session.execute(query)).mappings()
        return [subscription_payment_from_row(row) for row in rows]

    async def approved_between(self, start: datetime, end: datetime) -> Tally:
        # Whole cents, as in payments: SQLite would add the amounts up as floats.
        cents = func.coalesce(func.sum(cast(func.round(t.c.amount * 100), BigInteger)), 0)
        query = select(func.count(), cents).where(
            t.c.status == SubscriptionStatus.APPROVED.value,
            t.c.approved_at >= as_utc(start),
            t.c.approved_at < as_utc(end),
        )
        count, total = (await self._session.execute(query)).one()
        return Tally(int(count), (Decimal(int(total)) / 100).quantize(CENT))

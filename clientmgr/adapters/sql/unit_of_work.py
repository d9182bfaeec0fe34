"""The SQL unit of work: one AsyncSession (one transaction) shared by all repositories."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clientmgr.adapters.sql.repositories import (
    SqlAlchemyAccountRepository,
    SqlAlchemyAuditRepository,
    SqlAlchemyClientRepository,
    SqlAlchemyOutboxRepository,
    SqlAlchemyPaymentRepository,
    SqlAlchemySubscriptionRepository,
    SqlAlchemyTemplateRepository,
)

__all__ = ["SqlAlchemyUnitOfWork", "sql_unit_of_work_factory"]


class SqlAlchemyUnitOfWork:
    """Implements ``UnitOfWork``: ``async with uow: ...; await uow.commit()``.

    Leaving the block without ``commit()`` rolls back. The UoW may commit several times;
    each commit ends one transaction and the next statement starts another.
    """

    accounts: SqlAlchemyAccountRepository
    clients: SqlAlchemyClientRepository
    payments: SqlAlchemyPaymentRepository
    templates: SqlAlchemyTemplateRepository
    outbox: SqlAlchemyOutboxRepository
    subscriptions: SqlAlchemySubscriptionRepository
    audit: SqlAlchemyAuditRepository

    def __init__(self, session_factory: async_sessionmaker[AsyncSession]) -> None:
        self._session_factory = session_factory
        self._session: AsyncSession | None = None

    @property
    def session(self) -> AsyncSession:
        """The open session, for adapters that need SQL beyond the repositories."""
        if self._session is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._session

    async def __aenter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already open")
        session = self._session_factory()
        self._session = session
        self.accounts = SqlAlchemyAccountRepository(session)
        self.clients = SqlAlchemyClientRepository(session)
        self.payments = SqlAlchemyPaymentRepository(session)
        self.templates = SqlAlchemyTemplateRepository(session)
        self.outbox = SqlAlchemyOutboxRepository(session)
        self.subscriptions = SqlAlchemySubscriptionRepository(session)
        self.audit = SqlAlchemyAuditRepository(session)
        return self

    async def __aexit__(self, *exc: object) -> None:
        session, self._session = self.session, None
        try:
            await session.rollback()
        finally:
            await session.close()

    async def commit(self) -> None:
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()


def sql_unit_of_work_factory(
    session_factory: async_sessionmaker[AsyncSession],
) -> Callable[[], SqlAlchemyUnitOfWork]:
    """A ``UnitOfWorkFactory``: each call gives a fresh, unopened unit of work."""

    def unit_of_work() -> SqlAlchemyUnitOfWork:
        return SqlAlchemyUnitOfWork(session_factory)

    return unit_of_work

"""The in-memory unit of work: a transaction on an ``InMemoryStore``, committed or thrown away."""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from clientmgr.adapters.memory.repositories import (
    InMemoryAccountRepository,
    InMemoryAuditRepository,
    InMemoryClientRepository,
    InMemoryOutboxRepository,
    InMemoryPaymentRepository,
    InMemorySubscriptionRepository,
    InMemoryTemplateRepository,
)

if TYPE_CHECKING:
    from clientmgr.adapters.memory.store import InMemoryStore, Transaction

__all__ = ["InMemoryUnitOfWork"]


class InMemoryUnitOfWork:
    """Implements ``UnitOfWork``; changes are seen by other units of work only after ``commit()``.

    Like the SQL one it may commit several times; each commit starts a new transaction on
    the latest committed state.
    """

    def __init__(self, store: InMemoryStore) -> None:
        self._store = store
        self._transaction: Transaction | None = None
        self.accounts = InMemoryAccountRepository(self._current)
        self.clients = InMemoryClientRepository(self._current)
        self.payments = InMemoryPaymentRepository(self._current)
        self.templates = InMemoryTemplateRepository(self._current)
        self.outbox = InMemoryOutboxRepository(self._current)
        self.subscriptions = InMemorySubscriptionRepository(self._current)
        self.audit = InMemoryAuditRepository(self._current)

    def _current(self) -> Transaction:
        if self._transaction is None:
            raise RuntimeError("the unit of work is not open: use `async with uow:`")
        return self._transaction

    async def __aenter__(self) -> Self:
        if self._transaction is not None:
            raise RuntimeError("this unit of work is already open")
        self._transaction = self._store.begin()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._transaction = None

    async def commit(self) -> None:
        self._store.commit(self._current())
        self._transaction = self._store.begin()

    async def rollback(self) -> None:
        self._current()
        self._transaction = self._store.begin()

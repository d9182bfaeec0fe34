"""Committed in-memory state and the transactions that read and change it.

A transaction starts on a snapshot of the committed tables (no copy: committed tables are
never changed in place) and copies a table the first time it writes to it, so nothing it
does is visible elsewhere until commit. Commit swaps the copies in when nobody committed
meanwhile; otherwise it replays this transaction's row changes onto the newer state and
re-checks the unique indexes, like a database would, instead of losing the other commit.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from clientmgr.errors import ConflictError

if TYPE_CHECKING:
    from clientmgr.adapters.memory.unit_of_work import InMemoryUnitOfWork

__all__ = ["InMemoryStore", "Table", "Transaction", "UniqueViolation"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")

UniqueKey = Callable[[Any], Hashable | None]
"""Gives a row's key in a unique index, or None when the row is not in the index."""


class UniqueViolation(Exception):
    """Internal: a row collides in a unique index with the row ``holder``."""

    def __init__(self, index: str, holder: Hashable) -> None:
        self.index = index
        self.holder = holder
        super().__init__(f"unique index {index} already holds {holder!r}")


class Table(Generic[K, V]):
    """Rows by primary key, plus unique indexes kept in step with them."""

    def __init__(self, uniques: Mapping[str, UniqueKey] | None = None) -> None:
        self.rows: dict[K, V] = {}
        self._uniques: Mapping[str, UniqueKey] = uniques or {}
        self._indexes: dict[str, dict[Hashable, K]] = {name: {} for name in self._uniques}

    def copy(self) -> Table[K, V]:
        twin: Table[K, V] = Table(self._uniques)
        twin.rows = dict(self.rows)
        twin._indexes = {name: dict(index) for name, index in self._indexes.items()}
        return twin

    def __iter__(self) -> Iterator[V]:
        return iter(self.rows.values())

    def get(self, key: K) -> V | None:
        return self.rows.get(key)

    def holder(self, index: str, key: Hashable) -> K | None:
        """Primary key of the row holding ``key`` in the unique index ``index``."""
        return self._indexes[index].get(key)

    def put(self, key: K, row: V) -> None:
        """Insert or replace; raises UniqueViolation (changing nothing) on a collision."""
        for name, unique_key in self._uniques.items():
            value = unique_key(row)
            holder = None if value is None else self._indexes[name].get(value)
            if holder is not None and holder != key:
                raise UniqueViolation(name, holder)
        self.remove(key)
        for name, unique_key in self._uniques.items():
            value = unique_key(row)
            if value is not None:
                self._indexes[name][value] = key
        self.rows[key] = row

    def remove(self, key: K) -> None:
        old = self.rows.pop(key, None)
        if old is None:
            return
        for name, unique_key in self._uniques.items():
            value = unique_key(old)
            if value is not None and self._indexes[name].get(value) == key:
                del self._indexes[name][value]

    def merged(self, base: Table[K, V], work: Table[K, V]) -> Table[K, V]:
        """This table with the changes that turned ``base`` into ``work`` applied on top."""
        result = self.copy()
        for key, row in work.rows.items():
            if base.rows.get(key) is not row:
                result.put(key, row)
        for key in base.rows.keys() - work.rows.keys():
            result.remove(key)
        return result


def _empty_tables() -> dict[str, Table[Any, Any]]:
    return {
        "accounts": Table({"telegram_id": lambda a: a.telegram_id}),
        "clients": Table({"phone": lambda c: (c.account_id, c.phone)}),
        "payments": Table(
            {
                "idempotency_key": lambda p: (
                    None if p.idempotency_key is None else (p.account_id, p.idempotency_key)
                )
            }
        ),
        "templates": Table(),
        "outbox": Table({"dedupe_key": lambda m: m.dedupe_key}),
        "subscriptions": Table({"mp_payment_id": lambda s: s.mp_payment_id}),
        "audit": Table(),
        "wa_pacing": Table(),
        "outbox_lease_owner": Table(),  # outbox id → the claim holding it (SQL's lease_owner)
    }


class Transaction:
    """One unit of work's view: the snapshot it began on plus its own copies of changed tables."""

    def __init__(self, store: InMemoryStore, version: int, base: dict[str, Table[Any, Any]]):
        self.store = store
        self.version = version
        self.base = base
        self.written: dict[str, Table[Any, Any]] = {}

    def read(self, name: str) -> Table[Any, Any]:
        table = self.written.get(name)
        return self.base[name] if table is None else table

    def write(self, name: str) -> Table[Any, Any]:
        if name not in self.written:
            self.written[name] = self.base[name].copy()
        return self.written[name]

    def fresh(self, name: str) -> dict[Any, Any]:
        """The rows as committed right now, with this transaction's own changes on top.

        What a SQL ``UPDATE … WHERE`` or ``SELECT … FOR UPDATE`` sees under READ COMMITTED,
        rather than the snapshot this transaction began on: the dispatcher's claims must
        not take a row another unit of work claimed since. Read-only: write through
        ``write(name)``, whose changes commit row by row on top of newer commits.
        """
        committed = self.store.committed(name)
        written = self.written.get(name)
        if written is None:
            return dict(committed.rows)
        base = self.base[name]
        rows = dict(committed.rows)
        for key, row in written.rows.items():
            if base.rows.get(key) is not row:
                rows[key] = row
        for key in base.rows.keys() - written.rows.keys():
            rows.pop(key, None)
        return rows


class InMemoryStore:
    """The committed data of one in-memory "database"; share one store between unit of works."""

    def __init__(self) -> None:
        self._tables = _empty_tables()
        self._version = 0
        # Like database sequences: ids are never reused, also after a rollback.
        self._ids: dict[str, itertools.count[int]] = {
            name: itertools.count(1) for name in self._tables
        }

    def unit_of_work(self) -> InMemoryUnitOfWork:
        """A fresh unit of work on this store (this bound method is a ``UnitOfWorkFactory``)."""
        from clientmgr.adapters.memory.unit_of_work import InMemoryUnitOfWork

        return InMemoryUnitOfWork(self)

    def committed(self, name: str) -> Table[Any, Any]:
        """The table as last committed (never changed in place: treat as read-only)."""
        return self._tables[name]

    def next_id(self, table: str) -> int:
        return next(self._ids[table])

    def begin(self) -> Transaction:
        return Transaction(self, self._version, dict(self._tables))

    def commit(self, tx: Transaction) -> None:
        """Publish ``tx``'s changes; raises ConflictError if they collide with a newer commit."""
        if not tx.written:
            return
        if tx.version == self._version:
            self._tables.update(tx.written)
        else:
            try:
                merged = {
                    name: self._tables[name].merged(tx.base[name], table)
                    for name, table in tx.written.items()
                }
            except UniqueViolation as exc:
                raise ConflictError(
                    f"Outra operação gravou o mesmo dado ao mesmo tempo ({exc.index})."
                ) from exc
            self._tables.update(merged)
        self._version += 1

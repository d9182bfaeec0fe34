"""Locks that let one scheduler replica at a time run a job: PostgreSQL advisory locks.

Every replica runs the same APScheduler jobs (``clientmgr.adapters.worker.scheduler``); before a
job runs, its runner takes ``hold(job name)``. On PostgreSQL that is
``pg_try_advisory_lock(key)`` on a connection of its own, held while the job runs and
released with ``pg_advisory_unlock`` after it: the replica that gets it runs the job, the
others find it taken and skip that tick at once (``try``: nobody waits). The key is a
64-bit hash of ``clientmgr:<job name>``, so it cannot meet another application's locks by
accident, and the lock belongs to the database, so replicas on different hosts share it.

The lock connection runs in autocommit (a session-level advisory lock outlives
transactions, and an idle open transaction for the length of a job would hold back
vacuum). If the unlock cannot be sent (the connection broke, the task was cancelled) the
connection is invalidated instead of returned to the pool: PostgreSQL drops a dead
session's locks, whereas a pooled connection would keep the lock held for good.

SQLite and the in-memory store serve one process only (a SQLite file cannot be shared by
replicas on several hosts), so ``NoopJobLocks`` always grants the lock: there is nobody
to exclude. ``job_locks_for(engine)`` picks by dialect.

A lock stops two replicas from running a job *at the same time*; it does not by itself
stop a replica whose tick fires later from running the job again once the first one has
finished. The job runner therefore also records, under the lock, which tick it last ran
(see ``clientmgr.adapters.worker.scheduler``).
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clientmgr.ports.locks import JobLocks

__all__ = ["NoopJobLocks", "PostgresJobLocks", "job_locks_for", "lock_key"]

NAMESPACE = "clientmgr"


def lock_key(name: str) -> int:
    """The advisory lock key of ``name``: a signed 64-bit hash (PostgreSQL's bigint)."""
    digest = hashlib.blake2b(f"{NAMESPACE}:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


class NoopJobLocks:
    """Always granted: SQLite and in-memory storage serve a single process (see above)."""

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        yield True


class PostgresJobLocks:
    """``pg_try_advisory_lock`` per job name, each held on a connection of ``engine``.

    Give it an engine whose pool has room for one connection per job that may run at the
    same time (the default pool of ``create_engine`` does for the scheduler's few jobs).
    """

    def __init__(self, engine: AsyncEngine) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError(f"advisory locks need PostgreSQL, not {engine.dialect.name}")
        self._engine = engine

    @asynccontextmanager
    async def hold(self, name: str) -> AsyncIterator[bool]:
        key = lock_key(name)
        connection = await self._engine.connect()
        try:
            await connection.execution_options(isolation_level="AUTOCOMMIT")
            taken = await connection.scalar(select(func.pg_try_advisory_lock(key)))
        except BaseException:
            await _discard(connection)
            raise
        if not taken:
            await connection.close()
            yield False
            return
        try:
            yield True
        finally:
            await _unlock(connection, key)


async def _unlock(connection: AsyncConnection, key: int) -> None:
    try:
        await connection.scalar(select(func.pg_advisory_unlock(key)))
    except BaseException:
        await _discard(connection)
        raise
    await connection.close()


async def _discard(connection: AsyncConnection) -> None:
    """Close the session itself, not just hand it back: its locks die with it."""
    try:
        await connection.invalidate()
    finally:
        await connection.close()


def job_locks_for(engine: AsyncEngine | None) -> JobLocks:
    """Advisory locks on PostgreSQL; a lock that is always granted otherwise (SQLite, or no
    engine at all for in-memory storage)."""
    if engine is not None and engine.dialect.name == "postgresql":
        return PostgresJobLocks(engine)
    return NoopJobLocks()

"""Job locks: what lets one scheduler replica at a time run a job.

The scheduler takes ``hold(job name)`` before each job; the PostgreSQL adapter answers with
an advisory lock, SQLite and memory (one process) with a lock that is always granted
(``clientmgr.adapters.sql.locks``).
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

__all__ = ["JobLocks"]


class JobLocks(Protocol):
    def hold(self, name: str) -> AbstractAsyncContextManager[bool]:
        """Try to take the lock ``name`` without waiting: the block gets True when this
        caller holds it (released when the block ends), False when someone else does."""
        ...

"""Helpers the end-to-end tests import (kept out of conftest.py: its module name is not unique)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

__all__ = ["ROOT", "TEST_DATABASE_URL", "run_cli", "throwaway_postgres"]

ROOT = Path(__file__).resolve().parents[2]
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(TEST_DATABASE_URL, timeout=10)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """An empty PostgreSQL database, dropped afterwards; unreachable fails the test, never
    skips it."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    problem = None
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # asyncpg raises several unrelated classes
        problem = repr(exc)
    if problem is not None:
        pytest.fail(
            f"PostgreSQL at {TEST_DATABASE_URL} is unreachable ({problem}); start it with "
            "`pg_ctlcluster --skip-systemctl-redirect 15 main start` or set TEST_DATABASE_URL.",
            pytrace=False,
        )
    try:
        yield f"{TEST_DATABASE_URL.rsplit('/', 1)[0]}/{name}"
    finally:
        asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def run_cli(
    *args: str, url: str, cwd: Path | None = None, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real ``clientmgr`` command in a child process."""
    env = {**os.environ, "DATABASE_URL": url, "LOG_FORMAT": "text"}
    return subprocess.run(
        [sys.executable, "-m", "runners.cli", *args],
        cwd=cwd or ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        input=stdin.decode() if stdin else None,
        check=False,
    )

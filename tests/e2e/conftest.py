"""End-to-end fixtures: real processes against a SQLite file and a throwaway PostgreSQL database."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Iterator

import pytest

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


async def _admin(sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(TEST_DATABASE_URL)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database of each kind; PostgreSQL unreachable fails the test, never skips it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'e2e.db'}"
        return
    name = f"cm_e2e_{uuid.uuid4().hex[:10]}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except (OSError, Exception) as exc:  # asyncpg raises several unrelated classes
        pytest.fail(
            f"PostgreSQL at {TEST_DATABASE_URL} is unreachable ({exc!r}); start it with "
            "`pg_ctlcluster --skip-systemctl-redirect 15 main start` or set "
            "TEST_DATABASE_URL."
        )
    base = TEST_DATABASE_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def bot(database_url):
    """The real bot on the emulator over each database (see bot_harness.BotHarness)."""
    from bot_harness import BotHarness

    async with BotHarness(database_url) as harness:
        yield harness

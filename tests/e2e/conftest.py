"""End-to-end fixtures: real processes against a SQLite file and a throwaway PostgreSQL database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from cli_support import throwaway_postgres


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path) -> Iterator[str]:
    """An empty database of each kind; PostgreSQL unreachable fails the test, never skips it."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'e2e.db'}"
        return
    with throwaway_postgres("cm_e2e") as url:
        yield url


@pytest.fixture
async def bot(database_url):
    """The real bot on the emulator over each database (see bot_harness.BotHarness)."""
    from bot_harness import BotHarness

    async with BotHarness(database_url) as harness:
        yield harness

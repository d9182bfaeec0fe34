"""Unit-test fixtures: use cases run on the in-memory adapters and a clock that moves when told."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from clientmgr.adapters.memory import InMemoryStore
from clientmgr.ports.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    # 10:00 in São Paulo on a Wednesday
    return ManualClock(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))


@pytest.fixture
def uow_factory():
    return InMemoryStore().unit_of_work

"""The clock port: use cases ask it for "now" so tests and the playground can move time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol

__all__ = ["Clock", "SystemClock"]


class Clock(Protocol):
    def now(self) -> datetime:
        """Timezone-aware UTC."""


class SystemClock:
    """The real time (pure stdlib, so it lives beside the port)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

"""The correlation id of the work in progress (an update, a job, a webhook), via contextvars."""

from __future__ import annotations

import uuid
from contextvars import ContextVar

__all__ = ["correlation_id", "current_correlation_id", "new_correlation_id"]

correlation_id: ContextVar[str | None] = ContextVar("correlation_id", default=None)


def new_correlation_id() -> str:
    """Start a new unit of work: a short random id, set for the current context."""
    value = uuid.uuid4().hex[:16]
    correlation_id.set(value)
    return value


def current_correlation_id() -> str | None:
    return correlation_id.get()

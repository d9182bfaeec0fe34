"""Who did what to which entity, when, under which correlation id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from attrs import field, frozen

__all__ = ["AuditEvent"]


@frozen
class AuditEvent:
    action: str
    entity: str
    created_at: datetime
    account_id: int | None = None
    entity_id: str | None = None
    actor: str = "system"
    correlation_id: str | None = None
    data: dict[str, Any] = field(factory=dict)
    id: int | None = None

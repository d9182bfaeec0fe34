"""Message templates as entities: one text per account and kind (see ``rendering``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from attrs import frozen

__all__ = ["Template", "TemplateKind"]


class TemplateKind(StrEnum):
    """What a message is for."""

    BEFORE_DUE = "before_due"
    DUE_TODAY = "due_today"
    OVERDUE = "overdue"
    RECEIPT = "receipt"
    CUSTOM = "custom"


@frozen
class Template:
    """A seller's own text for one kind; absent kinds fall back to the built-in default."""

    account_id: int
    kind: TemplateKind
    text: str
    updated_at: datetime

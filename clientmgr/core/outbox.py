"""One WhatsApp message waiting to be sent, and its life from queued to read."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from attrs import frozen

from clientmgr.core.templates import TemplateKind

__all__ = ["OutboxMessage", "OutboxStatus", "dedupe_key"]


class OutboxStatus(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    CANCELLED = "cancelled"


def dedupe_key(account_id: int, client_id: int, kind: str, due: date, offset: int) -> str:
    """Planning the same reminder twice must produce one row: this key is UNIQUE in storage."""
    return f"{account_id}:{client_id}:{kind}:{due.isoformat()}:{offset}"


@frozen
class OutboxMessage:
    account_id: int
    to: str
    text: str
    kind: TemplateKind
    dedupe_key: str
    created_at: datetime
    next_attempt_at: datetime
    client_id: int | None = None
    status: OutboxStatus = OutboxStatus.QUEUED
    attempts: int = 0
    lease_until: datetime | None = None
    last_error: str | None = None
    provider_message_id: str | None = None
    sent_at: datetime | None = None
    id: int | None = None

"""A payment a client made to the seller, and the period it covers."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

from attrs import frozen

__all__ = ["Payment", "PaymentMethod"]


class PaymentMethod(StrEnum):
    PIX = "pix"
    CASH = "cash"
    TRANSFER = "transfer"
    OTHER = "other"


@frozen
class Payment:
    """Recorded once per ``idempotency_key``; ``periods`` cycles from ``period_start``."""

    account_id: int
    client_id: int
    amount: Decimal
    paid_at: datetime
    method: PaymentMethod
    period_start: date
    period_end: date
    periods: int = 1
    idempotency_key: str | None = None
    id: int | None = None

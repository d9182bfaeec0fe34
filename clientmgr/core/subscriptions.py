"""The seller's own subscription charges (R$ 20,00 a month by PIX through Mercado Pago)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from attrs import frozen

__all__ = ["MONTHLY_PRICE", "SubscriptionPayment", "SubscriptionStatus"]

MONTHLY_PRICE = Decimal("20.00")


class SubscriptionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


@frozen
class SubscriptionPayment:
    """One Mercado Pago PIX charge; ``applied`` makes the month extension happen once."""

    account_id: int
    mp_payment_id: str
    amount: Decimal
    created_at: datetime
    status: SubscriptionStatus = SubscriptionStatus.PENDING
    qr_code: str | None = None
    approved_at: datetime | None = None
    applied: bool = False
    id: int | None = None

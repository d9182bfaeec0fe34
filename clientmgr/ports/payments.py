"""The payment port: PIX charges through the operator's Mercado Pago account.

It serves the sellers' own R$ 20,00 subscription, not their clients (those pay the seller
directly by a static BR Code). What every implementation promises (held by
``tests/contract/test_payment_gateway.py``):

- ``create_pix_payment`` with an ``idempotency_key`` already used answers the payment that
  key created (Mercado Pago's ``X-Idempotency-Key``) instead of charging twice.
- ``get_payment`` is the only truth about a payment: a webhook body is just a hint to call
  it. An id the gateway does not know raises PaymentNotFoundError.
- Statuses are folded into five (``SubscriptionStatus``): Mercado Pago's ``pending``,
  ``in_process`` and ``authorized`` are PENDING; ``approved`` is APPROVED; ``rejected`` is
  REJECTED; ``cancelled`` with ``status_detail="expired"`` is EXPIRED, any other
  ``cancelled``, ``refunded`` or ``charged_back`` is CANCELLED.
- Errors: PaymentGatewayUnavailableError (transient: nothing is known, try later),
  PaymentGatewayError (the request was refused), PaymentNotFoundError.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Protocol

from attrs import frozen

from clientmgr.core.subscriptions import SubscriptionStatus

__all__ = ["PaymentGateway", "PixPayment"]


@frozen
class PixPayment:
    """A PIX payment as the gateway reports it.

    ``qr_code`` is the "copia e cola" text (draw it as the QR; ``qr_code_base64`` is the
    gateway's own PNG when it gives one). ``external_reference`` is what the creator put
    there (``"<account id>:<YYYY-MM>"`` for subscriptions), so an approval can be matched
    to its account without trusting anything but the gateway. ``approved_at`` is set once
    approved.
    """

    mp_payment_id: str
    status: SubscriptionStatus
    amount: Decimal
    external_reference: str
    qr_code: str
    expires_at: datetime
    qr_code_base64: str | None = None
    approved_at: datetime | None = None


class PaymentGateway(Protocol):
    async def create_pix_payment(
        self,
        *,
        amount: Decimal,
        description: str,
        payer_email: str | None,
        external_reference: str,
        idempotency_key: str,
        expires_at: datetime,
    ) -> PixPayment:
        """A new PENDING PIX charge of ``amount`` payable until ``expires_at`` (aware).

        The same ``idempotency_key`` answers the payment it first created. Without
        ``payer_email`` the implementation uses the operator's fallback payer address
        (Mercado Pago requires one). Raises PaymentGatewayError on an amount that is not
        positive.
        """

    async def get_payment(self, mp_payment_id: str) -> PixPayment:
        """The payment as it is now; raises PaymentNotFoundError for an unknown id."""

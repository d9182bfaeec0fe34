"""A simulated Mercado Pago for PIX charges, in memory.

``InMemoryPaymentGateway`` implements ``PaymentGateway`` for unit tests and the offline
playground and is held by the same contract suite as the real Mercado Pago adapter. The
controls ``approve``, ``reject``, ``cancel`` and ``expire`` play the payer and Mercado Pago;
``down`` makes every call fail as if the API were unreachable.

The "copia e cola" is a real static BR Code (built by ``clientmgr.core.pix`` for the
operator's key, the amount and a txid naming the payment), so the bot draws a QR that any
banking app decodes, even though nothing is ever paid. Given a ``clock``, a pending charge
past its ``expires_at`` reads as EXPIRED, as Mercado Pago cancels it then.
"""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, datetime
from decimal import Decimal

from attrs import evolve

from clientmgr.core.pix import PixCharge, build_brcode
from clientmgr.core.subscriptions import SubscriptionStatus
from clientmgr.errors import (
    PaymentGatewayError,
    PaymentGatewayUnavailableError,
    PaymentNotFoundError,
)
from clientmgr.ports.clock import Clock
from clientmgr.ports.payments import PixPayment

__all__ = ["InMemoryPaymentGateway"]

_PLAYGROUND_KEY = "7d9f0335-8dcc-4054-9bf9-0dbd61d36906"
"""A random (EVP) PIX key that belongs to nobody: the fake's QR codes decode, never pay."""


class InMemoryPaymentGateway:
    """Implements ``PaymentGateway``; ``payments`` maps id → the payment as it is now."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        pix_key: str = _PLAYGROUND_KEY,
        receiver_name: str = "clientmgr",
        receiver_city: str = "Sao Paulo",
    ) -> None:
        self.down = False
        """While True every port call raises PaymentGatewayUnavailableError."""
        self.payments: dict[str, PixPayment] = {}
        self.descriptions: dict[str, str] = {}
        self.payer_emails: dict[str, str | None] = {}
        self._clock = clock
        self._pix_key = pix_key
        self._receiver_name = receiver_name
        self._receiver_city = receiver_city
        self._by_key: dict[str, str] = {}
        self._ids = itertools.count(1_000_000_001)

    # -- the port -------------------------------------------------------------------

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
        await self._call()
        if not idempotency_key:
            raise PaymentGatewayError("an idempotency key is required")
        existing = self._by_key.get(idempotency_key)
        if existing is not None:
            return self._current(existing)
        if amount <= 0:
            raise PaymentGatewayError(f"the amount must be positive, not {amount}")
        if expires_at.tzinfo is None:
            raise PaymentGatewayError("expires_at must be timezone-aware")
        mp_payment_id = str(next(self._ids))
        charge = PixCharge(
            key=self._pix_key,
            name=self._receiver_name,
            city=self._receiver_city,
            amount=amount,
            txid=f"MP{mp_payment_id}",
        )
        payment = PixPayment(
            mp_payment_id=mp_payment_id,
            status=SubscriptionStatus.PENDING,
            amount=amount.quantize(Decimal("0.01")),
            external_reference=external_reference,
            qr_code=build_brcode(charge),
            expires_at=expires_at.astimezone(UTC),
        )
        self.payments[mp_payment_id] = payment
        self.descriptions[mp_payment_id] = description
        self.payer_emails[mp_payment_id] = payer_email
        self._by_key[idempotency_key] = mp_payment_id
        return payment

    async def get_payment(self, mp_payment_id: str) -> PixPayment:
        await self._call()
        return self._current(mp_payment_id)

    # -- the other side: the payer and Mercado Pago ---------------------------------

    def approve(self, mp_payment_id: str, *, at: datetime | None = None) -> PixPayment:
        """The payer paid: APPROVED at ``at`` (default: now)."""
        payment = self._pending(mp_payment_id)
        return self._set(
            evolve(payment, status=SubscriptionStatus.APPROVED, approved_at=at or self._now())
        )

    def reject(self, mp_payment_id: str) -> PixPayment:
        return self._set(evolve(self._pending(mp_payment_id), status=SubscriptionStatus.REJECTED))

    def cancel(self, mp_payment_id: str) -> PixPayment:
        return self._set(evolve(self._pending(mp_payment_id), status=SubscriptionStatus.CANCELLED))

    def expire(self, mp_payment_id: str) -> PixPayment:
        """Nobody paid in time (without waiting for the clock)."""
        return self._set(evolve(self._pending(mp_payment_id), status=SubscriptionStatus.EXPIRED))

    # -- internals --------------------------------------------------------------------

    async def _call(self) -> None:
        await asyncio.sleep(0)  # a network call yields; concurrent callers interleave
        if self.down:
            raise PaymentGatewayUnavailableError()

    def _now(self) -> datetime:
        return self._clock.now() if self._clock is not None else datetime.now(UTC)

    def _current(self, mp_payment_id: str) -> PixPayment:
        payment = self.payments.get(mp_payment_id)
        if payment is None:
            raise PaymentNotFoundError(f"Mercado Pago has no payment {mp_payment_id!r}")
        if (
            payment.status is SubscriptionStatus.PENDING
            and self._clock is not None
            and self._clock.now() >= payment.expires_at
        ):
            payment = self._set(evolve(payment, status=SubscriptionStatus.EXPIRED))
        return payment

    def _pending(self, mp_payment_id: str) -> PixPayment:
        payment = self._current(mp_payment_id)
        if payment.status is not SubscriptionStatus.PENDING:
            raise ValueError(f"payment {mp_payment_id} is {payment.status}, not pending")
        return payment

    def _set(self, payment: PixPayment) -> PixPayment:
        self.payments[payment.mp_payment_id] = payment
        return payment

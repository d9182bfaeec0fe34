"""PaymentGateway contract: PIX charges are created once per key, read back, and settle.

Every test runs against each implementation through a *harness*: the gateway plus the means
to play the payer (approve, reject). Only the in-memory fake exists today; the Mercado Pago
SDK adapter against a local fake API plugs in as one more harness in ``HARNESSES`` and
``harness``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import pytest

from clientmgr.adapters.memory import InMemoryPaymentGateway
from clientmgr.core.pix import crc16, parse_brcode
from clientmgr.core.subscriptions import SubscriptionStatus
from clientmgr.errors import (
    PaymentGatewayError,
    PaymentGatewayUnavailableError,
    PaymentNotFoundError,
)
from clientmgr.ports.clock import ManualClock
from clientmgr.ports.payments import PaymentGateway, PixPayment

HARNESSES = ["memory"]

NOW = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


class PaymentHarness(Protocol):
    gateway: PaymentGateway

    async def approve(self, mp_payment_id: str) -> None:
        """The payer paid."""

    async def reject(self, mp_payment_id: str) -> None: ...

    def unavailable(self) -> PaymentGateway:
        """A gateway whose API cannot be reached."""


class MemoryHarness:
    def __init__(self) -> None:
        self.fake = InMemoryPaymentGateway(clock=ManualClock(NOW))
        self.gateway: PaymentGateway = self.fake

    async def approve(self, mp_payment_id: str) -> None:
        self.fake.approve(mp_payment_id)

    async def reject(self, mp_payment_id: str) -> None:
        self.fake.reject(mp_payment_id)

    def unavailable(self) -> PaymentGateway:
        fake = InMemoryPaymentGateway()
        fake.down = True
        return fake


@pytest.fixture(params=HARNESSES)
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[PaymentHarness]:
    if request.param == "memory":
        yield MemoryHarness()
        return
    raise AssertionError(f"no harness {request.param}")


async def create(
    gateway: PaymentGateway, key: str = "sub-1-2026-03-1", **changes: Any
) -> PixPayment:
    values: dict[str, Any] = {
        "amount": Decimal("20.00"),
        "description": "clientmgr - assinatura mensal 2026-03",
        "payer_email": "ana@example.com",
        "external_reference": "1:2026-03",
        "idempotency_key": key,
        "expires_at": NOW + timedelta(minutes=30),
    }
    values.update(changes)
    return await gateway.create_pix_payment(**values)


async def test_a_new_charge_is_pending_with_a_copia_e_cola(harness: PaymentHarness) -> None:
    payment = await create(harness.gateway)
    assert isinstance(payment.mp_payment_id, str)
    assert payment.mp_payment_id
    assert payment.status is SubscriptionStatus.PENDING
    assert payment.amount == Decimal("20.00")
    assert payment.external_reference == "1:2026-03"
    assert abs(payment.expires_at - (NOW + timedelta(minutes=30))) < timedelta(seconds=1)
    assert payment.approved_at is None
    code = payment.qr_code
    assert code.startswith("000201")
    assert code[-4:] == crc16(code[:-4])


async def test_get_payment_reads_it_back(harness: PaymentHarness) -> None:
    created = await create(harness.gateway)
    fetched = await harness.gateway.get_payment(created.mp_payment_id)
    assert fetched.mp_payment_id == created.mp_payment_id
    assert fetched.status is SubscriptionStatus.PENDING
    assert fetched.amount == Decimal("20.00")
    assert fetched.external_reference == "1:2026-03"


async def test_the_same_key_creates_one_charge(harness: PaymentHarness) -> None:
    first = await create(harness.gateway, "sub-1-2026-03-1")
    again = await create(harness.gateway, "sub-1-2026-03-1")
    other = await create(harness.gateway, "sub-1-2026-03-2")
    assert again.mp_payment_id == first.mp_payment_id
    assert other.mp_payment_id != first.mp_payment_id


async def test_the_same_key_answers_the_payment_as_it_is_now(harness: PaymentHarness) -> None:
    first = await create(harness.gateway)
    await harness.approve(first.mp_payment_id)
    again = await create(harness.gateway)
    assert again.mp_payment_id == first.mp_payment_id
    assert again.status is SubscriptionStatus.APPROVED


async def test_without_a_payer_email(harness: PaymentHarness) -> None:
    payment = await create(harness.gateway, payer_email=None)
    assert payment.status is SubscriptionStatus.PENDING


async def test_approval_is_seen_by_get_payment(harness: PaymentHarness) -> None:
    payment = await create(harness.gateway)
    await harness.approve(payment.mp_payment_id)
    approved = await harness.gateway.get_payment(payment.mp_payment_id)
    assert approved.status is SubscriptionStatus.APPROVED
    assert approved.approved_at is not None
    assert approved.approved_at.tzinfo is not None


async def test_rejection_is_seen_by_get_payment(harness: PaymentHarness) -> None:
    payment = await create(harness.gateway)
    await harness.reject(payment.mp_payment_id)
    rejected = await harness.gateway.get_payment(payment.mp_payment_id)
    assert rejected.status is SubscriptionStatus.REJECTED
    assert rejected.approved_at is None


async def test_an_unknown_id_is_not_found(harness: PaymentHarness) -> None:
    with pytest.raises(PaymentNotFoundError):
        await harness.gateway.get_payment("999999999999")
    with pytest.raises(LookupError):
        await harness.gateway.get_payment("forged")


@pytest.mark.parametrize("amount", [Decimal("0"), Decimal("-20.00")])
async def test_a_charge_must_be_positive(harness: PaymentHarness, amount: Decimal) -> None:
    with pytest.raises(PaymentGatewayError):
        await create(harness.gateway, amount=amount)


async def test_an_unreachable_api_is_unavailable(harness: PaymentHarness) -> None:
    gateway = harness.unavailable()
    with pytest.raises(PaymentGatewayUnavailableError):
        await create(gateway)
    with pytest.raises(PaymentGatewayUnavailableError):
        await gateway.get_payment("1")
    with pytest.raises(ConnectionError):
        await gateway.get_payment("1")


# -- the fake's own behaviour (the playground and the unit tests rely on it) ------------


async def test_fake_copia_e_cola_is_a_static_code_for_the_amount() -> None:
    fake = InMemoryPaymentGateway()
    payment = await create(fake)
    charge = parse_brcode(payment.qr_code)
    assert charge.amount == Decimal("20.00")
    assert charge.txid == f"MP{payment.mp_payment_id}"
    assert payment.qr_code_base64 is None
    assert fake.descriptions[payment.mp_payment_id].startswith("clientmgr")
    assert fake.payer_emails[payment.mp_payment_id] == "ana@example.com"


async def test_fake_expires_pending_charges_with_its_clock() -> None:
    clock = ManualClock(NOW)
    fake = InMemoryPaymentGateway(clock=clock)
    payment = await create(fake)
    clock.advance(minutes=29)
    assert (await fake.get_payment(payment.mp_payment_id)).status is SubscriptionStatus.PENDING
    clock.advance(minutes=1)
    assert (await fake.get_payment(payment.mp_payment_id)).status is SubscriptionStatus.EXPIRED
    with pytest.raises(ValueError, match="not pending"):
        fake.approve(payment.mp_payment_id)


async def test_fake_controls_settle_only_pending_charges() -> None:
    fake = InMemoryPaymentGateway()
    payment = await create(fake)
    assert fake.cancel(payment.mp_payment_id).status is SubscriptionStatus.CANCELLED
    with pytest.raises(ValueError, match="not pending"):
        fake.reject(payment.mp_payment_id)
    other = await create(fake, "another-key")
    assert fake.expire(other.mp_payment_id).status is SubscriptionStatus.EXPIRED
    with pytest.raises(PaymentNotFoundError):
        fake.approve("nope")


async def test_fake_approval_time_can_be_chosen() -> None:
    fake = InMemoryPaymentGateway()
    payment = await create(fake)
    at = NOW + timedelta(minutes=3)
    assert fake.approve(payment.mp_payment_id, at=at).approved_at == at


async def test_fake_refuses_a_naive_expiry() -> None:
    with pytest.raises(PaymentGatewayError, match="aware"):
        await create(InMemoryPaymentGateway(), expires_at=datetime(2026, 3, 4, 13, 30))

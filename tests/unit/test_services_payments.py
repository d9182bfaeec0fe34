"""Recording payments: due dates advance by whole cycles, once per key, reminders cancelled."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.payments import PaymentMethod
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import ClientNotFoundError, InvalidInputError
from clientmgr.services import accounts, clients, payments


@pytest.fixture
async def client(uow_factory, clock):
    acc, _ = await accounts.register_account(uow_factory, clock, 42, "Ana")
    return await clients.add_client(
        uow_factory,
        clock,
        acc.id,
        clients.AddClient(
            name="Maria", phone="+5511988887777", price=Decimal("35.90"), due_date=date(2026, 1, 31)
        ),
    )


async def test_paying_advances_one_month_with_clamping(uow_factory, clock, client):
    done = await payments.record_payment(
        uow_factory, clock, client.account_id, payments.RecordPayment(client_id=client.id)
    )
    assert done.client.due_date == date(2026, 2, 28)
    assert done.payment.amount == Decimal("35.90")
    assert (done.payment.period_start, done.payment.period_end) == (
        date(2026, 1, 31),
        date(2026, 2, 28),
    )
    again = await payments.record_payment(
        uow_factory, clock, client.account_id, payments.RecordPayment(client_id=client.id)
    )
    assert again.client.due_date == date(2026, 3, 31)


async def test_paying_three_periods_charges_three_times(uow_factory, clock, client):
    done = await payments.record_payment(
        uow_factory,
        clock,
        client.account_id,
        payments.RecordPayment(client_id=client.id, periods=3, method=PaymentMethod.CASH),
    )
    assert done.client.due_date == date(2026, 4, 30)
    assert done.payment.amount == Decimal("107.70")


async def test_same_key_records_once(uow_factory, clock, client):
    cmd = payments.RecordPayment(client_id=client.id, idempotency_key="tap-1")
    first = await payments.record_payment(uow_factory, clock, client.account_id, cmd)
    second = await payments.record_payment(uow_factory, clock, client.account_id, cmd)
    assert second.already_recorded
    assert second.payment.id == first.payment.id
    assert second.client.due_date == date(2026, 2, 28)
    history = await payments.list_payments(uow_factory, client.account_id, client.id)
    assert len(history) == 1


async def test_payment_cancels_queued_reminders(uow_factory, clock, client):
    now = datetime(2026, 1, 28, 12, tzinfo=UTC)
    async with uow_factory() as uow:
        msg = await uow.outbox.add(
            OutboxMessage(
                account_id=client.account_id,
                client_id=client.id,
                to=client.phone,
                text="Oi",
                kind=TemplateKind.BEFORE_DUE,
                dedupe_key="k1",
                created_at=now,
                next_attempt_at=now,
            )
        )
        await uow.commit()
    await payments.record_payment(
        uow_factory, clock, client.account_id, payments.RecordPayment(client_id=client.id)
    )
    async with uow_factory() as uow:
        assert (await uow.outbox.get(client.account_id, msg.id)).status is OutboxStatus.CANCELLED


@pytest.mark.parametrize("cmd", [{"periods": 0}, {"periods": 25}, {"amount": Decimal("-1")}])
async def test_bad_payment_is_refused_and_due_date_kept(uow_factory, clock, client, cmd):
    with pytest.raises(InvalidInputError):
        await payments.record_payment(
            uow_factory,
            clock,
            client.account_id,
            payments.RecordPayment(client_id=client.id, **cmd),
        )
    assert (await clients.get_client(uow_factory, client.account_id, client.id)).due_date == date(
        2026, 1, 31
    )


async def test_cannot_pay_for_another_accounts_client(uow_factory, clock, client):
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    with pytest.raises(ClientNotFoundError):
        await payments.record_payment(
            uow_factory, clock, other.id, payments.RecordPayment(client_id=client.id)
        )

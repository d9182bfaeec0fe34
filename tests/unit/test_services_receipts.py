"""Receipts: the seller's receipt text for the payment paid, one message per payment, refusals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from attrs import evolve

from clientmgr.core.outbox import OutboxStatus
from clientmgr.core.payments import PaymentMethod
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import (
    AccountExpiredError,
    ClientArchivedError,
    ClientNotFoundError,
    ClientOptedOutError,
    ClientPausedError,
    NotFoundError,
)
from clientmgr.services import accounts, clients, payments, receipts, templates

TODAY = date(2026, 3, 4)  # the clock fixture: 10:00 in São Paulo


@pytest.fixture
async def account(uow_factory, clock):
    acc, _ = await accounts.register_account(uow_factory, clock, 42, "Ana")
    return await accounts.update_profile(uow_factory, clock, acc.id, business_name="Ana Fitness")


async def add(uow_factory, clock, account_id, phone="+5511988887777", **flags):
    client = await clients.add_client(
        uow_factory,
        clock,
        account_id,
        clients.AddClient(
            name="Maria <b>", phone=phone, price=Decimal("35.90"), due_date=date(2026, 3, 10)
        ),
    )
    if flags:
        client = evolve(client, **flags)
        async with uow_factory() as uow:
            await uow.clients.update(client)
            await uow.commit()
    return client


async def pay(uow_factory, clock, account_id, client, periods=1, key="k1"):
    recorded = await payments.record_payment(
        uow_factory,
        clock,
        account_id,
        payments.RecordPayment(
            client_id=client.id,
            periods=periods,
            method=PaymentMethod.CASH,
            idempotency_key=key,
        ),
    )
    return recorded.payment


async def outbox(uow_factory, client):
    async with uow_factory() as uow:
        return list(await uow.outbox.list_for_client(client.account_id, client.id))


async def test_receipt_renders_the_default_text_for_the_payment(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id)
    payment = await pay(uow_factory, clock, account.id, client, periods=2)
    message = await receipts.queue_receipt(uow_factory, clock, account.id, client.id, payment.id)
    assert message.kind is TemplateKind.RECEIPT
    assert message.to == "+5511988887777"
    assert message.status is OutboxStatus.QUEUED
    assert message.dedupe_key == receipts.receipt_dedupe_key(account.id, payment.id)
    assert message.next_attempt_at == clock.now()
    assert "Maria <b>" in message.text  # values verbatim: WhatsApp is not HTML
    assert "R$ 71,80" in message.text  # two months paid, not the monthly price
    assert "10/05/2026" in message.text  # the due date that payment moved to
    assert "Ana Fitness" in message.text
    assert await outbox(uow_factory, client) == [message]
    async with uow_factory() as uow:
        actions = [e.action for e in await uow.audit.list(account.id)]
    assert "receipt.queued" in actions


async def test_receipt_uses_the_sellers_own_text(uow_factory, clock, account):
    await templates.save_template(
        uow_factory,
        clock,
        account.id,
        TemplateKind.RECEIPT,
        "Recebido {valor} de {nome}. Até {vencimento}! {empresa}",
    )
    client = await add(uow_factory, clock, account.id)
    payment = await pay(uow_factory, clock, account.id, client)
    message = await receipts.queue_receipt(uow_factory, clock, account.id, client.id, payment.id)
    assert message.text == "Recebido R$ 35,90 de Maria <b>. Até 10/04/2026! Ana Fitness"


async def test_an_old_payment_keeps_its_own_values(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id)
    first = await pay(uow_factory, clock, account.id, client, key="a")
    await pay(uow_factory, clock, account.id, client, periods=3, key="b")
    message = await receipts.queue_receipt(uow_factory, clock, account.id, client.id, first.id)
    assert "R$ 35,90" in message.text
    assert "10/04/2026" in message.text


async def test_double_tap_queues_one_receipt(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id)
    payment = await pay(uow_factory, clock, account.id, client)
    first = await receipts.queue_receipt(uow_factory, clock, account.id, client.id, payment.id)
    clock.advance(seconds=5)
    again = await receipts.queue_receipt(uow_factory, clock, account.id, client.id, payment.id)
    assert again == first
    assert len(await outbox(uow_factory, client)) == 1


async def test_expired_account_records_but_cannot_send(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id)
    clock.advance(days=11)  # 7 days of trial + 3 of grace, and then some
    payment = await pay(uow_factory, clock, account.id, client)
    assert payment.id is not None
    with pytest.raises(AccountExpiredError):
        await receipts.queue_receipt(uow_factory, clock, account.id, client.id, payment.id)
    assert await outbox(uow_factory, client) == []


async def test_receipt_queued_before_expiry_is_returned_after(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id)
    payment = await pay(uow_factory, clock, account.id, client)
    first = await receipts.queue_receipt(uow_factory, clock, account.id, client.id, payment.id)
    clock.advance(days=11)
    assert (
        await receipts.queue_receipt(uow_factory, clock, account.id, client.id, payment.id) == first
    )


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        ({"opted_out": True}, ClientOptedOutError),
        ({"archived": True}, ClientArchivedError),
        ({"paused": True}, ClientPausedError),
    ],
)
async def test_clients_who_must_not_be_messaged_are_refused(
    uow_factory, clock, account, flags, error
):
    client = await add(uow_factory, clock, account.id)
    payment = await pay(uow_factory, clock, account.id, client)
    async with uow_factory() as uow:
        await uow.clients.update(evolve(await uow.clients.get(account.id, client.id), **flags))
        await uow.commit()
    with pytest.raises(error) as err:
        await receipts.queue_receipt(uow_factory, clock, account.id, client.id, payment.id)
    assert "Maria" in str(err.value)
    assert await outbox(uow_factory, client) == []


async def test_unknown_payment_or_another_accounts_client(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id)
    other_client = await add(uow_factory, clock, account.id, phone="+5511977776666")
    payment = await pay(uow_factory, clock, account.id, client)
    with pytest.raises(NotFoundError):
        await receipts.queue_receipt(uow_factory, clock, account.id, client.id, 999)
    with pytest.raises(receipts.ReceiptPaymentNotFoundError):  # payment of another client
        await receipts.queue_receipt(uow_factory, clock, account.id, other_client.id, payment.id)
    bia, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    with pytest.raises(ClientNotFoundError):
        await receipts.queue_receipt(uow_factory, clock, bia.id, client.id, payment.id)
    assert await outbox(uow_factory, client) == []

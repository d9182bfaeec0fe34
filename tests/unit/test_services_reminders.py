"""Send a reminder now: the right kind for the day, a wa.me link, one message per tap, refusals."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from attrs import evolve

from clientmgr.core.outbox import OutboxStatus
from clientmgr.core.payments import PaymentMethod
from clientmgr.core.pix import parse_brcode
from clientmgr.core.rendering import DEFAULT_TEMPLATES, RenderContext, render
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import (
    AccountExpiredError,
    ClientArchivedError,
    ClientNotFoundError,
    ClientOptedOutError,
    ClientPausedError,
    ClientUnreachableError,
)
from clientmgr.ports.clock import ManualClock
from clientmgr.services import accounts, clients, payments, reminders, templates

TODAY = date(2026, 3, 4)  # the clock fixture: 10:00 in São Paulo


@pytest.fixture
async def account(uow_factory, clock):
    acc, _ = await accounts.register_account(uow_factory, clock, 42, "Ana")
    return await accounts.update_profile(
        uow_factory,
        clock,
        acc.id,
        business_name="Ana Fitness",
        pix_key="ana@example.com",
        pix_name="Ana Souza",
        pix_city="Sao Paulo",
    )


async def add(uow_factory, clock, account_id, due=TODAY, phone="+5511988887777", **flags):
    client = await clients.add_client(
        uow_factory,
        clock,
        account_id,
        clients.AddClient(name="Maria", phone=phone, price=Decimal("35.90"), due_date=due),
    )
    if flags:
        client = evolve(client, **flags)
        async with uow_factory() as uow:
            await uow.clients.update(client)
            await uow.commit()
    return client


async def outbox(uow_factory, client):
    async with uow_factory() as uow:
        return list(await uow.outbox.list_for_client(client.account_id, client.id))


@pytest.mark.parametrize(
    ("days", "kind"),
    [
        (3, TemplateKind.BEFORE_DUE),
        (1, TemplateKind.BEFORE_DUE),
        (0, TemplateKind.DUE_TODAY),
        (-1, TemplateKind.OVERDUE),
        (-40, TemplateKind.OVERDUE),
    ],
)
async def test_kind_follows_the_due_date(uow_factory, clock, account, days, kind):
    client = await add(uow_factory, clock, account.id, due=TODAY + timedelta(days=days))
    shown = await reminders.preview_reminder(uow_factory, clock, account.id, client.id)
    assert shown.kind is kind
    assert shown.client == client
    pix_code = templates.pix_code_for(account, client.price)
    ctx = RenderContext.for_client(client, account, TODAY, pix_code=pix_code)
    assert shown.text == render(DEFAULT_TEMPLATES[kind], ctx)


async def test_kind_uses_the_sellers_today_late_in_the_evening(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id, due=TODAY)
    evening = ManualClock(datetime(2026, 3, 5, 2, 30, tzinfo=UTC))  # 23:30 on the 4th in BRT
    shown = await reminders.preview_reminder(uow_factory, evening, account.id, client.id)
    assert shown.kind is TemplateKind.DUE_TODAY


async def test_preview_renders_the_sellers_template_with_pix_and_a_wa_me_link(
    uow_factory, clock, account
):
    await templates.save_template(
        uow_factory,
        clock,
        account.id,
        TemplateKind.DUE_TODAY,
        "Oi {nome} & cia, hoje {vencimento}: {valor}\n{pix_copia_e_cola}\n{empresa}",
    )
    client = await add(uow_factory, clock, account.id)
    shown = await reminders.preview_reminder(uow_factory, clock, account.id, client.id)
    first, code, business = shown.text.split("\n")
    assert first == "Oi Maria & cia, hoje 04/03/2026: R$ 35,90"
    assert business == "Ana Fitness"
    assert code == shown.pix_code
    assert parse_brcode(code).amount == Decimal("35.90")
    assert shown.missing == ()
    link = urlsplit(shown.whatsapp_link)
    assert (link.scheme, link.netloc, link.path) == ("https", "wa.me", "/5511988887777")
    assert parse_qs(link.query)["text"] == [shown.text]
    assert " " not in shown.whatsapp_link
    assert "&cia" not in shown.whatsapp_link  # the ampersand is encoded, not a new parameter


async def test_preview_names_what_comes_out_empty(uow_factory, clock):
    bare, _ = await accounts.register_account(uow_factory, clock, 50, "Bia")
    client = await add(uow_factory, clock, bare.id)
    shown = await reminders.preview_reminder(uow_factory, clock, bare.id, client.id)
    assert shown.pix_code is None
    assert shown.missing == ("pix",)  # the default text shows the key; none saved


def test_whatsapp_link_encodes_everything():
    link = reminders.whatsapp_link("+55 (11) 98888-7777", "Olá, Zé! 100% #pago?\n😊")
    assert link == (
        "https://wa.me/5511988887777?text=Ol%C3%A1%2C%20Z%C3%A9%21%20100%25%20%23pago%3F%0A"
        "%F0%9F%98%8A"
    )


async def test_queue_now_inserts_one_message(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id, due=TODAY - timedelta(days=2))
    shown = await reminders.preview_reminder(uow_factory, clock, account.id, client.id)
    message = await reminders.queue_reminder_now(uow_factory, clock, account.id, client.id, "cb-1")
    assert message.id is not None
    assert message.kind is TemplateKind.OVERDUE
    assert message.to == "+5511988887777"
    assert message.text == shown.text
    assert message.dedupe_key == f"now:{account.id}:{client.id}:cb-1"
    assert message.next_attempt_at == clock.now()
    assert message.created_at == clock.now()
    assert message.status is OutboxStatus.QUEUED
    assert message.client_id == client.id
    assert await outbox(uow_factory, client) == [message]
    async with uow_factory() as uow:
        actions = [e.action for e in await uow.audit.list(account.id)]
    assert "reminder.queued" in actions


async def test_double_tap_queues_once(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id)
    first = await reminders.queue_reminder_now(uow_factory, clock, account.id, client.id, "k")
    clock.advance(seconds=1)
    again = await reminders.queue_reminder_now(uow_factory, clock, account.id, client.id, "k")
    assert again == first
    assert len(await outbox(uow_factory, client)) == 1
    other = await reminders.queue_reminder_now(uow_factory, clock, account.id, client.id, "k2")
    assert other.id != first.id
    assert len(await outbox(uow_factory, client)) == 2


async def test_expired_account_cannot_queue_but_can_preview(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id)
    clock.advance(days=11)  # 7 days of trial + 3 of grace, and then some
    with pytest.raises(AccountExpiredError):
        await reminders.queue_reminder_now(uow_factory, clock, account.id, client.id, "k")
    assert await outbox(uow_factory, client) == []
    shown = await reminders.preview_reminder(uow_factory, clock, account.id, client.id)
    assert shown.kind is TemplateKind.OVERDUE


async def test_grace_period_may_still_queue(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id)
    clock.advance(days=8)
    await reminders.queue_reminder_now(uow_factory, clock, account.id, client.id, "k")
    assert len(await outbox(uow_factory, client)) == 1


@pytest.mark.parametrize(
    ("flags", "error"),
    [
        ({"opted_out": True}, ClientOptedOutError),
        ({"archived": True}, ClientArchivedError),
        ({"paused": True}, ClientPausedError),
        ({"opted_out": True, "paused": True}, ClientOptedOutError),
    ],
)
async def test_clients_who_must_not_be_messaged_are_refused(
    uow_factory, clock, account, flags, error
):
    client = await add(uow_factory, clock, account.id, **flags)
    with pytest.raises(error) as err:
        await reminders.queue_reminder_now(uow_factory, clock, account.id, client.id, "k")
    assert isinstance(err.value, ClientUnreachableError)
    assert isinstance(err.value, PermissionError)
    assert err.value.client_id == client.id
    assert "Maria" in str(err.value)
    assert await outbox(uow_factory, client) == []


async def test_another_accounts_client_is_not_found(uow_factory, clock, account):
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    theirs = await add(uow_factory, clock, other.id)
    with pytest.raises(ClientNotFoundError):
        await reminders.preview_reminder(uow_factory, clock, account.id, theirs.id)
    with pytest.raises(ClientNotFoundError):
        await reminders.queue_reminder_now(uow_factory, clock, account.id, theirs.id, "k")
    with pytest.raises(ClientNotFoundError):
        await reminders.client_history(uow_factory, account.id, theirs.id)
    assert await outbox(uow_factory, theirs) == []


async def test_blank_idempotency_key_is_a_bug(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id)
    with pytest.raises(ValueError, match="idempotency_key"):
        await reminders.queue_reminder_now(uow_factory, clock, account.id, client.id, " ")


async def test_history_merges_payments_and_messages_newest_first(uow_factory, clock, account):
    client = await add(uow_factory, clock, account.id, due=TODAY - timedelta(days=1))
    assert await reminders.client_history(uow_factory, account.id, client.id) == []
    queued = await reminders.queue_reminder_now(uow_factory, clock, account.id, client.id, "a")
    clock.advance(hours=1)
    paid = await payments.record_payment(
        uow_factory,
        clock,
        account.id,
        payments.RecordPayment(client_id=client.id, method=PaymentMethod.CASH),
    )
    clock.advance(hours=1)
    sent = await reminders.queue_reminder_now(uow_factory, clock, account.id, client.id, "b")
    async with uow_factory() as uow:
        await uow.outbox.set_status(
            account.id, sent.id, OutboxStatus.SENT, at=clock.now() + timedelta(minutes=5)
        )
        await uow.commit()

    history = await reminders.client_history(uow_factory, account.id, client.id)

    assert [(e.kind, e.status) for e in history] == [
        (reminders.HistoryKind.MESSAGE, "sent"),
        (reminders.HistoryKind.PAYMENT, reminders.PAID),
        (reminders.HistoryKind.MESSAGE, "cancelled"),  # paying cancels the queued reminder
    ]
    assert history[0].at == clock.now() + timedelta(minutes=5)
    assert history[0].message is not None
    assert history[0].message.id == sent.id
    assert history[1].payment == paid.payment
    assert history[1].at == paid.payment.paid_at
    assert history[2].message is not None
    assert history[2].message.id == queued.id
    assert history[2].at == queued.created_at
    limited = await reminders.client_history(uow_factory, account.id, client.id, limit=2)
    assert limited == history[:2]

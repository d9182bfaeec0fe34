"""Operator stats and broadcast targets: statuses, São Paulo's day and month, approved revenue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from clientmgr.core.accounts import AccountStatus
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.subscriptions import SubscriptionPayment, SubscriptionStatus
from clientmgr.core.templates import TemplateKind
from clientmgr.ports.clock import ManualClock
from clientmgr.services import accounts, admin, clients

# The clock fixture is 2026-03-04 13:00 UTC, 10:00 in São Paulo; São Paulo's 4 March runs
# from 03:00 UTC on the 4th to 03:00 UTC on the 5th.
DAY_START = datetime(2026, 3, 4, 3, 0, tzinfo=UTC)


async def register(uow_factory, clock, telegram_id, days_ago=0):
    then = ManualClock(clock.now() - timedelta(days=days_ago))
    account, _ = await accounts.register_account(uow_factory, then, telegram_id, f"U{telegram_id}")
    return account


@pytest.fixture
async def sellers(uow_factory, clock):
    """One account in each status: trial, grace, expired, active (oldest first: C, D, B, A)."""
    trial = await register(uow_factory, clock, 1)
    grace = await register(uow_factory, clock, 2, days_ago=9)
    expired = await register(uow_factory, clock, 3, days_ago=20)
    active = await register(uow_factory, clock, 4, days_ago=19)
    active = await accounts.grant_days(uow_factory, clock, active.id, 30)
    return {"trial": trial, "grace": grace, "expired": expired, "active": active}


async def add_client(uow_factory, clock, account_id, phone, **flags):
    client = await clients.add_client(
        uow_factory,
        clock,
        account_id,
        clients.AddClient(
            name="Maria", phone=phone, price=Decimal("10"), due_date=date(2026, 3, 9)
        ),
    )
    if flags.get("archived"):
        client = await clients.archive_client(uow_factory, clock, account_id, client.id)
    return client


async def test_empty_store(uow_factory, clock):
    stats = await admin.stats(uow_factory, clock)
    assert stats == admin.AdminStats(
        day=date(2026, 3, 4),
        accounts={status: 0 for status in AccountStatus},
        clients=0,
        messages_queued_today=0,
        messages_sent_today=0,
        messages_pending=0,
        revenue_this_month=Decimal("0.00"),
        payments_this_month=0,
    )
    assert stats.accounts_total == 0
    assert await admin.broadcast_targets(uow_factory, clock) == []


async def test_accounts_by_status_and_clients(uow_factory, clock, sellers):
    await add_client(uow_factory, clock, sellers["trial"].id, "+5511900000001")
    await add_client(uow_factory, clock, sellers["trial"].id, "+5511900000002", archived=True)
    await add_client(uow_factory, clock, sellers["active"].id, "+5511900000001")
    stats = await admin.stats(uow_factory, clock)
    assert stats.accounts == {
        AccountStatus.TRIAL: 1,
        AccountStatus.ACTIVE: 1,
        AccountStatus.GRACE: 1,
        AccountStatus.EXPIRED: 1,
    }
    assert stats.accounts_total == 4
    assert stats.clients == 2


async def test_messages_today_follow_sao_paulo(uow_factory, clock, sellers):
    account_id = sellers["trial"].id
    client = await add_client(uow_factory, clock, account_id, "+5511900000001")
    created = [
        DAY_START - timedelta(minutes=1),  # 23:59 on the 3rd in São Paulo, the 4th in UTC
        DAY_START,
        DAY_START + timedelta(hours=23),  # 23:00 on the 4th in São Paulo, the 5th in UTC
        DAY_START + timedelta(hours=24),  # the 5th
    ]
    async with uow_factory() as uow:
        ids = []
        for n, at in enumerate(created):
            message = await uow.outbox.add(
                OutboxMessage(
                    account_id=account_id,
                    client_id=client.id,
                    to=client.phone,
                    text="Oi",
                    kind=TemplateKind.DUE_TODAY,
                    dedupe_key=f"k{n}",
                    created_at=at,
                    next_attempt_at=at,
                )
            )
            ids.append(message.id)
        # sent late on the 3rd (São Paulo), though it is the 4th in UTC: not today
        await uow.outbox.set_status(
            account_id, ids[0], OutboxStatus.SENT, at=DAY_START - timedelta(minutes=30)
        )
        await uow.outbox.set_status(account_id, ids[1], OutboxStatus.SENT, at=clock.now())
        await uow.outbox.set_status(account_id, ids[1], OutboxStatus.READ, at=clock.now())
        await uow.outbox.set_status(account_id, ids[2], OutboxStatus.SENDING)
        await uow.commit()
    stats = await admin.stats(uow_factory, clock)
    assert stats.messages_queued_today == 2
    assert stats.messages_sent_today == 1
    assert stats.messages_pending == 2  # ids[2] sending, ids[3] queued


async def test_revenue_is_approved_charges_in_sao_paulos_month(uow_factory, clock, sellers):
    charges = [
        ("a", SubscriptionStatus.APPROVED, datetime(2026, 3, 1, 2, 59, tzinfo=UTC)),  # 28/02 BRT
        ("b", SubscriptionStatus.APPROVED, datetime(2026, 3, 1, 3, 0, tzinfo=UTC)),
        ("c", SubscriptionStatus.APPROVED, datetime(2026, 4, 1, 2, 30, tzinfo=UTC)),  # 31/03 BRT
        ("d", SubscriptionStatus.APPROVED, datetime(2026, 4, 1, 3, 0, tzinfo=UTC)),  # 01/04 BRT
        ("e", SubscriptionStatus.PENDING, None),
        ("f", SubscriptionStatus.REJECTED, datetime(2026, 3, 2, tzinfo=UTC)),
    ]
    async with uow_factory() as uow:
        for mp_id, status, approved_at in charges:
            await uow.subscriptions.add(
                SubscriptionPayment(
                    account_id=sellers["active"].id,
                    mp_payment_id=mp_id,
                    amount=Decimal("20.00"),
                    created_at=datetime(2026, 2, 27, tzinfo=UTC),
                    status=status,
                    approved_at=approved_at,
                )
            )
        await uow.commit()
    stats = await admin.stats(uow_factory, clock)
    assert (stats.revenue_this_month, stats.payments_this_month) == (Decimal("40.00"), 2)


async def test_the_day_rolls_over_at_midnight_in_sao_paulo(uow_factory):
    late = ManualClock(datetime(2026, 4, 1, 2, 0, tzinfo=UTC))  # 23:00 on 31 March in BRT
    stats = await admin.stats(uow_factory, late)
    assert stats.day == date(2026, 3, 31)


async def test_broadcast_targets(uow_factory, clock, sellers):
    every = await admin.broadcast_targets(uow_factory, clock)
    assert every == [3, 4, 2, 1]  # oldest account first
    expired = await admin.broadcast_targets(uow_factory, clock, only_status={AccountStatus.EXPIRED})
    assert expired == [3]
    lapsing = await admin.broadcast_targets(
        uow_factory, clock, only_status={AccountStatus.TRIAL, AccountStatus.GRACE}
    )
    assert lapsing == [2, 1]
    assert await admin.broadcast_targets(uow_factory, clock, only_status=set()) == []

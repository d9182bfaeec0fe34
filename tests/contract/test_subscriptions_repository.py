"""SubscriptionRepository contract: Mercado Pago id unique, updates, newest first per account."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from attrs import evolve

from clientmgr.core.subscriptions import SubscriptionStatus
from clientmgr.errors import ConflictError
from clientmgr.ports.repositories import Tally, UnitOfWorkFactory

from .factories import NOW, make_subscription, seed_accounts


async def test_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    payment = make_subscription(
        account_id, "123456789012", qr_code="00020126" + "9" * 300, amount=Decimal("20.00")
    )
    async with uow_factory() as uow:
        added = await uow.subscriptions.add(payment)
        await uow.commit()
    assert added.id is not None
    async with uow_factory() as uow:
        loaded = await uow.subscriptions.get_by_mp_id("123456789012")
        assert await uow.subscriptions.get_by_mp_id("000") is None
    assert loaded == added
    assert loaded is not None
    assert str(loaded.amount) == "20.00"
    assert loaded.status is SubscriptionStatus.PENDING


async def test_same_mercado_pago_id_twice_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    (first, second) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        await uow.subscriptions.add(make_subscription(first, "mp-77"))
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(ConflictError):
            await uow.subscriptions.add(make_subscription(second, "mp-77"))


async def test_update_persists_approval(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        added = await uow.subscriptions.add(make_subscription(account_id))
        await uow.commit()
    approved = evolve(
        added,
        status=SubscriptionStatus.APPROVED,
        approved_at=NOW + timedelta(minutes=3),
        applied=True,
    )
    async with uow_factory() as uow:
        await uow.subscriptions.update(approved)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.subscriptions.get_by_mp_id(added.mp_payment_id) == approved


async def test_list_for_account_is_newest_first_and_scoped(uow_factory: UnitOfWorkFactory) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        old = await uow.subscriptions.add(
            make_subscription(mine, "a", created_at=NOW - timedelta(days=31))
        )
        new = await uow.subscriptions.add(make_subscription(mine, "b", created_at=NOW))
        await uow.subscriptions.add(make_subscription(theirs, "c"))
        await uow.commit()
    async with uow_factory() as uow:
        assert [s.id for s in await uow.subscriptions.list_for_account(mine)] == [new.id, old.id]


async def test_approved_between_sums_approved_in_the_period_across_accounts(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (first, second) = await seed_accounts(uow_factory)
    start, end = NOW, NOW + timedelta(days=30)
    charges = [
        (first, "a", SubscriptionStatus.APPROVED, start, "20.00"),
        (second, "b", SubscriptionStatus.APPROVED, end - timedelta(microseconds=1), "0.10"),
        (second, "c", SubscriptionStatus.APPROVED, end, "20.00"),  # next period
        (first, "d", SubscriptionStatus.APPROVED, start - timedelta(seconds=1), "20.00"),
        (first, "e", SubscriptionStatus.PENDING, None, "20.00"),
        (first, "f", SubscriptionStatus.REJECTED, start, "20.00"),
    ]
    async with uow_factory() as uow:
        for account_id, mp_id, status, approved_at, amount in charges:
            await uow.subscriptions.add(
                make_subscription(
                    account_id,
                    mp_id,
                    status=status,
                    approved_at=approved_at,
                    amount=Decimal(amount),
                )
            )
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.subscriptions.approved_between(start, end) == Tally(2, Decimal("20.10"))
        empty = await uow.subscriptions.approved_between(
            end + timedelta(days=1), end + timedelta(days=2)
        )
    assert empty == Tally(0, Decimal("0.00"))
    assert str(empty.total) == "0.00"

"""PaymentRepository contract: round trip, idempotency per account, order, totals in exact cents."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from clientmgr.core.payments import PaymentMethod
from clientmgr.errors import ClientNotFoundError, ConflictError
from clientmgr.ports.repositories import UnitOfWorkFactory

from .factories import NOW, make_payment, seed_accounts, seed_client


async def test_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    payment = make_payment(
        account_id,
        client.id,
        amount=Decimal("107.70"),
        method=PaymentMethod.CASH,
        period_start=date(2026, 3, 15),
        period_end=date(2026, 6, 15),
        periods=3,
        idempotency_key="tg:update:991",
    )
    async with uow_factory() as uow:
        added = await uow.payments.add(payment)
        await uow.commit()
    assert added.id is not None
    async with uow_factory() as uow:
        loaded = await uow.payments.get_by_key(account_id, "tg:update:991")
    assert loaded == added
    assert loaded is not None
    assert str(loaded.amount) == "107.70"
    assert loaded.paid_at.utcoffset() == timedelta(0)


async def test_same_key_twice_in_an_account_is_a_conflict(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    async with uow_factory() as uow:
        await uow.payments.add(make_payment(account_id, client.id, idempotency_key="k1"))
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(ConflictError):
            await uow.payments.add(make_payment(account_id, client.id, idempotency_key="k1"))
        assert len(await uow.payments.list_for_client(account_id, client.id)) == 1


async def test_keys_are_per_account_and_optional(uow_factory: UnitOfWorkFactory) -> None:
    (first, second) = await seed_accounts(uow_factory)
    a = await seed_client(uow_factory, first)
    b = await seed_client(uow_factory, second)
    assert a.id is not None
    assert b.id is not None
    async with uow_factory() as uow:
        await uow.payments.add(make_payment(first, a.id, idempotency_key="same"))
        await uow.payments.add(make_payment(second, b.id, idempotency_key="same"))
        await uow.payments.add(make_payment(first, a.id))
        await uow.payments.add(make_payment(first, a.id))
        await uow.commit()
    async with uow_factory() as uow:
        assert len(await uow.payments.list_for_client(first, a.id)) == 3
        found = await uow.payments.get_by_key(second, "same")
        assert found is not None
        assert found.account_id == second
        assert await uow.payments.get_by_key(first, "missing") is None


async def test_payment_for_another_accounts_client_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    their_client = await seed_client(uow_factory, theirs)
    assert their_client.id is not None
    async with uow_factory() as uow:
        with pytest.raises(ClientNotFoundError):
            await uow.payments.add(make_payment(mine, their_client.id))


async def test_list_for_client_is_newest_first_and_scoped(uow_factory: UnitOfWorkFactory) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, mine)
    other = await seed_client(uow_factory, mine, phone="+5511900000009")
    assert client.id is not None
    assert other.id is not None
    async with uow_factory() as uow:
        old = await uow.payments.add(
            make_payment(mine, client.id, paid_at=NOW - timedelta(days=30))
        )
        new = await uow.payments.add(make_payment(mine, client.id, paid_at=NOW))
        mid = await uow.payments.add(make_payment(mine, client.id, paid_at=NOW - timedelta(days=1)))
        await uow.payments.add(make_payment(mine, other.id))
        await uow.commit()
    async with uow_factory() as uow:
        listed = await uow.payments.list_for_client(mine, client.id)
        assert [p.id for p in listed] == [new.id, mid.id, old.id]
        assert await uow.payments.list_for_client(theirs, client.id) == []


async def test_total_between_is_half_open_and_scoped(uow_factory: UnitOfWorkFactory) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, mine)
    their_client = await seed_client(uow_factory, theirs)
    assert client.id is not None
    assert their_client.id is not None
    start, end = NOW, NOW + timedelta(days=30)
    async with uow_factory() as uow:
        for paid_at, amount in [
            (start - timedelta(microseconds=1), "1000.00"),  # before
            (start, "10.10"),  # first instant counts
            (start + timedelta(days=3), "20.20"),
            (end - timedelta(microseconds=1), "0.01"),
            (end, "5000.00"),  # end is excluded
        ]:
            await uow.payments.add(
                make_payment(mine, client.id, paid_at=paid_at, amount=Decimal(amount))
            )
        await uow.payments.add(
            make_payment(theirs, their_client.id, paid_at=start, amount=Decimal("7.00"))
        )
        await uow.commit()
    async with uow_factory() as uow:
        total = await uow.payments.total_between(mine, start, end)
        empty = await uow.payments.total_between(
            mine, end + timedelta(days=1), end + timedelta(days=2)
        )
    assert total == Decimal("30.31")
    assert isinstance(total, Decimal)
    assert empty == Decimal("0")


async def test_total_of_many_cents_is_exact(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    async with uow_factory() as uow:
        for n in range(300):
            amount = Decimal("0.10") if n % 2 else Decimal("0.20")
            await uow.payments.add(make_payment(account_id, client.id, amount=amount))
        await uow.commit()
    async with uow_factory() as uow:
        total = await uow.payments.total_between(account_id, NOW, NOW + timedelta(seconds=1))
    assert total == Decimal("45.00")

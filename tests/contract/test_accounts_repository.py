"""AccountRepository contract."""

from __future__ import annotations

from datetime import UTC, time, timedelta, timezone

import pytest
from attrs import evolve

from clientmgr.core.accounts import GRACE_PERIOD, AccountStatus
from clientmgr.core.reminders import ReminderPolicy
from clientmgr.errors import AccountNotFoundError, DuplicateAccountError
from clientmgr.ports.repositories import UnitOfWorkFactory

from .factories import NOW, make_account

BRT = timezone(timedelta(hours=-3))


async def test_add_returns_id_and_round_trips_every_field(uow_factory: UnitOfWorkFactory) -> None:
    account = make_account(
        telegram_id=7_123_456_789,  # Telegram ids outgrow 32 bits
        paid_until=(NOW + timedelta(days=40)).astimezone(BRT),
        timezone="America/Manaus",
        business_name="Ana Fitness",
        pix_key="ana@example.com",
        pix_name="ANA SOUZA",
        pix_city="SAO PAULO",
        reminder_policy=ReminderPolicy(
            offsets=(2, -5, 0), window_start=time(9, 30), window_end=time(18, 45)
        ),
    )
    async with uow_factory() as uow:
        added = await uow.accounts.add(account)
        await uow.commit()
    assert added.id is not None
    async with uow_factory() as uow:
        loaded = await uow.accounts.get(added.id)
    assert loaded == added
    assert loaded.reminder_policy.offsets == (-5, 0, 2)
    assert loaded.paid_until is not None
    assert loaded.paid_until.utcoffset() == timedelta(0)
    assert loaded.created_at.tzinfo is not None


async def test_default_policy_and_no_paid_until_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        added = await uow.accounts.add(make_account())
        assert added.id is not None
        loaded = await uow.accounts.get(added.id)
    assert loaded.paid_until is None
    assert loaded.reminder_policy == ReminderPolicy()


async def test_ten_thousand_character_name(uow_factory: UnitOfWorkFactory) -> None:
    name = "Ã" * 5_000 + "b" * 5_000
    async with uow_factory() as uow:
        added = await uow.accounts.add(make_account(name=name))
        await uow.commit()
    assert added.id is not None
    async with uow_factory() as uow:
        assert (await uow.accounts.get(added.id)).name == name


async def test_second_account_for_same_telegram_user_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.accounts.add(make_account(telegram_id=42))
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(DuplicateAccountError):
            await uow.accounts.add(make_account(telegram_id=42, name="Outra"))


async def test_get_unknown_id_raises(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(AccountNotFoundError):
            await uow.accounts.get(999_999)


async def test_get_by_telegram_id(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        added = await uow.accounts.add(make_account(telegram_id=77))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.accounts.get_by_telegram_id(77) == added
        assert await uow.accounts.get_by_telegram_id(78) is None


async def test_update_persists(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        added = await uow.accounts.add(make_account())
        await uow.commit()
    changed = evolve(
        added,
        name="Novo nome",
        paid_until=NOW + timedelta(days=30),
        pix_key="+5511988887777",
        reminder_policy=ReminderPolicy(offsets=(-1,), window_start=time(7), window_end=time(21)),
    )
    async with uow_factory() as uow:
        await uow.accounts.update(changed)
        await uow.commit()
    async with uow_factory() as uow:
        assert changed.id is not None
        assert await uow.accounts.get(changed.id) == changed


async def test_update_unknown_account_raises(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(AccountNotFoundError):
            await uow.accounts.update(evolve(make_account(), id=424_242))


async def test_update_to_taken_telegram_id_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.accounts.add(make_account(telegram_id=1))
        second = await uow.accounts.add(make_account(telegram_id=2))
        with pytest.raises(DuplicateAccountError):
            await uow.accounts.update(evolve(second, telegram_id=1))
        assert second.id is not None
        assert (await uow.accounts.get(second.id)).telegram_id == 2


async def test_list_is_oldest_first(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        late = await uow.accounts.add(make_account(telegram_id=1, now=NOW + timedelta(hours=2)))
        early = await uow.accounts.add(make_account(telegram_id=2, now=NOW - timedelta(days=1)))
        middle = await uow.accounts.add(make_account(telegram_id=3, now=NOW))
        await uow.commit()
    async with uow_factory() as uow:
        assert [a.id for a in await uow.accounts.list()] == [early.id, middle.id, late.id]


async def test_aware_datetimes_in_any_zone_come_back_as_the_same_instant_in_utc(
    uow_factory: UnitOfWorkFactory,
) -> None:
    local = NOW.astimezone(BRT)
    async with uow_factory() as uow:
        added = await uow.accounts.add(make_account(now=local))
        await uow.commit()
    assert added.id is not None
    async with uow_factory() as uow:
        loaded = await uow.accounts.get(added.id)
    assert loaded.created_at == NOW
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.created_at.astimezone(UTC).replace(tzinfo=None) == NOW.replace(tzinfo=None)


async def test_count_by_status_follows_account_status_at_every_edge(
    uow_factory: UnitOfWorkFactory,
) -> None:
    day = timedelta(days=1)
    tiny = timedelta(microseconds=1)
    shapes = [
        {},  # trial ends NOW + 7 days
        {"now": NOW - 20 * day},  # trial long over, never paid
        {"now": NOW - 8 * day},  # trial ended a day ago: grace
        {"paid_until": NOW + 30 * day},
        {"now": NOW - 40 * day, "paid_until": NOW - day},  # paid period over: grace
        {"now": NOW - 40 * day, "paid_until": NOW - GRACE_PERIOD},  # grace ends exactly now
        {"now": NOW - 40 * day, "paid_until": NOW - GRACE_PERIOD + tiny},
        {"now": NOW - 7 * day},  # trial ends exactly now
        {"paid_until": NOW + day},  # paid_until before trial end: still a trial
        {"now": NOW - 7 * day + tiny},
    ]
    async with uow_factory() as uow:
        accounts = [
            await uow.accounts.add(make_account(telegram_id=100 + n, **fields))
            for n, fields in enumerate(shapes)
        ]
        await uow.commit()
    for at in (NOW, NOW + tiny, NOW - tiny, NOW + 3 * day, NOW + 40 * day, NOW - 30 * day):
        expected = {status: 0 for status in AccountStatus}
        for account in accounts:
            expected[account.status(at)] += 1
        async with uow_factory() as uow:
            assert await uow.accounts.count_by_status(at.astimezone(BRT)) == expected, at


async def test_count_by_status_with_no_accounts(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        assert await uow.accounts.count_by_status(NOW) == {s: 0 for s in AccountStatus}

"""UnitOfWork contract: nothing seen before commit, nothing kept without it, errors spare it."""

from __future__ import annotations

import asyncio

import pytest

from clientmgr.errors import ConflictError, DuplicatePhoneError
from clientmgr.ports.repositories import UnitOfWorkFactory

from .factories import make_account, make_client, seed_accounts


async def test_leaving_without_commit_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.accounts.add(make_account(telegram_id=1))
    async with uow_factory() as uow:
        assert await uow.accounts.get_by_telegram_id(1) is None


async def test_an_exception_rolls_back(uow_factory: UnitOfWorkFactory) -> None:
    async def fail_midway() -> None:
        async with uow_factory() as uow:
            await uow.accounts.add(make_account(telegram_id=1))
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await fail_midway()
    async with uow_factory() as uow:
        assert await uow.accounts.list() == []


async def test_explicit_rollback_discards_and_the_uow_goes_on(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await uow.accounts.add(make_account(telegram_id=1))
        await uow.rollback()
        await uow.accounts.add(make_account(telegram_id=2))
        await uow.commit()
    async with uow_factory() as uow:
        assert [a.telegram_id for a in await uow.accounts.list()] == [2]


async def test_commit_is_visible_to_another_uow(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        added = await uow.accounts.add(make_account(telegram_id=1))
        await uow.commit()
    async with uow_factory() as other:
        assert await other.accounts.get_by_telegram_id(1) == added


async def test_uncommitted_changes_are_invisible_to_a_concurrent_uow(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as writer:
        await writer.accounts.add(make_account(telegram_id=1))
        async with uow_factory() as reader:
            assert await reader.accounts.get_by_telegram_id(1) is None
        await writer.commit()
    async with uow_factory() as reader:
        assert await reader.accounts.get_by_telegram_id(1) is not None


async def test_several_commits_in_one_uow(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        await uow.accounts.add(make_account(telegram_id=1))
        await uow.commit()
        await uow.accounts.add(make_account(telegram_id=2))
        await uow.commit()
        await uow.accounts.add(make_account(telegram_id=3))
    async with uow_factory() as uow:
        assert [a.telegram_id for a in await uow.accounts.list()] == [1, 2]


async def test_still_usable_after_a_duplicate(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        first = await uow.clients.add(make_client(account_id, "+5511911111111", name="Primeira"))
        with pytest.raises(DuplicatePhoneError):
            await uow.clients.add(make_client(account_id, "+5511911111111", name="Repetida"))
        second = await uow.clients.add(make_client(account_id, "+5511922222222", name="Segunda"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.clients.list(account_id) == [first, second]


async def test_concurrent_writers_both_commit(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)

    async def read_then_write(n: int) -> None:
        async with uow_factory() as uow:
            await uow.clients.count(account_id)
            await asyncio.sleep(0.01)
            await uow.clients.add(make_client(account_id, f"+551190000000{n}", name=f"C{n}"))
            await asyncio.sleep(0.01)
            await uow.commit()

    await asyncio.gather(*(read_then_write(n) for n in range(4)))
    async with uow_factory() as uow:
        assert await uow.clients.count(account_id) == 4


async def test_concurrent_writers_of_the_same_phone_one_wins(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (account_id, _) = await seed_accounts(uow_factory)

    async def write(name: str) -> None:
        async with uow_factory() as uow:
            await uow.clients.add(make_client(account_id, name=name))
            await asyncio.sleep(0.02)
            await uow.commit()

    outcomes = await asyncio.gather(write("A"), write("B"), return_exceptions=True)
    assert sum(isinstance(o, ConflictError) for o in outcomes) == 1
    assert sum(o is None for o in outcomes) == 1
    async with uow_factory() as uow:
        assert await uow.clients.count(account_id) == 1

"""Client use cases: what a seller notices when adding, editing, pausing, listing clients."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from clientmgr.core.clients import ClientFilter
from clientmgr.core.cycles import BillingCycle
from clientmgr.errors import (
    AccountExpiredError,
    ClientNotFoundError,
    DuplicatePhoneError,
    InvalidInputError,
)
from clientmgr.services import accounts, clients


@pytest.fixture
async def account(uow_factory, clock):
    acc, _ = await accounts.register_account(uow_factory, clock, 42, "Ana")
    return acc


def new(name="Maria", phone="+5511988887777", due=date(2026, 3, 10), **kw):
    return clients.AddClient(name=name, phone=phone, price=Decimal("35.90"), due_date=due, **kw)


async def test_add_and_read_back(uow_factory, clock, account):
    added = await clients.add_client(uow_factory, clock, account.id, new(plan=" Mensal "))
    got = await clients.get_client(uow_factory, account.id, added.id)
    assert got.name == "Maria"
    assert got.plan == "Mensal"
    assert got.price == Decimal("35.90")
    assert got.anchor_day == 10


async def test_duplicate_phone_points_to_the_existing_client(uow_factory, clock, account):
    first = await clients.add_client(uow_factory, clock, account.id, new())
    with pytest.raises(DuplicatePhoneError) as err:
        await clients.add_client(uow_factory, clock, account.id, new(name="Other"))
    assert err.value.existing_client_id == first.id


async def test_same_phone_in_two_accounts_is_fine(uow_factory, clock, account):
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    await clients.add_client(uow_factory, clock, account.id, new())
    await clients.add_client(uow_factory, clock, other.id, new())


@pytest.mark.parametrize(
    ("name", "notes"), [("", ""), ("   ", ""), ("x" * 121, ""), ("Maria", "n" * 2001)]
)
async def test_bad_text_is_refused_and_nothing_saved(uow_factory, clock, account, name, notes):
    with pytest.raises(InvalidInputError):
        await clients.add_client(uow_factory, clock, account.id, new(name=name, notes=notes))
    page = await clients.list_clients(uow_factory, account.id, today=date(2026, 3, 4))
    assert page.total == 0


async def test_expired_account_cannot_add(uow_factory, clock, account):
    clock.advance(days=30)
    with pytest.raises(AccountExpiredError):
        await clients.add_client(uow_factory, clock, account.id, new())


async def test_another_accounts_client_is_not_found(uow_factory, clock, account):
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    mine = await clients.add_client(uow_factory, clock, account.id, new())
    with pytest.raises(ClientNotFoundError):
        await clients.get_client(uow_factory, other.id, mine.id)
    with pytest.raises(ClientNotFoundError):
        await clients.edit_client(uow_factory, clock, other.id, mine.id, name="Hacked")
    with pytest.raises(ClientNotFoundError):
        await clients.archive_client(uow_factory, clock, other.id, mine.id)
    assert (await clients.get_client(uow_factory, account.id, mine.id)).name == "Maria"


async def test_edit_due_date_moves_the_anchor_day(uow_factory, clock, account):
    c = await clients.add_client(uow_factory, clock, account.id, new())
    edited = await clients.edit_client(
        uow_factory,
        clock,
        account.id,
        c.id,
        due_date=date(2026, 3, 31),
        cycle=BillingCycle.monthly(2),
    )
    assert edited.anchor_day == 31
    assert edited.cycle.every == 2


async def test_edit_to_a_taken_phone_is_refused(uow_factory, clock, account):
    a = await clients.add_client(uow_factory, clock, account.id, new())
    b = await clients.add_client(
        uow_factory, clock, account.id, new(name="Bia", phone="+5511977776666")
    )
    with pytest.raises(DuplicatePhoneError) as err:
        await clients.edit_client(uow_factory, clock, account.id, b.id, phone=a.phone)
    assert err.value.existing_client_id == a.id
    assert (await clients.get_client(uow_factory, account.id, b.id)).phone == "+5511977776666"


async def test_filters_and_pages(uow_factory, clock, account):
    today = date(2026, 3, 4)
    for i in range(25):
        await clients.add_client(
            uow_factory,
            clock,
            account.id,
            new(name=f"C{i:02}", phone=f"+55119888{i:05}", due=today + timedelta(days=i - 5)),
        )
    paused = await clients.list_clients(uow_factory, account.id, today=today)
    await clients.set_paused(uow_factory, clock, account.id, paused.clients[0].id, True)

    overdue = await clients.list_clients(
        uow_factory, account.id, today=today, filter=ClientFilter.OVERDUE
    )
    assert [c.name for c in overdue.clients] == ["C01", "C02", "C03", "C04"]
    soon = await clients.list_clients(
        uow_factory, account.id, today=today, filter=ClientFilter.DUE_SOON
    )
    assert soon.total == 8  # today .. today+7
    only_paused = await clients.list_clients(
        uow_factory, account.id, today=today, filter=ClientFilter.PAUSED
    )
    assert [c.name for c in only_paused.clients] == ["C00"]

    last = await clients.list_clients(uow_factory, account.id, today=today, page=99)
    assert (last.page, last.pages, last.total, len(last.clients)) == (2, 3, 25, 5)


async def test_search_by_name_or_phone(uow_factory, clock, account):
    await clients.add_client(uow_factory, clock, account.id, new(name="Maria José"))
    await clients.add_client(
        uow_factory, clock, account.id, new(name="João", phone="+5521977776666")
    )
    by_name = await clients.list_clients(
        uow_factory, account.id, today=date(2026, 3, 4), search="maria"
    )
    by_phone = await clients.list_clients(
        uow_factory, account.id, today=date(2026, 3, 4), search="97777"
    )
    assert [c.name for c in by_name.clients] == ["Maria José"]
    assert [c.name for c in by_phone.clients] == ["João"]


async def test_archive_hides_from_the_default_list(uow_factory, clock, account):
    c = await clients.add_client(uow_factory, clock, account.id, new())
    await clients.archive_client(uow_factory, clock, account.id, c.id)
    today = date(2026, 3, 4)
    assert (await clients.list_clients(uow_factory, account.id, today=today)).total == 0
    archived = await clients.list_clients(
        uow_factory, account.id, today=today, filter=ClientFilter.ARCHIVED
    )
    assert [x.id for x in archived.clients] == [c.id]

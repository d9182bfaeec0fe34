"""Home screen and dues: the seller's own today and month, paused/archived left out, exact sums."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from attrs import evolve

from clientmgr.core.payments import Payment, PaymentMethod
from clientmgr.errors import AccountNotFoundError
from clientmgr.ports.clock import ManualClock
from clientmgr.services import accounts, clients, summary

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
TODAY = date(2026, 3, 4)  # the clock fixture: 10:00 in São Paulo
_PHONES = itertools.count(1)


@pytest.fixture
async def account(uow_factory, clock):
    acc, _ = await accounts.register_account(uow_factory, clock, 42, "Ana")
    return acc


async def add(uow_factory, clock, account_id, name, due, price="10.00", phone=None, **flags):
    """A client due on ``due``; flags (paused, archived, opted_out) set straight in storage."""
    phone = phone or f"+55119{next(_PHONES):08d}"
    client = await clients.add_client(
        uow_factory,
        clock,
        account_id,
        clients.AddClient(name=name, phone=phone, price=Decimal(price), due_date=due),
    )
    if flags:
        client = evolve(client, **flags)
        async with uow_factory() as uow:
            await uow.clients.update(client)
            await uow.commit()
    return client


async def pay(uow_factory, client, amount, paid_at):
    async with uow_factory() as uow:
        await uow.payments.add(
            Payment(
                account_id=client.account_id,
                client_id=client.id,
                amount=Decimal(amount),
                paid_at=paid_at,
                method=PaymentMethod.PIX,
                period_start=client.due_date,
                period_end=client.due_date,
            )
        )
        await uow.commit()


async def test_empty_account_shows_zeros(uow_factory, clock, account):
    board = await summary.dashboard(uow_factory, clock, account.id)
    assert board == summary.Dashboard(
        today=TODAY,
        active=0,
        overdue=0,
        overdue_total=Decimal("0.00"),
        paused=0,
        received_this_month=Decimal("0.00"),
        expected_count=0,
        expected_total=Decimal("0.00"),
    )
    overview = await summary.dues(uow_factory, clock, account.id)
    assert overview.today == TODAY
    for group in (overview.overdue, overview.due_today, overview.upcoming):
        assert group.clients == ()
        assert group.count == 0
        assert group.total == Decimal("0.00")


async def test_dashboard_counts(uow_factory, clock, account):
    d = timedelta(days=1)
    aid = account.id
    await add(uow_factory, clock, aid, "Atrasada", TODAY - 10 * d, "35.90")
    await add(uow_factory, clock, aid, "Ontem", TODAY - d, "0.10")
    await add(uow_factory, clock, aid, "Hoje", TODAY, "20.00")
    await add(uow_factory, clock, aid, "Semana", TODAY + 7 * d, "0.20")
    await add(uow_factory, clock, aid, "Depois", TODAY + 8 * d, "99.00")
    await add(uow_factory, clock, aid, "Saiu", TODAY, "5.00", opted_out=True)
    await add(uow_factory, clock, aid, "Pausada", TODAY - d, "50.00", paused=True)
    await add(uow_factory, clock, aid, "Pausada2", TODAY, "50.00", paused=True)
    await add(uow_factory, clock, aid, "Arquivada", TODAY - d, "70.00", archived=True)
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    await add(uow_factory, clock, other.id, "Alheia", TODAY - d, "1000.00")

    board = await summary.dashboard(uow_factory, clock, aid)

    assert board.active == 6  # opted out still owes, so still counts
    assert board.paused == 2
    assert (board.overdue, board.overdue_total) == (2, Decimal("36.00"))
    assert (board.expected_count, board.expected_total) == (3, Decimal("25.20"))


async def test_received_this_month_uses_the_sellers_month(uow_factory, clock, account):
    await accounts.grant_days(uow_factory, clock, account.id, 60)
    # 23:00 on 31 March in São Paulo is already 1 April in UTC.
    late_clock = ManualClock(datetime(2026, 4, 1, 2, 0, tzinfo=UTC))
    client = await add(uow_factory, late_clock, account.id, "Maria", date(2026, 3, 31))
    march_start_local = datetime(2026, 3, 1, 0, 0, tzinfo=SAO_PAULO)
    await pay(uow_factory, client, "1.00", march_start_local)  # first instant of March
    await pay(uow_factory, client, "2.00", march_start_local - timedelta(microseconds=1))
    await pay(uow_factory, client, "4.00", datetime(2026, 4, 1, 1, 30, tzinfo=UTC))  # 22:30 BRT
    await pay(uow_factory, client, "8.00", datetime(2026, 4, 1, 3, 0, tzinfo=UTC))  # 1 April BRT

    board = await summary.dashboard(uow_factory, late_clock, account.id)

    assert board.today == date(2026, 3, 31)
    assert board.received_this_month == Decimal("5.00")
    # due "today" in São Paulo, though the UTC date is already the 1st: not overdue
    assert (board.overdue, board.expected_count) == (0, 1)


async def test_received_follows_the_accounts_own_timezone(uow_factory, clock, account):
    manaus = await accounts.update_profile(
        uow_factory, clock, account.id, timezone="America/Manaus"
    )
    client = await add(uow_factory, clock, manaus.id, "Maria", TODAY)
    # 00:30 on 1 March in São Paulo is still 28 February in Manaus (UTC-4).
    await pay(uow_factory, client, "3.00", datetime(2026, 3, 1, 3, 30, tzinfo=UTC))
    await pay(uow_factory, client, "7.00", datetime(2026, 3, 1, 4, 0, tzinfo=UTC))
    board = await summary.dashboard(uow_factory, clock, manaus.id)
    assert board.received_this_month == Decimal("7.00")


async def test_dues_groups_ordered_and_totalled(uow_factory, clock, account):
    d = timedelta(days=1)
    aid = account.id
    await add(uow_factory, clock, aid, "Zélia", TODAY - 2 * d, "10.00")
    await add(uow_factory, clock, aid, "bruno", TODAY - 2 * d, "0.10")
    await add(uow_factory, clock, aid, "Carla", TODAY - 5 * d, "0.20")
    await add(uow_factory, clock, aid, "Hoje", TODAY, "35.90")
    await add(uow_factory, clock, aid, "Amanhã", TODAY + d, "1.00")
    await add(uow_factory, clock, aid, "Fim", TODAY + 7 * d, "2.00")
    await add(uow_factory, clock, aid, "Longe", TODAY + 8 * d, "4.00")
    await add(uow_factory, clock, aid, "Pausada", TODAY, "50.00", paused=True)
    await add(uow_factory, clock, aid, "Arquivada", TODAY - d, "50.00", archived=True)
    await add(uow_factory, clock, aid, "Pediu SAIR", TODAY + d, "3.00", opted_out=True)

    overview = await summary.dues(uow_factory, clock, aid)

    assert [c.name for c in overview.overdue.clients] == ["Carla", "bruno", "Zélia"]
    assert overview.overdue.total == Decimal("10.30")
    assert [c.name for c in overview.due_today.clients] == ["Hoje"]
    assert overview.due_today.total == Decimal("35.90")
    assert [c.name for c in overview.upcoming.clients] == ["Amanhã", "Pediu SAIR", "Fim"]
    assert overview.upcoming.total == Decimal("6.00")
    assert overview.upcoming.count == 3


async def test_dues_uses_the_sellers_today_late_in_the_evening(uow_factory, account):
    evening = ManualClock(datetime(2026, 3, 5, 2, 30, tzinfo=UTC))  # 23:30 on the 4th in BRT
    await add(uow_factory, evening, account.id, "Hoje", TODAY)
    overview = await summary.dues(uow_factory, evening, account.id)
    assert [c.name for c in overview.due_today.clients] == ["Hoje"]
    assert overview.overdue.clients == ()


async def test_another_accounts_clients_never_show(uow_factory, clock, account):
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    await add(uow_factory, clock, other.id, "Alheia", TODAY)
    overview = await summary.dues(uow_factory, clock, account.id)
    assert overview.due_today.clients == ()


async def test_expired_account_can_still_read(uow_factory, clock, account):
    await add(uow_factory, clock, account.id, "Maria", TODAY + timedelta(days=20))
    clock.advance(days=20)
    board = await summary.dashboard(uow_factory, clock, account.id)
    assert board.expected_count == 1
    overview = await summary.dues(uow_factory, clock, account.id)
    assert overview.due_today.count == 1


async def test_unknown_account(uow_factory, clock):
    with pytest.raises(AccountNotFoundError):
        await summary.dashboard(uow_factory, clock, 999)
    with pytest.raises(AccountNotFoundError):
        await summary.dues(uow_factory, clock, 999)


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (
            date(2026, 3, 15),
            datetime(2026, 3, 1, 3, tzinfo=UTC),
            datetime(2026, 4, 1, 3, tzinfo=UTC),
        ),
        (
            date(2026, 12, 31),
            datetime(2026, 12, 1, 3, tzinfo=UTC),
            datetime(2027, 1, 1, 3, tzinfo=UTC),
        ),
        (
            date(2028, 2, 29),
            datetime(2028, 2, 1, 3, tzinfo=UTC),
            datetime(2028, 3, 1, 3, tzinfo=UTC),
        ),
    ],
)
def test_month_bounds_in_sao_paulo(day, start, end):
    assert summary.month_bounds(day, SAO_PAULO) == (start, end)


def test_day_bounds_in_sao_paulo():
    assert summary.day_bounds(TODAY, SAO_PAULO) == (
        datetime(2026, 3, 4, 3, tzinfo=UTC),
        datetime(2026, 3, 5, 3, tzinfo=UTC),
    )

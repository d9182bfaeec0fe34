"""The seller's home screen and "Vencimentos": who owes what, as of the seller's own today.

Choices, each so the numbers match what the seller sees elsewhere in the bot:

- "Today" is the seller's calendar day (``account.local_now``), never the server's: at 22:00
  in São Paulo it is already tomorrow in UTC, and a client due "today" must not read overdue.
- Archived clients never count. Paused clients count only as paused: they are neither
  overdue nor expected, because the seller put them aside on purpose.
- Opted-out clients still count: they asked for no reminders, not to stop paying.
- "Next 7 days" is today through today + 7, the same window as the "Vencem em breve" list.
- "Received this month" sums payments whose ``paid_at`` falls in the seller's local
  calendar month, turned into UTC bounds so the database compares instants.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from attrs import frozen

from clientmgr.core.clients import Client
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWorkFactory

__all__ = [
    "SOON_DAYS",
    "Dashboard",
    "DuesGroup",
    "DuesOverview",
    "dashboard",
    "day_bounds",
    "dues",
    "month_bounds",
]

SOON_DAYS = 7
"""How far ahead "expected" and "next 7 days" look, counting from today inclusive."""

_CENT = Decimal("0.01")


def day_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of ``day`` as a calendar day in ``zone``."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def month_bounds(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """The UTC instants [start, end) of the calendar month holding ``day`` in ``zone``."""
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    start = datetime.combine(first, time(0), tzinfo=zone)
    end = datetime.combine(following, time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


@frozen
class Dashboard:
    """The numbers on the seller's home screen (money in reais, exact)."""

    today: date
    active: int
    """Clients neither paused nor archived."""
    overdue: int
    """Active clients due before today."""
    overdue_total: Decimal
    paused: int
    received_this_month: Decimal
    expected_count: int
    """Active clients due from today to today + 7."""
    expected_total: Decimal


@frozen
class DuesGroup:
    """Clients ordered by due date then name, and what they owe together."""

    clients: tuple[Client, ...]
    total: Decimal

    @property
    def count(self) -> int:
        return len(self.clients)


@frozen
class DuesOverview:
    """Three disjoint groups: due before today, due today, due in the next 7 days after today."""

    today: date
    overdue: DuesGroup
    due_today: DuesGroup
    upcoming: DuesGroup


async def dashboard(uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int) -> Dashboard:
    """The home screen from aggregate queries, whatever the size of the client book.

    Raises AccountNotFoundError. Expired accounts may read it.
    """
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id)
        today = account.local_now(clock.now()).date()
        tally = await uow.clients.tally(
            account_id, today=today, until=today + timedelta(days=SOON_DAYS)
        )
        received = await uow.payments.total_between(account_id, *month_bounds(today, account.zone))
    return Dashboard(
        today=today,
        active=tally.active,
        overdue=tally.overdue.count,
        overdue_total=tally.overdue.total,
        paused=tally.paused,
        received_this_month=received,
        expected_count=tally.due_soon.count,
        expected_total=tally.due_soon.total,
    )


async def dues(uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int) -> DuesOverview:
    """Who is overdue, who is due today and who is due in the next 7 days (active clients).

    Only clients due up to today + 7 are read. Raises AccountNotFoundError.
    """
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id)
        today = account.local_now(clock.now()).date()
        clients = await uow.clients.list(
            account_id, due_to=today + timedelta(days=SOON_DAYS), paused=False, archived=False
        )
    return DuesOverview(
        today=today,
        overdue=_group(c for c in clients if c.due_date < today),
        due_today=_group(c for c in clients if c.due_date == today),
        upcoming=_group(c for c in clients if c.due_date > today),
    )


def _group(clients: Iterable[Client]) -> DuesGroup:
    members = tuple(clients)
    total = sum((c.price for c in members), Decimal(0))
    return DuesGroup(members, total.quantize(_CENT))

"""What the operator sees and does across every account: stats and broadcast targets.

These are the only use cases that read more than one account's data; they are for the
operator's commands (``ADMIN_TELEGRAM_IDS``), never for a seller's screen. ``grant_days``
lives with the other account changes in ``accounts``.

Choices:

- "Today" and "this month" are São Paulo's calendar day and month (``DEFAULT_TIMEZONE``),
  not UTC's: the operator and nearly every seller live on Brasília time, and a UTC day would
  roll "today" over at 21:00 there and book a PIX paid on the evening of the 31st in the
  next month.
- Revenue is the APPROVED subscription charges whose approval falls in the month: the
  money that actually arrived, not charges created or still pending.
- Every count is an aggregate query; nothing loads every client or message.
- Broadcasting is the bot's job (paced, one message at a time); this only says who.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

from attrs import frozen

from clientmgr.core.accounts import DEFAULT_TIMEZONE, AccountStatus
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services.summary import day_bounds, month_bounds

__all__ = ["STATS_TIMEZONE", "AdminStats", "broadcast_targets", "stats"]

STATS_TIMEZONE = ZoneInfo(DEFAULT_TIMEZONE)
"""Whose calendar "today" and "this month" follow in the operator's stats."""


@frozen
class AdminStats:
    """The operator's dashboard at one moment; ``day`` is the São Paulo date it describes."""

    day: date
    accounts: dict[AccountStatus, int]
    """Accounts in each status (every status is a key)."""
    clients: int
    """Clients of every account, archived ones left out."""
    messages_queued_today: int
    """Messages created (planned or queued by hand) today."""
    messages_sent_today: int
    """Messages that went out today, including those since delivered or read."""
    messages_pending: int
    """Queued or being sent right now, whenever they were created: the queue depth."""
    revenue_this_month: Decimal
    payments_this_month: int
    """Approved subscription charges this month (the count behind the revenue)."""

    @property
    def accounts_total(self) -> int:
        return sum(self.accounts.values())


async def stats(uow_factory: UnitOfWorkFactory, clock: Clock) -> AdminStats:
    """The numbers behind /admin: accounts by status, clients, today's messages, revenue."""
    now = clock.now()
    day = now.astimezone(STATS_TIMEZONE).date()
    async with uow_factory() as uow:
        accounts = await uow.accounts.count_by_status(now)
        clients = await uow.clients.count_all()
        activity = await uow.outbox.activity_between(*day_bounds(day, STATS_TIMEZONE))
        revenue = await uow.subscriptions.approved_between(*month_bounds(day, STATS_TIMEZONE))
    return AdminStats(
        day=day,
        accounts=accounts,
        clients=clients,
        messages_queued_today=activity.queued,
        messages_sent_today=activity.sent,
        messages_pending=activity.pending,
        revenue_this_month=revenue.total,
        payments_this_month=revenue.count,
    )


async def broadcast_targets(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    *,
    only_status: Collection[AccountStatus] | None = None,
) -> list[int]:
    """Telegram ids to message, oldest account first; every account unless ``only_status``.

    An empty ``only_status`` selects nobody (a filter that matched nothing, not "all").
    """
    now = clock.now()
    async with uow_factory() as uow:
        accounts = await uow.accounts.list()
    return [
        account.telegram_id
        for account in accounts
        if only_status is None or account.status(now) in only_status
    ]

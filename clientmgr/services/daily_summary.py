"""The seller's daily WhatsApp summary on Telegram: what went out, what arrived, what failed.

The scheduler calls ``send_daily_summaries`` every hour, on the hour; each seller whose
local hour is then ``hour`` (20:00 by default, when the default send window closes) gets
the summary of the 24 hours before that instant. Consecutive summaries therefore tile the
time without gaps or overlaps, whatever the seller's timezone.

What it says (``DeliveryStats``): messages handed to WhatsApp, how many reached the phone
and were read, the failed ones grouped by the reason the seller reads in the client's
history (with the first clients named), reminders sent more than ``undelivered_after``
(6 h) ago that never got a delivery tick — flagged by exactly one summary, the one whose
day they crossed that mark in, since a phone that is off for days would otherwise nag every
day — and how many messages are still waiting. A seller with nothing to report gets no
message: a summary every evening saying "0" teaches them to ignore it.

The notice is the bot catalog's ``events.daily_summary`` (``SUMMARY_KEY``): every word is
in the catalog, and this module fills in numbers, the period in the seller's timezone and
lists of clients and reasons (``summary_values``), so it holds no pt-BR text of its own.
One seller who cannot be reached does not stop the others; each failure is reported.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from attrs import frozen

from clientmgr.core.accounts import Account
from clientmgr.ports.clock import Clock
from clientmgr.ports.notifier import NoticeAction, SellerNotice, SellerNotifier
from clientmgr.ports.planning import DeliveryStats, ReminderReports, ReportedMessage
from clientmgr.ports.repositories import UnitOfWorkFactory

__all__ = [
    "DEFAULT_SUMMARY_HOUR",
    "SUMMARY_KEY",
    "SUMMARY_PERIOD",
    "UNDELIVERED_AFTER",
    "DailySummary",
    "SummaryRun",
    "daily_summary",
    "is_summary_hour",
    "send_daily_summaries",
    "summary_notice",
    "summary_values",
]

DEFAULT_SUMMARY_HOUR = 20
SUMMARY_KEY = "events.daily_summary"
"""The bot catalog's entry for the summary; its values are ``summary_values``."""
SUMMARY_PERIOD = timedelta(days=1)
UNDELIVERED_AFTER = timedelta(hours=6)
"""A reminder without a delivery tick this long after it was sent is flagged."""
NAMED = 5
"""Clients named per list; the rest are counted."""


@frozen
class DailySummary:
    """One seller's summary of [start, end)."""

    account_id: int
    start: datetime
    end: datetime
    stats: DeliveryStats
    undelivered_after: timedelta = UNDELIVERED_AFTER

    @property
    def is_quiet(self) -> bool:
        """Nothing sent, failed, flagged or waiting: no message is worth sending."""
        s = self.stats
        return not (s.sent or s.failed or s.undelivered_count or s.pending)


@frozen
class SummaryRun:
    """One run over every account: summaries ``sent``, ``quiet`` sellers skipped, sellers
    whose local hour was not the summary hour (``not_now``), and ``failures`` as
    ``(account_id, reason)`` for the scheduler to log."""

    sent: int = 0
    quiet: int = 0
    not_now: int = 0
    failures: tuple[tuple[int, str], ...] = ()


async def daily_summary(
    reports: ReminderReports,
    account_id: int,
    end: datetime,
    *,
    undelivered_after: timedelta = UNDELIVERED_AFTER,
    period: timedelta = SUMMARY_PERIOD,
) -> DailySummary:
    """The account's summary of the ``period`` ending at ``end``."""
    start = end - period
    stats = await reports.delivery_stats(
        account_id,
        start,
        end,
        undelivered_start=start - undelivered_after,
        undelivered_end=end - undelivered_after,
        limit=NAMED,
    )
    return DailySummary(account_id, start, end, stats, undelivered_after)


NOBODY = "—"
"""Stands for a client name (or a reason) that is not known."""


def _client(item: ReportedMessage) -> str:
    return item.client_name or NOBODY


def _when(at: datetime, zone: ZoneInfo) -> str:
    return at.astimezone(zone).strftime("%d/%m %H:%M")


def _more(shown: int, total: int) -> list[str]:
    return [f"+{total - shown}"] if total > shown else []


def summary_values(summary: DailySummary, zone: ZoneInfo) -> dict[str, str]:
    """The values of the catalog entry ``SUMMARY_KEY``, with no words of their own.

    Numbers and the period (``dd/mm HH:MM`` in ``zone``) as text, ``hours`` of the
    "not delivered after" delay, and two blocks of lines, each line starting with a
    newline and empty when there is nothing to list: ``failures`` (each reason with its
    count, the reason being the dispatcher's own pt-BR text, then the first clients
    named) and ``late`` (the undelivered reminders: client and when it was sent).
    """
    s = summary.stats
    failures = [f"   • {r.count}× {r.reason or NOBODY}" for r in s.reasons]
    if s.failures:
        names = [_client(item) for item in s.failures] + _more(len(s.failures), s.failed)
        failures.append("   👥 " + ", ".join(names))
    late = [f"   • {_client(item)} ({_when(item.at, zone)})" for item in s.undelivered]
    late += [f"   • {more}" for more in _more(len(s.undelivered), s.undelivered_count)]
    return {
        "start": _when(summary.start, zone),
        "end": _when(summary.end, zone),
        "sent": str(s.sent),
        "delivered": str(s.delivered),
        "read": str(s.read),
        "failed": str(s.failed),
        "failures": "".join("\n" + line for line in failures),
        "hours": str(round(summary.undelivered_after.total_seconds() / 3600)),
        "undelivered": str(s.undelivered_count),
        "late": "".join("\n" + line for line in late),
        "pending": str(s.pending),
    }


def summary_notice(summary: DailySummary, zone: ZoneInfo) -> SellerNotice:
    """The notice for the bot's catalog entry ``SUMMARY_KEY`` (times in ``zone``)."""
    return SellerNotice(
        SUMMARY_KEY, values=summary_values(summary, zone), buttons=(NoticeAction.MENU,)
    )


def is_summary_hour(account: Account, at: datetime, hour: int) -> bool:
    """Whether ``at`` falls in the seller's local hour ``hour``."""
    return account.local_now(at).hour == hour


async def send_daily_summaries(
    uow_factory: UnitOfWorkFactory,
    reports: ReminderReports,
    notifier: SellerNotifier,
    clock: Clock,
    *,
    hour: int = DEFAULT_SUMMARY_HOUR,
    at: datetime | None = None,
    undelivered_after: timedelta = UNDELIVERED_AFTER,
) -> SummaryRun:
    """Send the summary to every seller whose local hour at ``at`` (default: now) is ``hour``.

    The scheduler passes the tick it runs for as ``at``, so the 24-hour periods tile.
    """
    if not 0 <= hour <= 23:
        raise ValueError("hour must be 0-23")
    end = clock.now() if at is None else at
    async with uow_factory() as uow:
        accounts = list(await uow.accounts.list())
    sent = quiet = not_now = 0
    failures: list[tuple[int, str]] = []
    for account in accounts:
        assert account.id is not None
        if not is_summary_hour(account, end, hour):
            not_now += 1
            continue
        try:
            summary = await daily_summary(
                reports, account.id, end, undelivered_after=undelivered_after
            )
            if summary.is_quiet:
                quiet += 1
                continue
            await notifier.notify(account.telegram_id, summary_notice(summary, account.zone))
        except Exception as exc:  # one unreachable seller must not stop the others
            failures.append((account.id, f"{type(exc).__name__}: {exc}"))
            continue
        sent += 1
    return SummaryRun(sent=sent, quiet=quiet, not_now=not_now, failures=tuple(failures))

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

A summary Telegram did not take is not lost: the failure is journaled in the audit trail
(``summary.failed``, entity ``daily_summary``, id the period's end) and the next
``CATCH_UP_HOURS`` hourly runs try that same summary again, until one journals
``summary.sent``. Only failed summaries are retried, so a quiet seller is never nagged late.

The notice is the bot catalog's ``events.daily_summary`` (``SUMMARY_KEY``): every word is
in the catalog, and this module fills in numbers, the period in the seller's timezone and
lists of clients and reasons (``summary_values``), so it holds no pt-BR text of its own.
One seller who cannot be reached does not stop the others; each failure is reported.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from attrs import frozen

from clientmgr.core.accounts import Account
from clientmgr.core.audit import AuditEvent
from clientmgr.ports.clock import Clock
from clientmgr.ports.notifier import NoticeAction, SellerNotice, SellerNotifier
from clientmgr.ports.planning import DeliveryStats, ReminderReports, ReportedMessage
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services.accounts import audit

__all__ = [
    "CATCH_UP_HOURS",
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
CATCH_UP_HOURS = 3
"""How many hourly runs after its hour a summary that could not be sent is tried again."""
SUMMARY_ENTITY = "daily_summary"
SENT = "summary.sent"
FAILED = "summary.failed"


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
    """One run over every account: summaries ``sent`` (``late`` of them: retries of one that
    failed in an earlier run), ``quiet`` sellers skipped, sellers with no summary due now
    (``not_now``), and ``failures`` as ``(account_id, reason)`` for the scheduler to log."""

    sent: int = 0
    late: int = 0
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


def _period_end(account: Account, at: datetime, hour: int) -> tuple[datetime, bool] | None:
    """The end of the period whose summary is due at ``at``, and whether it is a late try:
    ``at`` itself in the seller's summary hour, else the hour that was within
    ``CATCH_UP_HOURS`` (None when neither)."""
    for hours_ago in range(CATCH_UP_HOURS + 1):
        tick = at - timedelta(hours=hours_ago)
        if is_summary_hour(account, tick, hour):
            return tick, hours_ago > 0
    return None


async def _journal_of(
    uow_factory: UnitOfWorkFactory, account_id: int, end: datetime
) -> AuditEvent | None:
    async with uow_factory() as uow:
        return await uow.audit.latest(
            account_id, entity=SUMMARY_ENTITY, actions=(SENT, FAILED), entity_id=end.isoformat()
        )


async def _journal(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, end: datetime, action: str
) -> None:
    async with uow_factory() as uow:
        await audit(uow, clock, account_id, action, SUMMARY_ENTITY, end.isoformat(), actor="system")
        await uow.commit()


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
    """Send the summary to every seller whose local hour at ``at`` (default: now) is ``hour``,
    and again to those whose summary of the last ``CATCH_UP_HOURS`` hours failed.

    The scheduler passes the tick it runs for as ``at``, so the 24-hour periods tile.
    Repeating a run sends nothing twice: a sent summary is journaled.
    """
    if not 0 <= hour <= 23:
        raise ValueError("hour must be 0-23")
    now = clock.now() if at is None else at
    async with uow_factory() as uow:
        accounts = list(await uow.accounts.list())
    sent = late = quiet = not_now = 0
    failures: list[tuple[int, str]] = []
    for account in accounts:
        assert account.id is not None
        due = _period_end(account, now, hour)
        if due is None:
            not_now += 1
            continue
        end, is_late = due
        try:
            last = await _journal_of(uow_factory, account.id, end)
            if (last is not None and last.action == SENT) or (is_late and last is None):
                not_now += 1  # already sent, or nothing failed to retry
                continue
            summary = await daily_summary(
                reports, account.id, end, undelivered_after=undelivered_after
            )
            if summary.is_quiet:
                quiet += 1
                continue
            await notifier.notify(account.telegram_id, summary_notice(summary, account.zone))
            await _journal(uow_factory, clock, account.id, end, SENT)
        except Exception as exc:  # one unreachable seller must not stop the others
            failures.append((account.id, f"{type(exc).__name__}: {exc}"))
            await _journal_failure(uow_factory, clock, account.id, end)
            continue
        sent += 1
        late += is_late
    return SummaryRun(sent=sent, late=late, quiet=quiet, not_now=not_now, failures=tuple(failures))


async def _journal_failure(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, end: datetime
) -> None:
    """Journal the failure so the next runs retry; when even that fails (the database is
    the trouble), the failure is still reported by the run."""
    with contextlib.suppress(Exception):
        await _journal(uow_factory, clock, account_id, end, FAILED)

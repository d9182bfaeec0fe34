"""Set-based storage work of the scheduler's jobs: planning reminders and reporting on them.

The repositories work one entity at a time; the planning job looks at every client due on
a reminder day of every account every few minutes, and the daily summary counts a day of
messages. Both are therefore a few set-based statements per account, kept behind these
ports so the use cases (``services.planning``, ``services.daily_summary``) hold no SQL.

Every method is its own transaction, committed when it returns (like ``BotStateStore``):
a planning batch is queued whole or not at all, and nothing here needs a use case's unit
of work. Every call names its account, as every seller query does.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date, datetime
from typing import Protocol

from attrs import frozen

from clientmgr.core.clients import Client
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.templates import TemplateKind

__all__ = [
    "DeliveryStats",
    "PlannedReminder",
    "ReasonCount",
    "ReminderPlanner",
    "ReminderReports",
    "ReportedMessage",
]


@frozen
class PlannedReminder:
    """One reminder to queue: ``message`` as rendered for its client due on ``due_date``.

    ``due_date`` is the due date the text was rendered for: the reminder is queued only if
    the client is still due that day and may still get reminders when it is written.
    """

    message: OutboxMessage
    due_date: date


class ReminderPlanner(Protocol):
    async def candidates(self, account_id: int, due_dates: Collection[date]) -> Sequence[Client]:
        """The account's clients due on any of ``due_dates`` who may get reminders (neither
        paused, archived nor opted out), by due date then id; one query."""

    async def existing_keys(self, account_id: int, dedupe_keys: Collection[str]) -> set[str]:
        """Which of ``dedupe_keys`` the account's outbox already holds, in any status (a
        cancelled or failed reminder was planned too, and is not planned again)."""

    async def enqueue(self, account_id: int, reminders: Sequence[PlannedReminder]) -> int:
        """Queue the reminders in one statement (``INSERT … SELECT … ON CONFLICT
        (dedupe_key) DO NOTHING``) and return how many rows were new.

        A reminder is skipped when its dedupe key exists (planning twice queues once), when
        its message belongs to another account, or when its client no longer is due on
        ``due_date`` or may no longer get reminders: a payment committed since the client
        was read moved the due date and must not be followed by a stale reminder. On
        PostgreSQL the clients read are share-locked for the statement, so a payment
        running at the same time either waits for the reminder (and then cancels it, as
        every payment cancels the client's queued messages) or wins and the reminder is
        not written. The caller keeps batches to a few hundred reminders.
        """


@frozen
class ReasonCount:
    """How many of the day's failed messages gave this reason (the text the seller reads;
    None when none was recorded)."""

    reason: str | None
    count: int


@frozen
class ReportedMessage:
    """One message named in a summary: to whom, which kind, what became of it, and why."""

    client_id: int | None
    client_name: str | None
    kind: TemplateKind
    status: OutboxStatus
    at: datetime
    """When it was sent (undelivered) or when its last attempt was due (failed)."""
    reason: str | None = None


@frozen
class DeliveryStats:
    """One account's messages over [start, end) and the queue as it stands.

    - ``sent``: handed to WhatsApp in the window (``sent_at``), whatever happened after;
      ``delivered`` of those reached the phone (delivered or read), ``read`` were read.
    - ``failed``: failed for good, whose last attempt was due in the window (the outbox
      keeps no failure time; ``next_attempt_at`` is when that attempt became due, at most
      a lease before it failed). ``reasons`` groups them by reason, most frequent first;
      ``failures`` names the first ``limit`` of them, oldest first.
    - ``undelivered``: still only ``sent`` (no delivery ack) and sent in the window shifted
      back by the "not delivered after" delay, so each one is flagged by exactly one
      daily summary; first ``limit``, oldest first, and ``undelivered_count`` all of them.
    - ``pending``: queued or sending now, whenever created.
    """

    sent: int = 0
    delivered: int = 0
    read: int = 0
    failed: int = 0
    reasons: tuple[ReasonCount, ...] = ()
    failures: tuple[ReportedMessage, ...] = ()
    undelivered_count: int = 0
    undelivered: tuple[ReportedMessage, ...] = ()
    pending: int = 0


class ReminderReports(Protocol):
    async def delivery_stats(
        self,
        account_id: int,
        start: datetime,
        end: datetime,
        *,
        undelivered_start: datetime,
        undelivered_end: datetime,
        limit: int = 10,
    ) -> DeliveryStats:
        """The account's ``DeliveryStats`` for [start, end); undelivered messages are those
        sent in [undelivered_start, undelivered_end) and still without a delivery ack."""

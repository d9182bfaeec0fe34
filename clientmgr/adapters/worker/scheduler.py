"""The clock of the worker: APScheduler 3 (AsyncIOScheduler) running the periodic jobs.

Jobs (``reminder_jobs``):

- ``plan_reminders`` every few minutes (5 by default): ``services.planning``;
- ``daily_summary`` every hour on the hour: each seller whose local hour is the summary
  hour gets the day's summary (``services.daily_summary``);
- ``access_notices`` every hour on the hour: tells sellers, in their daytime, that their
  trial or month ends in 3 days, ended (grace days) or expired
  (``services.access_notices``);
- ``poll_payments`` every few minutes when a payment gateway is given: re-checks pending
  subscription charges, so a lost Mercado Pago webhook only delays activation
  (``services.subscription.poll_pending``).

Trials and subscriptions need no "expire" job: an account's status is derived from the
clock when read; the job above only tells the seller.

**Ticks.** Every job runs at fixed wall-clock instants, multiples of its period counted
from 2000-01-01 00:00 UTC (``IntervalTrigger`` with that start), so every replica's
scheduler fires the same tick at the same time and ``ScheduledJob.tick_for`` tells the
tick from the time it fires.

**Once per tick across replicas.** ``JobRunner.run`` takes the job's lock
(``adapters.sql.locks``: a PostgreSQL advisory lock, skipped at once when another replica
holds it), then, still under the lock, reads the last tick the job completed from the
``BotStateStore`` namespace ``"scheduler"`` and skips a tick already done. The lock stops
two replicas running the job at the same time; the mark stops a replica whose tick fires
a little later (clocks differ, a busy event loop) from running it again after the first
finished. A job that fails does not write its mark, so another replica's firing of the
same tick (or the next tick) tries again. Every job is idempotent besides, so even a
lost mark costs only a repeated, harmless run.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from attrs import frozen
from loguru import logger

from clientmgr.core.correlation import correlation_id, new_correlation_id
from clientmgr.ports.bot_state import BotStateStore
from clientmgr.ports.clock import Clock
from clientmgr.ports.locks import JobLocks
from clientmgr.ports.notifier import SellerNotifier
from clientmgr.ports.payments import PaymentGateway
from clientmgr.ports.planning import ReminderPlanner, ReminderReports
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services.access_notices import send_access_notices
from clientmgr.services.daily_summary import DEFAULT_SUMMARY_HOUR, send_daily_summaries
from clientmgr.services.planning import ConnectionCheck, plan_reminders
from clientmgr.services.subscription import poll_pending

__all__ = [
    "EPOCH",
    "MARKS_NAMESPACE",
    "JobOutcome",
    "JobRunner",
    "ScheduledJob",
    "build_scheduler",
    "reminder_jobs",
    "stop_scheduler",
]

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Where every job's ticks are counted from: whole hours and days fall on UTC boundaries."""
MARKS_NAMESPACE = "scheduler"
"""The ``BotStateStore`` namespace holding each job's last completed tick (epoch seconds)."""


@frozen
class ScheduledJob:
    """A job run every ``every``, at ticks aligned to ``EPOCH``; ``run`` gets its tick."""

    name: str
    every: timedelta
    run: Callable[[datetime], Awaitable[object]]

    def __attrs_post_init__(self) -> None:
        if self.every < timedelta(seconds=1) or self.every.total_seconds() % 1:
            raise ValueError("a job's period is a whole number of seconds, at least one")

    def tick_for(self, now: datetime) -> datetime:
        """The tick ``now`` belongs to: the last multiple of ``every`` since EPOCH."""
        seconds = self.every.total_seconds()
        elapsed = (now - EPOCH).total_seconds()
        return EPOCH + timedelta(seconds=math.floor(elapsed / seconds) * seconds)


class JobOutcome(StrEnum):
    RAN = "ran"
    LOCKED = "locked"
    """Another replica holds the job's lock: it is running this tick."""
    DONE = "done"
    """This tick was already completed (by another replica, or by this one)."""
    FAILED = "failed"


class JobRunner:
    """Runs a job once per tick across replicas (see the module docstring).

    ``marks`` None keeps only the lock (tests, or a single process); ``outcomes`` counts
    what happened to each job and ``running`` how many runs are in progress, for health
    checks, a graceful stop (``stop_scheduler``) and tests.
    """

    def __init__(self, locks: JobLocks, clock: Clock, marks: BotStateStore | None = None) -> None:
        self._locks = locks
        self._clock = clock
        self._marks = marks
        self.outcomes: dict[tuple[str, JobOutcome], int] = {}
        self.running = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def idle(self) -> None:
        """Return once no run is in progress."""
        await self._idle.wait()

    async def run(self, job: ScheduledJob) -> JobOutcome:
        tick = job.tick_for(self._clock.now())
        token = correlation_id.set(None)
        new_correlation_id()
        self.running += 1
        self._idle.clear()
        try:
            outcome = await self._run(job, tick)
        except Exception:  # the lock or the marks could not be reached: the next tick retries
            logger.exception("job {} tick {}: could not be run", job.name, tick)
            outcome = JobOutcome.FAILED
        finally:
            self.running -= 1
            if not self.running:
                self._idle.set()
            correlation_id.reset(token)
        key = (job.name, outcome)
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        return outcome

    async def _run(self, job: ScheduledJob, tick: datetime) -> JobOutcome:
        stamp = int((tick - EPOCH).total_seconds())
        async with self._locks.hold(job.name) as taken:
            if not taken:
                logger.debug("job {} tick {}: another replica runs it", job.name, tick)
                return JobOutcome.LOCKED
            if self._marks is not None:
                done = (await self._marks.load(MARKS_NAMESPACE)).get(job.name)
                if isinstance(done, int) and done >= stamp:
                    logger.debug("job {} tick {}: already done", job.name, tick)
                    return JobOutcome.DONE
            try:
                result = await job.run(tick)
            except Exception:
                logger.exception("job {} tick {} failed", job.name, tick)
                return JobOutcome.FAILED
            if self._marks is not None:
                await self._marks.save(MARKS_NAMESPACE, job.name, stamp)
        logger.info("job {} tick {}: {}", job.name, tick, result)
        return JobOutcome.RAN


def build_scheduler(jobs: Sequence[ScheduledJob], runner: JobRunner) -> AsyncIOScheduler:
    """An AsyncIOScheduler (not started) firing each job through ``runner`` at its ticks.

    Start it inside the running event loop (``scheduler.start()``) and stop it with
    ``stop_scheduler``. A tick fired late (a busy loop) still runs within
    half a period; missed ticks are coalesced into one run.
    """
    scheduler = AsyncIOScheduler(timezone=UTC)
    for job in jobs:
        seconds = int(job.every.total_seconds())
        scheduler.add_job(
            runner.run,
            IntervalTrigger(seconds=seconds, start_date=EPOCH, timezone=UTC),
            args=[job],
            id=job.name,
            name=job.name,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=max(1, seconds // 2),
            replace_existing=True,
        )
    return scheduler


async def stop_scheduler(
    scheduler: AsyncIOScheduler, runner: JobRunner, *, grace: float = 30.0
) -> bool:
    """Stop firing, let the runs in progress finish (up to ``grace`` seconds), shut down.

    ``shutdown`` alone cancels the runs in progress; a cancelled run writes no tick mark, so
    nothing is lost, but a finished run is cheaper than a repeated one. Returns whether every
    run finished in time.
    """
    if scheduler.running:
        scheduler.pause()
    finished = True
    try:
        async with asyncio.timeout(grace):
            await runner.idle()
    except TimeoutError:
        finished = False
    if scheduler.running:
        scheduler.shutdown(wait=False)
    return finished


def reminder_jobs(
    *,
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    planner: ReminderPlanner,
    is_connected: ConnectionCheck,
    reports: ReminderReports | None = None,
    notifier: SellerNotifier | None = None,
    payments: PaymentGateway | None = None,
    plan_every: timedelta = timedelta(minutes=5),
    poll_every: timedelta = timedelta(minutes=5),
    summary_hour: int = DEFAULT_SUMMARY_HOUR,
) -> list[ScheduledJob]:
    """The worker's jobs; the summary needs ``reports`` and ``notifier``, the access notices
    ``notifier``, the payment poll ``payments`` (each left out without them)."""

    async def plan(tick: datetime) -> object:
        report = await plan_reminders(uow_factory, planner, clock, is_connected)
        for account_id, reason in report.failures:
            logger.error("planning reminders of account {} failed: {}", account_id, reason)
        return report

    jobs = [ScheduledJob("plan_reminders", plan_every, plan)]
    if reports is not None and notifier is not None:
        summary_reports, summary_notifier = reports, notifier

        async def summarise(tick: datetime) -> object:
            run = await send_daily_summaries(
                uow_factory, summary_reports, summary_notifier, clock, hour=summary_hour, at=tick
            )
            for account_id, reason in run.failures:
                logger.warning("daily summary of account {} not sent: {}", account_id, reason)
            return run

        jobs.append(ScheduledJob("daily_summary", timedelta(hours=1), summarise))
    if notifier is not None:
        access_notifier = notifier

        async def tell_access(tick: datetime) -> object:
            run = await send_access_notices(uow_factory, access_notifier, clock, at=tick)
            for account_id, reason in run.failures:
                logger.warning("access notice of account {} not sent: {}", account_id, reason)
            return run

        jobs.append(ScheduledJob("access_notices", timedelta(hours=1), tell_access))
    if payments is not None:
        gateway = payments

        async def poll(tick: datetime) -> object:
            return {"changed": await poll_pending(uow_factory, clock, gateway)}

        jobs.append(ScheduledJob("poll_payments", poll_every, poll))
    return jobs

"""Two scheduler replicas on one PostgreSQL database: every job runs once per tick.

Each replica is its own engine (its own PostgreSQL sessions), advisory locks, tick marks
and APScheduler, as two worker processes would be; they run as two sets of asyncio tasks
in this process so the test can count what every run did. Ticks are one second apart to
keep the test short; everything is bounded by timeouts, and PostgreSQL being unreachable
fails the test.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from decimal import Decimal

import pytest
from attrs import frozen
from cli_support import throwaway_postgres
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from clientmgr.adapters.memory import InMemoryWhatsAppGateway
from clientmgr.adapters.sql.bot_state import SqlAlchemyBotStateStore
from clientmgr.adapters.sql.engine import create_engine, create_session_factory
from clientmgr.adapters.sql.locks import (
    NoopJobLocks,
    PostgresJobLocks,
    job_locks_for,
    lock_key,
)
from clientmgr.adapters.sql.migrate import migrate
from clientmgr.adapters.sql.planning import SqlReminderPlanner
from clientmgr.adapters.sql.tables import outbox_table
from clientmgr.adapters.sql.unit_of_work import sql_unit_of_work_factory
from clientmgr.adapters.worker.scheduler import (
    JobOutcome,
    JobRunner,
    ScheduledJob,
    build_scheduler,
    reminder_jobs,
    stop_scheduler,
)
from clientmgr.core.reminders import ReminderPolicy
from clientmgr.ports.clock import ManualClock, SystemClock
from clientmgr.services import accounts, clients
from clientmgr.services.planning import whatsapp_connected
from clientmgr.services.whatsapp import session_id_for


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated, throwaway PostgreSQL database."""
    with throwaway_postgres("cm_sched") as url:
        asyncio.run(migrate(url))
        yield url


@frozen
class Replica:
    """One scheduler replica's own connections to the database."""

    name: str
    engine: AsyncEngine

    def runner(self, clock=None, *, marks: bool = True) -> JobRunner:
        store = SqlAlchemyBotStateStore(create_session_factory(self.engine)) if marks else None
        return JobRunner(PostgresJobLocks(self.engine), clock or SystemClock(), store)


@pytest.fixture
async def replicas(postgres_url) -> AsyncIterator[tuple[Replica, Replica]]:
    engines = [create_engine(postgres_url), create_engine(postgres_url)]
    try:
        yield Replica("a", engines[0]), Replica("b", engines[1])
    finally:
        for engine in engines:
            await engine.dispose()


async def wait_until(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {what}")
        await asyncio.sleep(0.02)


# -- the lock itself ---------------------------------------------------------------------


async def test_the_advisory_lock_is_held_by_one_session_at_a_time(replicas):
    a, b = PostgresJobLocks(replicas[0].engine), PostgresJobLocks(replicas[1].engine)
    async with a.hold("plan_reminders") as first:
        assert first
        async with b.hold("plan_reminders") as second:
            assert not second
        async with b.hold("daily_summary") as other_job:
            assert other_job
    async with b.hold("plan_reminders") as after_release:
        assert after_release


async def test_a_cancelled_holder_leaves_no_lock_behind(replicas):
    a, b = PostgresJobLocks(replicas[0].engine), PostgresJobLocks(replicas[1].engine)
    holding = asyncio.Event()

    async def hold_forever() -> None:
        async with a.hold("plan_reminders") as taken:
            assert taken
            holding.set()
            await asyncio.Event().wait()

    task = asyncio.create_task(hold_forever())
    await asyncio.wait_for(holding.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with b.hold("plan_reminders") as taken:
        assert taken
    async with a.hold("plan_reminders") as again:  # a's pool holds no stale lock either
        assert again


async def test_locks_by_dialect(replicas, tmp_path):
    assert isinstance(job_locks_for(replicas[0].engine), PostgresJobLocks)
    assert isinstance(job_locks_for(None), NoopJobLocks)
    sqlite = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    try:
        locks = job_locks_for(sqlite)
        assert isinstance(locks, NoopJobLocks)
        async with locks.hold("x") as one, locks.hold("x") as two:
            assert (one, two) == (True, True)  # one process: nobody to exclude
        with pytest.raises(ValueError, match="PostgreSQL"):
            PostgresJobLocks(sqlite)
    finally:
        await sqlite.dispose()
    assert lock_key("plan_reminders") != lock_key("daily_summary")
    assert -(2**63) <= lock_key("plan_reminders") < 2**63


# -- the runner: lock + tick marks -------------------------------------------------------


async def test_a_replica_whose_tick_fires_later_finds_it_done(replicas):
    ran: list[str] = []
    clock = ManualClock(datetime(2026, 3, 4, 13, 0, 0, 400_000, tzinfo=UTC))

    def job_for(replica: Replica) -> ScheduledJob:
        async def run(tick: datetime) -> None:
            ran.append(replica.name)

        return ScheduledJob("tick_test", timedelta(minutes=5), run)

    first, late = replicas[0].runner(clock), replicas[1].runner(clock)
    assert await first.run(job_for(replicas[0])) is JobOutcome.RAN
    clock.advance(seconds=2)  # the other replica's timer fires two seconds late
    assert await late.run(job_for(replicas[1])) is JobOutcome.DONE
    clock.advance(minutes=5)  # next tick: whoever fires first runs it
    assert await late.run(job_for(replicas[1])) is JobOutcome.RAN
    assert await first.run(job_for(replicas[0])) is JobOutcome.DONE
    assert ran == ["a", "b"]

    # Without the marks only the lock is left, and a late replica runs the tick again.
    unmarked = [r.runner(clock, marks=False) for r in replicas]
    assert await unmarked[0].run(job_for(replicas[0])) is JobOutcome.RAN
    assert await unmarked[1].run(job_for(replicas[1])) is JobOutcome.RAN


async def test_a_failed_run_leaves_the_tick_to_be_tried_again(replicas):
    clock = ManualClock(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))
    attempts = 0

    async def flaky(tick: datetime) -> None:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("database hiccup")

    job = ScheduledJob("flaky", timedelta(minutes=1), flaky)
    first, second = replicas[0].runner(clock), replicas[1].runner(clock)
    assert await first.run(job) is JobOutcome.FAILED
    assert await second.run(job) is JobOutcome.RAN
    assert await first.run(job) is JobOutcome.DONE
    assert attempts == 2
    assert first.outcomes == {("flaky", JobOutcome.FAILED): 1, ("flaky", JobOutcome.DONE): 1}


async def test_while_one_replica_runs_the_other_is_locked_out(replicas):
    clock = ManualClock(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))
    started, release = asyncio.Event(), asyncio.Event()

    async def slow(tick: datetime) -> None:
        started.set()
        await release.wait()

    job = ScheduledJob("slow", timedelta(minutes=1), slow)
    running = asyncio.create_task(replicas[0].runner(clock).run(job))
    await asyncio.wait_for(started.wait(), 10)
    assert await replicas[1].runner(clock).run(job) is JobOutcome.LOCKED
    release.set()
    assert await asyncio.wait_for(running, 10) is JobOutcome.RAN


def test_ticks_are_aligned_to_wall_clock_multiples():
    async def nothing(tick: datetime) -> None:
        return None

    job = ScheduledJob("x", timedelta(minutes=5), nothing)
    at = datetime(2026, 3, 4, 13, 7, 59, tzinfo=UTC)
    assert job.tick_for(at) == datetime(2026, 3, 4, 13, 5, tzinfo=UTC)
    assert job.tick_for(datetime(2026, 3, 4, 13, 5, tzinfo=UTC)) == job.tick_for(at)
    with pytest.raises(ValueError, match="whole number of seconds"):
        ScheduledJob("x", timedelta(milliseconds=1500), nothing)


# -- two whole schedulers ----------------------------------------------------------------


async def test_two_schedulers_fire_together_and_each_tick_runs_once(replicas):
    runs: list[tuple[datetime, str]] = []
    runners = [replica.runner() for replica in replicas]
    schedulers = []
    for replica, runner in zip(replicas, runners, strict=True):

        async def record(tick: datetime, name: str = replica.name) -> None:
            runs.append((tick, name))
            await asyncio.sleep(0.05)  # a job takes a moment: the other replica must skip it

        job = ScheduledJob("every_second", timedelta(seconds=1), record)
        schedulers.append(build_scheduler([job], runner))
    for scheduler in schedulers:
        scheduler.start()
    try:
        await wait_until(lambda: len({tick for tick, _ in runs}) >= 4, 20, "four ticks")
    finally:
        for scheduler, runner in zip(schedulers, runners, strict=True):
            assert await stop_scheduler(scheduler, runner, grace=10)

    per_tick = Counter(tick for tick, _ in runs)
    assert len(per_tick) >= 4
    assert set(per_tick.values()) == {1}, per_tick
    fired = sum(runner.outcomes.get(("every_second", JobOutcome.RAN), 0) for runner in runners)
    skipped = sum(
        count
        for runner in runners
        for (name, outcome), count in runner.outcomes.items()
        if outcome in (JobOutcome.LOCKED, JobOutcome.DONE)
    )
    assert fired == len(runs)
    assert skipped >= len(per_tick) - 1  # the other replica fired too, and stood aside


async def test_two_schedulers_plan_each_reminder_once(replicas):
    """The real planning job on both replicas: one run per tick, one row per reminder."""
    use_case_clock = ManualClock(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))  # 10:00 in São Paulo
    today = date(2026, 3, 4)
    gateway = InMemoryWhatsAppGateway(everyone_on_whatsapp=True)
    setup = sql_unit_of_work_factory(create_session_factory(replicas[0].engine))
    account, _ = await accounts.register_account(setup, use_case_clock, 42, "Ana")
    await accounts.update_profile(
        setup,
        use_case_clock,
        account.id,
        reminder_policy=ReminderPolicy(
            offsets=(-3, 0, 1), window_start=clock_time(8), window_end=clock_time(20)
        ),
    )
    await gateway.start_session(session_id_for(account.id))
    gateway.scan(session_id_for(account.id), "+5511900000000")
    for i, days in enumerate((3, 0, -1, 0, 2, 5)):
        await clients.add_client(
            setup,
            use_case_clock,
            account.id,
            clients.AddClient(
                name=f"Cliente {i}",
                phone=f"+55119888800{i:02d}",
                price=Decimal("35.90"),
                due_date=today + timedelta(days=days),
            ),
        )

    planned: list[tuple[datetime, str, int]] = []
    runners, schedulers = [], []
    for replica in replicas:
        sessions = create_session_factory(replica.engine)
        [job] = reminder_jobs(
            uow_factory=sql_unit_of_work_factory(sessions),
            clock=use_case_clock,
            planner=SqlReminderPlanner(sessions),
            is_connected=whatsapp_connected(gateway),
            plan_every=timedelta(seconds=1),
        )

        async def counted(tick: datetime, job=job, name=replica.name) -> object:
            report = await job.run(tick)
            planned.append((tick, name, report.queued))
            return report

        runner = replica.runner()
        runners.append(runner)
        schedulers.append(build_scheduler([ScheduledJob(job.name, job.every, counted)], runner))
    for scheduler in schedulers:
        scheduler.start()
    try:
        await wait_until(lambda: len(planned) >= 3, 20, "three planning runs")
    finally:
        for scheduler, runner in zip(schedulers, runners, strict=True):
            assert await stop_scheduler(scheduler, runner, grace=10)

    assert Counter(tick for tick, _, _ in planned).most_common(1)[0][1] == 1
    assert sum(queued for _, _, queued in planned) == 4  # due in 3 days, today (2), yesterday
    async with replicas[1].engine.connect() as connection:
        rows = await connection.scalar(select(func.count()).select_from(outbox_table))
    assert rows == 4


# -- the jobs a worker runs --------------------------------------------------------------


async def test_the_worker_jobs_run_through_a_runner_on_memory_storage():
    """Wiring: which jobs exist with which adapters, and that each runs to completion."""
    from clientmgr.adapters.memory import (
        InMemoryBotStateStore,
        InMemoryPaymentGateway,
        InMemoryStore,
    )
    from clientmgr.adapters.memory.notifier import RecordingNotifier
    from clientmgr.adapters.memory.planning import InMemoryReminderPlanner
    from clientmgr.core.outbox import OutboxStatus
    from clientmgr.services.daily_summary import SUMMARY_KEY

    store = InMemoryStore()
    clock = ManualClock(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))  # 10:00 in São Paulo
    gateway = InMemoryWhatsAppGateway(everyone_on_whatsapp=True)
    planner, notifier = InMemoryReminderPlanner(store), RecordingNotifier()
    account, _ = await accounts.register_account(store.unit_of_work, clock, 42, "Ana")
    await gateway.start_session(session_id_for(account.id))
    gateway.scan(session_id_for(account.id), "+5511900000000")
    client = await clients.add_client(
        store.unit_of_work,
        clock,
        account.id,
        clients.AddClient(
            name="Maria", phone="+5511988887777", price=Decimal(30), due_date=date(2026, 3, 4)
        ),
    )
    common = {
        "uow_factory": store.unit_of_work,
        "clock": clock,
        "planner": planner,
        "is_connected": whatsapp_connected(gateway),
    }
    assert [job.name for job in reminder_jobs(**common)] == ["plan_reminders"]
    jobs = reminder_jobs(
        **common, reports=planner, notifier=notifier, payments=InMemoryPaymentGateway()
    )
    assert [job.name for job in jobs] == [
        "plan_reminders",
        "daily_summary",
        "access_notices",
        "poll_payments",
    ]
    runner = JobRunner(NoopJobLocks(), clock, InMemoryBotStateStore())
    plan, summary, access, poll = jobs

    assert await runner.run(plan) is JobOutcome.RAN
    assert await runner.run(plan) is JobOutcome.DONE  # same tick
    async with store.unit_of_work() as uow:
        [message] = await uow.outbox.list_for_client(account.id, client.id)
        await uow.outbox.mark_sent(account.id, message.id, provider_message_id="w1", at=clock.now())
        await uow.commit()
    assert message.status is OutboxStatus.QUEUED

    assert await runner.run(poll) is JobOutcome.RAN
    clock.advance(hours=10)  # 20:00 in São Paulo: the summary hour
    assert await runner.run(summary) is JobOutcome.RAN
    [sent] = notifier.sent
    assert (sent.telegram_id, sent.notice.key) == (42, SUMMARY_KEY)
    assert sent.notice.values["sent"] == "1"
    clock.advance(days=5, hours=-6)  # 14:00, 2 days before the 7-day trial ends
    assert await runner.run(access) is JobOutcome.RAN
    assert notifier.sent[-1].notice.key == "events.access.ending.trial"
    scheduler = build_scheduler(jobs, runner)
    assert sorted(job.id for job in scheduler.get_jobs()) == sorted(job.name for job in jobs)

"""The daily summary: what the seller reads, who gets it when, and who does not."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from attrs import evolve

from clientmgr.adapters.memory import InMemoryStore
from clientmgr.adapters.memory.notifier import RecordingNotifier
from clientmgr.adapters.memory.planning import InMemoryReminderPlanner
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.templates import TemplateKind
from clientmgr.ports.clock import ManualClock
from clientmgr.ports.notifier import NoticeAction
from clientmgr.ports.planning import DeliveryStats
from clientmgr.services import accounts, clients
from clientmgr.services.daily_summary import (
    CATCH_UP_HOURS,
    SUMMARY_KEY,
    DailySummary,
    SummaryRun,
    daily_summary,
    send_daily_summaries,
    summary_notice,
    summary_values,
)

# 20:00 in São Paulo (UTC-3) on March 4th, 2026: the default summary hour.
EVENING = datetime(2026, 3, 4, 23, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def uow_factory(store):
    return store.unit_of_work


@pytest.fixture
def reports(store) -> InMemoryReminderPlanner:
    return InMemoryReminderPlanner(store)


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(EVENING)


@pytest.fixture
async def account(uow_factory, clock):
    acc, _ = await accounts.register_account(uow_factory, clock, 42, "Ana")
    return acc


async def add_client(uow_factory, clock, account_id, name, phone):
    return await clients.add_client(
        uow_factory,
        clock,
        account_id,
        clients.AddClient(name=name, phone=phone, price=Decimal(30), due_date=date(2026, 3, 4)),
    )


async def add_message(uow_factory, client, n, status, **fields):
    message = OutboxMessage(
        account_id=client.account_id,
        client_id=client.id,
        to=client.phone,
        text="Oi",
        kind=TemplateKind.DUE_TODAY,
        dedupe_key=f"{client.account_id}:{n}",
        created_at=EVENING - 30 * HOUR,
        next_attempt_at=EVENING - 12 * HOUR,
        status=status,
        **fields,
    )
    async with uow_factory() as uow:
        await uow.outbox.add(message)
        await uow.commit()


@pytest.fixture
async def busy_day(uow_factory, clock, account):
    ana = await add_client(uow_factory, clock, account.id, "Ana Souza", "+5511988880001")
    bia = await add_client(uow_factory, clock, account.id, "Bia", "+5511988880002")
    n = iter(range(100))
    for _ in range(3):
        await add_message(uow_factory, ana, next(n), OutboxStatus.READ, sent_at=EVENING - 3 * HOUR)
    await add_message(uow_factory, bia, next(n), OutboxStatus.DELIVERED, sent_at=EVENING - HOUR)
    # sent 8 h ago, still no delivery tick: flagged
    await add_message(uow_factory, bia, next(n), OutboxStatus.SENT, sent_at=EVENING - 8 * HOUR)
    no_wa = "O número não tem WhatsApp."
    for client in (ana, bia, bia):
        await add_message(uow_factory, client, next(n), OutboxStatus.FAILED, last_error=no_wa)
    await add_message(uow_factory, ana, next(n), OutboxStatus.FAILED, last_error=None)
    await add_message(uow_factory, ana, next(n), OutboxStatus.QUEUED)
    return ana, bia


async def test_the_summary_counts_the_last_24_hours(reports, account, busy_day):
    summary = await daily_summary(reports, account.id, EVENING)
    assert (summary.start, summary.end) == (EVENING - 24 * HOUR, EVENING)
    s = summary.stats
    assert (s.sent, s.delivered, s.read, s.failed, s.pending) == (5, 4, 3, 4, 1)
    assert s.undelivered_count == 1
    assert not summary.is_quiet


async def test_the_notice_a_seller_gets(reports, account, busy_day):
    summary = await daily_summary(reports, account.id, EVENING)
    notice = summary_notice(summary, account.zone)
    assert notice.key == SUMMARY_KEY
    assert notice.buttons == (NoticeAction.MENU,)
    assert notice.values == {
        "start": "03/03 20:00",
        "end": "04/03 20:00",
        "sent": "5",
        "delivered": "4",
        "read": "3",
        "failed": "4",
        "failures": "\n   • 3× O número não tem WhatsApp.\n   • 1× —"
        "\n   👥 Ana Souza, Bia, Bia, Ana Souza",
        "hours": "6",
        "undelivered": "1",
        "late": "\n   • Bia (04/03 12:00)",
        "pending": "1",
    }


def test_long_lists_are_cut_and_counted():
    stats = DeliveryStats(failed=9, undelivered_count=7)
    values = summary_values(DailySummary(1, EVENING - 24 * HOUR, EVENING, stats), UTC)
    assert values["failures"] == ""  # no reasons or names known: the count says it
    assert values["late"] == "\n   • +7"
    quiet = summary_values(DailySummary(1, EVENING, EVENING, DeliveryStats(sent=2)), UTC)
    assert (quiet["failures"], quiet["late"], quiet["sent"]) == ("", "", "2")


def test_a_quiet_day_is_quiet():
    summary = DailySummary(1, EVENING - 24 * HOUR, EVENING, DeliveryStats())
    assert summary.is_quiet
    assert not DailySummary(1, EVENING, EVENING, DeliveryStats(pending=1)).is_quiet


async def test_sellers_get_it_at_their_own_hour_and_quiet_ones_get_nothing(
    uow_factory, reports, notifier, clock, account, busy_day
):
    await accounts.register_account(uow_factory, clock, 43, "Calma")
    manaus, _ = await accounts.register_account(uow_factory, clock, 44, "Manaus")
    manaus = await accounts.update_profile(uow_factory, clock, manaus.id, timezone="America/Manaus")
    m_client = await add_client(uow_factory, clock, manaus.id, "Caio", "+5592988880001")
    await add_message(uow_factory, m_client, 1, OutboxStatus.SENT, sent_at=EVENING - HOUR)

    run = await send_daily_summaries(uow_factory, reports, notifier, clock, at=EVENING)
    assert run == SummaryRun(sent=1, quiet=1, not_now=1)
    [sent] = notifier.sent
    assert sent.telegram_id == 42
    assert sent.notice.key == SUMMARY_KEY
    assert (sent.notice.values["start"], sent.notice.values["sent"]) == ("03/03 20:00", "5")

    # an hour later it is 20:00 in Manaus (UTC-4)
    run = await send_daily_summaries(uow_factory, reports, notifier, clock, at=EVENING + HOUR)
    assert run == SummaryRun(sent=1, not_now=2)
    assert notifier.sent[-1].telegram_id == 44
    assert notifier.sent[-1].notice.values["sent"] == "1"
    assert notifier.sent[-1].notice.values["start"] == "03/03 20:00"  # Manaus time


async def test_a_seller_who_cannot_be_reached_does_not_stop_the_others(
    uow_factory, reports, notifier, clock, account, busy_day
):
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    client = await add_client(uow_factory, clock, other.id, "Caio", "+5511988880009")
    await add_message(uow_factory, client, 1, OutboxStatus.QUEUED)
    notifier.fail_next()  # Ana is first: Telegram does not take her summary
    run = await send_daily_summaries(uow_factory, reports, notifier, clock)
    assert run.sent == 1
    [(account_id, reason)] = run.failures
    assert account_id == account.id
    assert reason.startswith("SellerUnreachableError")
    assert [n.telegram_id for n in notifier.sent] == [43]


async def test_a_reminder_is_flagged_undelivered_by_one_summary_only(
    uow_factory, reports, clock, account
):
    ana = await add_client(uow_factory, clock, account.id, "Ana", "+5511988880001")
    await add_message(uow_factory, ana, 1, OutboxStatus.SENT, sent_at=EVENING - 2 * HOUR)
    flagged = []
    for day in range(3):
        summary = await daily_summary(reports, account.id, EVENING + timedelta(days=day))
        flagged.append(summary.stats.undelivered_count)
    assert flagged == [0, 1, 0]


async def test_the_hour_is_checked(uow_factory, reports, notifier, clock):
    with pytest.raises(ValueError, match="hour"):
        await send_daily_summaries(uow_factory, reports, notifier, clock, hour=24)


async def test_a_changed_delay_is_said_in_the_text(uow_factory, reports, clock, account):
    ana = await add_client(uow_factory, clock, account.id, "Ana", "+5511988880001")
    await add_message(uow_factory, ana, 1, OutboxStatus.SENT, sent_at=EVENING - 2 * HOUR)
    summary = await daily_summary(reports, account.id, EVENING, undelivered_after=HOUR)
    values = summary_values(summary, account.zone)
    assert (values["hours"], values["undelivered"]) == ("1", "1")
    assert evolve(summary, undelivered_after=3 * HOUR).undelivered_after == 3 * HOUR


async def test_a_summary_telegram_did_not_take_is_sent_in_a_later_hour(
    uow_factory, reports, notifier, clock, account, busy_day
):
    notifier.fail_next()
    run = await send_daily_summaries(uow_factory, reports, notifier, clock, at=EVENING)
    assert (run.sent, len(run.failures), notifier.sent) == (0, 1, [])
    notifier.fail_next()  # Telegram still down at 21:00
    run = await send_daily_summaries(uow_factory, reports, notifier, clock, at=EVENING + HOUR)
    assert (run.sent, len(run.failures)) == (0, 1)
    run = await send_daily_summaries(uow_factory, reports, notifier, clock, at=EVENING + 2 * HOUR)
    assert (run.sent, run.late) == (1, 1)
    [told] = notifier.sent
    assert told.notice.values["start"] == "03/03 20:00"  # the same day's summary, not a new one
    for hours in (2, 3, 4):  # a repeat run, and the later hours: nothing twice
        run = await send_daily_summaries(
            uow_factory, reports, notifier, clock, at=EVENING + hours * HOUR
        )
        assert run.sent == 0
    assert len(notifier.sent) == 1


async def test_a_failed_summary_is_given_up_after_the_catch_up_hours(
    uow_factory, reports, notifier, clock, account, busy_day
):
    for hours in range(CATCH_UP_HOURS + 1):
        notifier.fail_next()
        await send_daily_summaries(uow_factory, reports, notifier, clock, at=EVENING + hours * HOUR)
    run = await send_daily_summaries(
        uow_factory, reports, notifier, clock, at=EVENING + (CATCH_UP_HOURS + 1) * HOUR
    )
    assert (run.sent, run.failures, notifier.sent) == (0, (), [])


async def test_the_same_hour_run_twice_sends_one_summary(
    uow_factory, reports, notifier, clock, account, busy_day
):
    for _ in range(2):
        await send_daily_summaries(uow_factory, reports, notifier, clock, at=EVENING)
    assert len(notifier.sent) == 1

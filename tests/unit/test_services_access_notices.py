"""Sellers are told their access ends in 3 days, ended and expired: once each, by day."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clientmgr.adapters.memory import InMemoryStore
from clientmgr.adapters.memory.notifier import RecordingNotifier
from clientmgr.adapters.telegram.catalog import messages
from clientmgr.ports.clock import ManualClock
from clientmgr.ports.notifier import NoticeAction
from clientmgr.services import access_notices, accounts
from clientmgr.services.access_notices import AccessMoment, access_moment, send_access_notices

# Registered 2026-03-04 13:00 UTC (10:00 in São Paulo): the trial ends 03-11 at 10:00 local.
START = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def account(store, clock):
    acc, _ = await accounts.register_account(store.unit_of_work, clock, 42, "Ana")
    return acc


async def run(store, notifier, clock):
    return await send_access_notices(store.unit_of_work, notifier, clock)


async def test_nothing_is_said_while_plenty_of_time_is_left(store, notifier, clock, account):
    for _ in range(3):
        assert (await run(store, notifier, clock)).sent == 0
        clock.advance(days=1)
    assert notifier.sent == []


async def test_the_trial_ending_is_told_once_in_daytime(store, notifier, clock, account):
    clock.advance(days=4, hours=12)  # 03-08 22:00 local: 2.5 days left, but it is night
    assert (await run(store, notifier, clock)).sent == 0
    clock.advance(hours=11)  # 09:00 local
    assert (await run(store, notifier, clock)).sent == 1
    [told] = notifier.sent
    assert told.telegram_id == 42
    assert told.notice.key == "events.access.ending.trial"
    assert told.notice.values == {"days": "3", "date": "11/03", "time": "10:00"}
    assert told.notice.buttons == (NoticeAction.SUBSCRIPTION,)
    for _ in range(5):  # later hours and days: said already
        clock.advance(hours=5)
        if access_moment(account, clock.now()) is not AccessMoment.ENDING:
            break
        assert (await run(store, notifier, clock)).sent == 0
    assert len(notifier.sent) == 1


async def test_grace_then_expiry_are_each_told_once(store, notifier, clock, account):
    clock.advance(days=7, hours=2)  # 03-11 12:00 local: the trial ended 2 hours ago
    await run(store, notifier, clock)
    await run(store, notifier, clock)
    clock.advance(days=3, hours=1)  # grace over
    await run(store, notifier, clock)
    await run(store, notifier, clock)
    assert notifier.keys() == ["events.access.grace", "events.access.expired"]
    grace, expired = notifier.sent
    assert grace.notice.values == {"date": "11/03", "time": "10:00", "grace_date": "14/03"}
    assert expired.notice.values["date"] == "11/03"


async def test_a_renewal_makes_the_next_period_told_again(store, notifier, clock, account):
    clock.advance(days=5)  # 2 days left of the trial
    await run(store, notifier, clock)
    await accounts.grant_days(store.unit_of_work, clock, account.id, 30)
    assert (await run(store, notifier, clock)).sent == 0  # 32 days left now
    clock.advance(days=30)  # 2 days left of the paid month
    await run(store, notifier, clock)
    assert notifier.keys() == ["events.access.ending.trial", "events.access.ending.paid"]
    assert notifier.sent[-1].notice.values["date"] == "10/04"


async def test_a_seller_telegram_cannot_reach_is_told_on_the_next_run(
    store, notifier, clock, account
):
    await accounts.register_account(store.unit_of_work, clock, 43, "Bia")
    clock.advance(days=5)
    notifier.fail_next()  # Ana is first
    result = await run(store, notifier, clock)
    assert result.sent == 1
    [(account_id, reason)] = result.failures
    assert (account_id, reason.split(":")[0]) == (account.id, "SellerUnreachableError")
    clock.advance(hours=1)
    assert (await run(store, notifier, clock)).sent == 1
    assert [n.telegram_id for n in notifier.sent] == [43, 42]


def test_every_notice_key_is_in_the_catalog():
    text = Path(access_notices.__file__).read_text(encoding="utf-8")
    prefixes = set(re.findall(r'f?"(events\.access\.[a-z_.{}]+)"', text))
    assert prefixes
    keys = {
        f"events.access.{moment.value}{suffix}"
        for moment in AccessMoment
        for suffix in ((".trial", ".paid") if moment is AccessMoment.ENDING else ("",))
    }
    assert not keys - set(messages()), keys - set(messages())

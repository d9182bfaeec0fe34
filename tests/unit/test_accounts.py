"""Account status comes from the clock: 7-day trial, paid period, 3 days of grace, read-only."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientmgr.core.accounts import (
    DEFAULT_TIMEZONE,
    GRACE_PERIOD,
    TRIAL_PERIOD,
    Account,
    AccountStatus,
)
from clientmgr.core.reminders import ReminderPolicy

START = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def new_account(**extra: object) -> Account:
    return Account.new(telegram_id=7, name="Ana", now=START, **extra)


# --- trial -----------------------------------------------------------------------------------


def test_new_account_gets_seven_day_trial_in_sao_paulo() -> None:
    account = new_account()
    assert timedelta(days=7) == TRIAL_PERIOD
    assert account.trial_ends_at == START + timedelta(days=7)
    assert account.created_at == START
    assert account.paid_until is None
    assert account.timezone == DEFAULT_TIMEZONE == "America/Sao_Paulo"
    assert account.reminder_policy == ReminderPolicy()


def test_new_passes_extra_fields_through() -> None:
    account = new_account(pix_key="ana@pix.com", business_name="Ana Personal")
    assert (account.pix_key, account.business_name) == ("ana@pix.com", "Ana Personal")


@pytest.mark.parametrize(
    ("offset", "status"),
    [
        (timedelta(0), AccountStatus.TRIAL),
        (6 * DAY, AccountStatus.TRIAL),
        (7 * DAY - timedelta(seconds=1), AccountStatus.TRIAL),
        (7 * DAY, AccountStatus.GRACE),
        (10 * DAY - timedelta(seconds=1), AccountStatus.GRACE),
        (10 * DAY, AccountStatus.EXPIRED),
        (400 * DAY, AccountStatus.EXPIRED),
    ],
)
def test_trial_then_grace_then_expired(offset: timedelta, status: AccountStatus) -> None:
    assert new_account().status(START + offset) is status


# --- paid ------------------------------------------------------------------------------------


def test_paying_during_trial_makes_the_account_active() -> None:
    account = new_account(paid_until=START + 37 * DAY)
    assert account.status(START + DAY) is AccountStatus.ACTIVE
    assert account.access_until == START + 37 * DAY


def test_paid_period_runs_out_into_grace_then_expiry() -> None:
    paid_until = START + 40 * DAY
    account = new_account(paid_until=paid_until)
    assert account.status(paid_until - timedelta(seconds=1)) is AccountStatus.ACTIVE
    assert account.status(paid_until) is AccountStatus.GRACE
    assert account.status(paid_until + GRACE_PERIOD - timedelta(seconds=1)) is AccountStatus.GRACE
    assert account.status(paid_until + GRACE_PERIOD) is AccountStatus.EXPIRED


def test_paid_until_inside_the_trial_does_not_shorten_it() -> None:
    account = new_account(paid_until=START + 2 * DAY)
    assert account.access_until == account.trial_ends_at
    assert account.status(START + 5 * DAY) is AccountStatus.TRIAL


def test_renewing_an_expired_account_reactivates_it() -> None:
    now = START + 60 * DAY
    lapsed = new_account(paid_until=START + 30 * DAY)
    assert lapsed.status(now) is AccountStatus.EXPIRED
    renewed = Account(
        telegram_id=lapsed.telegram_id,
        name=lapsed.name,
        created_at=lapsed.created_at,
        trial_ends_at=lapsed.trial_ends_at,
        paid_until=now + 30 * DAY,
    )
    assert renewed.status(now) is AccountStatus.ACTIVE


def test_grace_period_is_three_days() -> None:
    assert timedelta(days=3) == GRACE_PERIOD


# --- can_write -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "can_write"),
    [
        (AccountStatus.TRIAL, True),
        (AccountStatus.ACTIVE, True),
        (AccountStatus.GRACE, True),
        (AccountStatus.EXPIRED, False),
    ],
)
def test_only_expired_accounts_cannot_write(status: AccountStatus, can_write: bool) -> None:
    assert status.can_write is can_write


def test_expired_account_cannot_write_but_keeps_its_data() -> None:
    account = new_account(pix_key="ana@pix.com")
    later = START + 30 * DAY
    assert not account.status(later).can_write
    assert account.pix_key == "ana@pix.com"


# --- days_left -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "days"),
    [
        (timedelta(0), 7),
        (timedelta(hours=1), 7),  # 6 days 23 hours still counts as 7
        (DAY, 6),
        (6 * DAY + timedelta(hours=23), 1),
        (7 * DAY, 0),
        (8 * DAY, 0),
        (100 * DAY, 0),
    ],
)
def test_days_left_rounds_up_and_never_goes_negative(offset: timedelta, days: int) -> None:
    assert new_account().days_left(START + offset) == days


def test_days_left_counts_the_paid_period() -> None:
    account = new_account(paid_until=START + 30 * DAY)
    assert account.days_left(START + 10 * DAY) == 20


@given(st.timedeltas(min_value=-DAY * 400, max_value=DAY * 400))
def test_days_left_is_zero_exactly_when_access_ended(offset: timedelta) -> None:
    account = new_account()
    now = account.trial_ends_at + offset
    left = account.days_left(now)
    assert left >= 0
    if offset >= timedelta(0):
        assert left == 0
    elif offset <= -timedelta(seconds=1):
        assert left >= 1
        assert (left - 1) * DAY < -offset <= left * DAY


# --- send window -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("utc_time", "in_sao_paulo", "in_utc"),
    [
        (time(10, 30), False, True),  # 07:30 in São Paulo: too early there
        (time(11, 0), True, True),  # 08:00 local: window opens
        (time(22, 59), True, False),  # 19:59 local
        (time(23, 0), False, False),  # 20:00 local: window closed (end is exclusive)
        (time(2, 0), False, False),  # 23:00 the day before in São Paulo
        (time(7, 30), False, False),  # 04:30 local
    ],
)
def test_send_window_is_in_the_sellers_timezone(
    utc_time: time, in_sao_paulo: bool, in_utc: bool
) -> None:
    now = datetime.combine(START.date(), utc_time, tzinfo=UTC)
    assert new_account().in_send_window(now) is in_sao_paulo
    assert new_account(timezone="UTC").in_send_window(now) is in_utc


def test_local_now_converts_to_the_sellers_zone() -> None:
    local = new_account().local_now(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    assert local.tzinfo == ZoneInfo("America/Sao_Paulo")
    assert (local.hour, local.minute) == (9, 0)


def test_custom_send_window_is_respected() -> None:
    policy = ReminderPolicy(window_start=time(9, 0), window_end=time(12, 0))
    account = new_account(reminder_policy=policy)
    at = datetime(2026, 12, 2, 14, 30, tzinfo=UTC)  # 11:30 in São Paulo
    assert account.in_send_window(at)
    assert not account.in_send_window(at + timedelta(hours=1))


def test_window_follows_the_instant_not_the_offset_it_is_given_in() -> None:
    account = new_account()
    utc = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
    tokyo = utc.astimezone(ZoneInfo("Asia/Tokyo"))
    assert account.in_send_window(utc) is account.in_send_window(tokyo) is True

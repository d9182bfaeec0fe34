"""Account use cases: registration with a trial, grant days, profile changes, audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest

from clientmgr.core.accounts import AccountStatus
from clientmgr.core.reminders import ReminderPolicy
from clientmgr.errors import AccountNotFoundError
from clientmgr.services import accounts


async def test_register_starts_a_seven_day_trial_once(uow_factory, clock):
    account, created = await accounts.register_account(uow_factory, clock, 555, "  Ana  ")
    again, created_again = await accounts.register_account(uow_factory, clock, 555, "Other")
    assert created
    assert not created_again
    assert again.id == account.id
    assert again.name == "Ana"
    assert account.trial_ends_at == clock.now() + timedelta(days=7)
    assert account.status(clock.now()) is AccountStatus.TRIAL
    assert len(await accounts.list_accounts(uow_factory)) == 1


async def test_registration_is_audited(uow_factory, clock):
    account, _ = await accounts.register_account(uow_factory, clock, 1, "Ana")
    async with uow_factory() as uow:
        events = await uow.audit.list(account.id)
    assert [e.action for e in events] == ["account.registered"]


async def test_grant_days_extends_from_the_end_of_the_trial(uow_factory, clock):
    account, _ = await accounts.register_account(uow_factory, clock, 1, "Ana")
    granted = await accounts.grant_days(uow_factory, clock, account.id, 30)
    assert granted.paid_until == account.trial_ends_at + timedelta(days=30)
    assert granted.status(clock.now()) is AccountStatus.ACTIVE


async def test_grant_days_after_expiry_counts_from_now(uow_factory, clock):
    account, _ = await accounts.register_account(uow_factory, clock, 1, "Ana")
    clock.advance(days=40)
    assert (await accounts.get_account(uow_factory, account.id)).status(
        clock.now()
    ) is AccountStatus.EXPIRED
    granted = await accounts.grant_days(uow_factory, clock, account.id, 5)
    assert granted.paid_until == clock.now() + timedelta(days=5)


@pytest.mark.parametrize("days", [0, -1, 10_000])
async def test_grant_days_rejects_silly_amounts(uow_factory, clock, days):
    account, _ = await accounts.register_account(uow_factory, clock, 1, "Ana")
    with pytest.raises(ValueError, match="days"):
        await accounts.grant_days(uow_factory, clock, account.id, days)


async def test_update_profile_persists_pix_and_policy(uow_factory, clock):
    account, _ = await accounts.register_account(uow_factory, clock, 1, "Ana")
    policy = ReminderPolicy(offsets=(-1, 0))
    await accounts.update_profile(
        uow_factory,
        clock,
        account.id,
        pix_key="ana@example.com",
        business_name="Ana Fitness",
        reminder_policy=policy,
    )
    stored = await accounts.get_account(uow_factory, account.id)
    assert stored.pix_key == "ana@example.com"
    assert stored.business_name == "Ana Fitness"
    assert stored.reminder_policy.offsets == (-1, 0)


async def test_update_profile_refuses_unknown_fields(uow_factory, clock):
    account, _ = await accounts.register_account(uow_factory, clock, 1, "Ana")
    with pytest.raises(TypeError, match="telegram_id"):
        await accounts.update_profile(uow_factory, clock, account.id, telegram_id=2)


async def test_lookup_by_unknown_telegram_id_is_a_clear_error(uow_factory):
    with pytest.raises(AccountNotFoundError):
        await accounts.get_account_by_telegram_id(uow_factory, 999)

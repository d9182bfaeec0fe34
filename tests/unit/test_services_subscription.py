"""Subscription use cases: PIX checkout, applying Mercado Pago's verdict once, the overview."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from attrs import evolve
from dateutil.relativedelta import relativedelta

from clientmgr.adapters.memory import InMemoryPaymentGateway
from clientmgr.core.accounts import AccountStatus
from clientmgr.core.subscriptions import SubscriptionPayment, SubscriptionStatus
from clientmgr.errors import AccountNotFoundError, PaymentGatewayUnavailableError
from clientmgr.services import accounts, subscription


@pytest.fixture
def gateway(clock) -> InMemoryPaymentGateway:
    return InMemoryPaymentGateway(clock=clock)


async def new_account(uow_factory, clock, telegram_id: int = 1) -> int:
    account, _ = await accounts.register_account(uow_factory, clock, telegram_id, "Ana")
    assert account.id is not None
    return account.id


async def actions(uow_factory, account_id: int) -> list[str]:
    async with uow_factory() as uow:
        return [e.action for e in await uow.audit.list(account_id)]


# -- checkout ---------------------------------------------------------------------------


async def test_checkout_creates_a_pending_charge_of_twenty_reais(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    charge = await subscription.start_checkout(
        uow_factory, clock, gateway, account_id, payer_email="ana@example.com"
    )
    assert charge.id is not None
    assert charge.status is SubscriptionStatus.PENDING
    assert charge.amount == Decimal("20.00")
    assert charge.created_at == clock.now()
    assert subscription.checkout_expires_at(charge) == clock.now() + timedelta(minutes=30)
    remote = gateway.payments[charge.mp_payment_id]
    assert charge.qr_code == remote.qr_code
    assert remote.external_reference == f"{account_id}:2026-03"  # the trial ends on Mar 11
    assert remote.expires_at == clock.now() + timedelta(minutes=30)
    assert gateway.payer_emails[charge.mp_payment_id] == "ana@example.com"
    async with uow_factory() as uow:
        assert await uow.subscriptions.get_by_mp_id(charge.mp_payment_id) == charge
    assert await actions(uow_factory, account_id) == [
        "subscription.checkout_started",
        "account.registered",
    ]


async def test_a_double_tap_reuses_the_pending_charge(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    first = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    clock.advance(minutes=24)  # still 6 minutes to pay
    again = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    assert again == first
    assert len(gateway.payments) == 1


async def test_two_simultaneous_taps_store_one_charge(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    first, second = await asyncio.gather(
        subscription.start_checkout(uow_factory, clock, gateway, account_id),
        subscription.start_checkout(uow_factory, clock, gateway, account_id),
    )
    assert first.mp_payment_id == second.mp_payment_id
    assert len(gateway.payments) == 1
    async with uow_factory() as uow:
        assert len(await uow.subscriptions.list_for_account(account_id)) == 1


async def test_an_expiring_charge_is_replaced(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    first = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    clock.advance(minutes=26)  # under 5 minutes left: no time to pay it
    second = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    assert second.mp_payment_id != first.mp_payment_id
    assert len(gateway.payments) == 2
    clock.advance(minutes=10)
    third = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    assert third == second


async def test_checkout_for_an_unknown_account(uow_factory, clock, gateway):
    with pytest.raises(AccountNotFoundError):
        await subscription.start_checkout(uow_factory, clock, gateway, 404)
    assert gateway.payments == {}


async def test_checkout_with_mercado_pago_down_stores_nothing(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    gateway.down = True
    with pytest.raises(PaymentGatewayUnavailableError):
        await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    async with uow_factory() as uow:
        assert await uow.subscriptions.list_for_account(account_id) == []


async def test_the_period_is_the_month_being_bought(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    await accounts.grant_days(uow_factory, clock, account_id, 25)  # access until Apr 5
    await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    [remote] = gateway.payments.values()
    assert remote.external_reference == f"{account_id}:2026-04"


# -- applying the verdict ---------------------------------------------------------------


async def test_approval_turns_a_trial_into_a_paid_month(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    before = await accounts.get_account(uow_factory, account_id)
    charge = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    clock.advance(minutes=3)
    gateway.approve(charge.mp_payment_id)

    assert await subscription.apply_payment_notification(
        uow_factory, clock, gateway, charge.mp_payment_id
    )

    account = await accounts.get_account(uow_factory, account_id)
    assert account.paid_until == before.trial_ends_at + relativedelta(months=1)
    assert account.status(clock.now()) is AccountStatus.ACTIVE
    async with uow_factory() as uow:
        stored = await uow.subscriptions.get_by_mp_id(charge.mp_payment_id)
    assert stored is not None
    assert stored.status is SubscriptionStatus.APPROVED
    assert stored.applied
    assert stored.approved_at == clock.now()
    assert (await actions(uow_factory, account_id))[0] == "subscription.approved"


async def test_an_approval_is_applied_once(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    charge = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    gateway.approve(charge.mp_payment_id)
    apply = subscription.apply_payment_notification
    assert await apply(uow_factory, clock, gateway, charge.mp_payment_id)
    paid_until = (await accounts.get_account(uow_factory, account_id)).paid_until
    clock.advance(hours=1)
    assert not await apply(uow_factory, clock, gateway, charge.mp_payment_id)
    assert (await accounts.get_account(uow_factory, account_id)).paid_until == paid_until
    assert (await actions(uow_factory, account_id)).count("subscription.approved") == 1


async def test_concurrent_notifications_apply_once(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    trial_ends = (await accounts.get_account(uow_factory, account_id)).trial_ends_at
    charge = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    gateway.approve(charge.mp_payment_id)
    results = await asyncio.gather(
        *(
            subscription.apply_payment_notification(
                uow_factory, clock, gateway, charge.mp_payment_id
            )
            for _ in range(2)
        )
    )
    assert sorted(results) == [False, True]
    account = await accounts.get_account(uow_factory, account_id)
    assert account.paid_until == trial_ends + relativedelta(months=1)
    assert (await actions(uow_factory, account_id)).count("subscription.approved") == 1


async def test_interleaved_units_of_work_still_extend_once(uow_factory, clock, gateway):
    """Both appliers read before either commits: they write the same month, not two."""

    def interleaving():
        uow = uow_factory()
        original_get = uow.accounts.get

        async def slow_get(account_id: int):
            account = await original_get(account_id)
            await asyncio.sleep(0)  # let the other applier run here
            return account

        uow.accounts.get = slow_get  # type: ignore[method-assign]
        return uow

    account_id = await new_account(uow_factory, clock)
    trial_ends = (await accounts.get_account(uow_factory, account_id)).trial_ends_at
    charge = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    gateway.approve(charge.mp_payment_id)
    results = await asyncio.gather(
        *(
            subscription.apply_payment_notification(
                interleaving, clock, gateway, charge.mp_payment_id
            )
            for _ in range(2)
        )
    )
    assert True in results
    account = await accounts.get_account(uow_factory, account_id)
    assert account.paid_until == trial_ends + relativedelta(months=1)


async def test_unknown_ids_change_nothing_and_cost_no_api_call(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    gateway.down = True  # any call to Mercado Pago would raise
    for forged in ("123456789", "", "   ", "1; DROP TABLE accounts"):
        assert not await subscription.apply_payment_notification(
            uow_factory, clock, gateway, forged
        )
    account = await accounts.get_account(uow_factory, account_id)
    assert account.paid_until is None


async def test_a_payment_that_is_not_ours_changes_nothing(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    stranger = await gateway.create_pix_payment(
        amount=Decimal("20.00"),
        description="another integration",
        payer_email=None,
        external_reference="whatever",
        idempotency_key="not-ours",
        expires_at=clock.now() + timedelta(minutes=30),
    )
    gateway.approve(stranger.mp_payment_id)
    assert not await subscription.apply_payment_notification(
        uow_factory, clock, gateway, stranger.mp_payment_id
    )
    assert (await accounts.get_account(uow_factory, account_id)).paid_until is None


async def test_a_charge_of_another_account_or_amount_is_not_applied(uow_factory, clock, gateway):
    first = await new_account(uow_factory, clock, 1)
    second = await new_account(uow_factory, clock, 2)

    async def approved(reference: str, amount: str) -> str:
        payment = await gateway.create_pix_payment(
            amount=Decimal(amount),
            description="x",
            payer_email=None,
            external_reference=reference,
            idempotency_key=reference + amount,
            expires_at=clock.now() + timedelta(minutes=30),
        )
        gateway.approve(payment.mp_payment_id)
        return payment.mp_payment_id

    # Rows that disagree with Mercado Pago: `first`'s payment stored as `second`'s, and a
    # one-cent payment stored as if it were the R$ 20,00 charge.
    someone_elses = await approved(f"{first}:2026-03", "20.00")
    one_cent = await approved(f"{second}:2026-03", "0.01")
    async with uow_factory() as uow:
        for mp_payment_id in (someone_elses, one_cent):
            await uow.subscriptions.add(
                SubscriptionPayment(
                    account_id=second,
                    mp_payment_id=mp_payment_id,
                    amount=Decimal("20.00"),
                    created_at=clock.now(),
                )
            )
        await uow.commit()
    for mp_payment_id in (someone_elses, one_cent):
        assert not await subscription.apply_payment_notification(
            uow_factory, clock, gateway, mp_payment_id
        )
    assert (await accounts.get_account(uow_factory, first)).paid_until is None
    assert (await accounts.get_account(uow_factory, second)).paid_until is None


async def test_a_pending_payment_changes_nothing(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    charge = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    assert not await subscription.apply_payment_notification(
        uow_factory, clock, gateway, charge.mp_payment_id
    )


async def test_a_rejection_is_recorded_without_access(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    charge = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    gateway.reject(charge.mp_payment_id)
    apply = subscription.apply_payment_notification
    assert await apply(uow_factory, clock, gateway, charge.mp_payment_id)
    assert not await apply(uow_factory, clock, gateway, charge.mp_payment_id)
    async with uow_factory() as uow:
        stored = await uow.subscriptions.get_by_mp_id(charge.mp_payment_id)
    assert stored is not None
    assert (stored.status, stored.applied) == (SubscriptionStatus.REJECTED, False)
    assert (await accounts.get_account(uow_factory, account_id)).paid_until is None
    # and the next tap opens a new charge
    again = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    assert again.mp_payment_id != charge.mp_payment_id


async def test_an_expired_seller_can_still_pay(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    clock.advance(days=40)
    assert (await accounts.get_account(uow_factory, account_id)).status(
        clock.now()
    ) is AccountStatus.EXPIRED
    charge = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    assert gateway.payments[charge.mp_payment_id].external_reference == f"{account_id}:2026-04"
    gateway.approve(charge.mp_payment_id)
    assert await subscription.apply_payment_notification(
        uow_factory, clock, gateway, charge.mp_payment_id
    )
    account = await accounts.get_account(uow_factory, account_id)
    assert account.paid_until == clock.now() + relativedelta(months=1)  # counted from now
    assert account.status(clock.now()) is AccountStatus.ACTIVE


async def test_paying_early_stacks_on_the_paid_month(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    for _ in range(2):
        charge = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
        gateway.approve(charge.mp_payment_id)
        assert await subscription.apply_payment_notification(
            uow_factory, clock, gateway, charge.mp_payment_id
        )
    account = await accounts.get_account(uow_factory, account_id)
    assert account.paid_until == account.trial_ends_at + relativedelta(months=2)
    references = sorted(p.external_reference for p in gateway.payments.values())
    assert references == [f"{account_id}:2026-03", f"{account_id}:2026-04"]


async def test_a_month_from_the_31st_ends_on_the_last_day(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id)
        end_of_january = datetime(2027, 1, 31, 15, 0, tzinfo=UTC)
        await uow.accounts.update(evolve(account, paid_until=end_of_january))
        await uow.commit()
    charge = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    gateway.approve(charge.mp_payment_id)
    await subscription.apply_payment_notification(uow_factory, clock, gateway, charge.mp_payment_id)
    account = await accounts.get_account(uow_factory, account_id)
    assert account.paid_until == datetime(2027, 2, 28, 15, 0, tzinfo=UTC)


# -- polling ----------------------------------------------------------------------------


async def test_poll_pending_applies_what_the_webhook_missed(uow_factory, clock, gateway):
    paid = await new_account(uow_factory, clock, 1)
    refused = await new_account(uow_factory, clock, 2)
    waiting = await new_account(uow_factory, clock, 3)
    paid_charge = await subscription.start_checkout(uow_factory, clock, gateway, paid)
    refused_charge = await subscription.start_checkout(uow_factory, clock, gateway, refused)
    await subscription.start_checkout(uow_factory, clock, gateway, waiting)
    gateway.approve(paid_charge.mp_payment_id)
    gateway.reject(refused_charge.mp_payment_id)

    assert await subscription.poll_pending(uow_factory, clock, gateway) == 2
    assert await subscription.poll_pending(uow_factory, clock, gateway) == 0

    now = clock.now()
    assert (await accounts.get_account(uow_factory, paid)).status(now) is AccountStatus.ACTIVE
    assert (await accounts.get_account(uow_factory, refused)).paid_until is None
    assert (await accounts.get_account(uow_factory, waiting)).paid_until is None


async def test_poll_pending_records_expired_charges(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    charge = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    clock.advance(minutes=31)
    assert await subscription.poll_pending(uow_factory, clock, gateway) == 1
    async with uow_factory() as uow:
        stored = await uow.subscriptions.get_by_mp_id(charge.mp_payment_id)
    assert stored is not None
    assert stored.status is SubscriptionStatus.EXPIRED


async def test_poll_pending_stops_when_mercado_pago_is_down(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    gateway.down = True
    with pytest.raises(PaymentGatewayUnavailableError):
        await subscription.poll_pending(uow_factory, clock, gateway)


async def test_poll_pending_with_nothing_pending(uow_factory, clock, gateway):
    await new_account(uow_factory, clock)
    assert await subscription.poll_pending(uow_factory, clock, gateway) == 0


# -- overview ---------------------------------------------------------------------------


async def test_overview_of_a_trial(uow_factory, clock):
    account_id = await new_account(uow_factory, clock)
    overview = await subscription.subscription_overview(uow_factory, clock, account_id)
    assert overview.status is AccountStatus.TRIAL
    assert overview.days_left == 7
    assert overview.access_until == clock.now() + timedelta(days=7)
    assert overview.paid_until is None
    assert overview.price == Decimal("20.00")
    assert overview.open_charge is None
    assert overview.history == ()


async def test_overview_shows_the_open_charge_and_history_newest_first(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    first = await subscription.start_checkout(uow_factory, clock, gateway, account_id)
    gateway.approve(first.mp_payment_id)
    await subscription.apply_payment_notification(uow_factory, clock, gateway, first.mp_payment_id)
    clock.advance(hours=1)
    second = await subscription.start_checkout(uow_factory, clock, gateway, account_id)

    overview = await subscription.subscription_overview(uow_factory, clock, account_id)
    assert overview.status is AccountStatus.ACTIVE
    assert [c.mp_payment_id for c in overview.history] == [
        second.mp_payment_id,
        first.mp_payment_id,
    ]
    assert overview.open_charge == second
    assert overview.history[1].applied
    clock.advance(minutes=30)
    later = await subscription.subscription_overview(uow_factory, clock, account_id)
    assert later.open_charge is None

"""The seller pays for the bot: PIX checkout, applying Mercado Pago's verdict, the overview.

Choices, each so that a seller is charged once and gets exactly the month they paid for:

- A checkout reuses the account's newest charge while it is pending and still has at
  least ``REUSE_MARGIN`` to run, so a double tap (or coming back to the screen) shows the
  same QR instead of opening a second charge. Otherwise a new charge is created with the
  idempotency key ``clientmgr-sub-<account>-<period>-<attempt>`` (attempt = charges the
  account had + 1): a retry after a crash between "created at Mercado Pago" and "stored
  here" gets the same payment back, and two taps racing each other store one charge.
- ``external_reference`` is ``"<account id>:<YYYY-MM>"``, the month being bought: the one
  in which the new month of access starts (the later of now and the current end of
  access), on the seller's calendar.
- A charge lives ``CHECKOUT_TTL`` (30 minutes); its expiry is ``created_at + CHECKOUT_TTL``.
- A notification is only a hint: the payment is re-fetched from the gateway and applied
  only when it is one of our stored charges, for that account and amount, APPROVED, and
  not applied yet. An id we never stored is ignored without asking the gateway, so a flood
  of forged notifications costs no API calls.
- Approval extends ``paid_until`` by one calendar month (``relativedelta``, so Jan 31 →
  Feb 28) from the later of now and the current end of access: paying early never loses
  trial or paid days, paying late does not back-date the month.
- Expired accounts may pay: paying is how they come back.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal

from attrs import evolve, frozen
from dateutil.relativedelta import relativedelta

from clientmgr.core.accounts import Account, AccountStatus
from clientmgr.core.i18n import _
from clientmgr.core.subscriptions import MONTHLY_PRICE, SubscriptionPayment, SubscriptionStatus
from clientmgr.errors import (
    ConflictError,
    PaymentGatewayError,
    PaymentGatewayUnavailableError,
    PaymentNotFoundError,
)
from clientmgr.ports.clock import Clock
from clientmgr.ports.payments import PaymentGateway, PixPayment
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services.accounts import audit

__all__ = [
    "CHECKOUT_TTL",
    "REUSE_MARGIN",
    "SubscriptionOverview",
    "apply_payment_notification",
    "checkout_expires_at",
    "external_reference",
    "is_payable",
    "period_for",
    "poll_pending",
    "start_checkout",
    "subscription_overview",
]

CHECKOUT_TTL = timedelta(minutes=30)
"""How long a PIX charge can be paid."""
REUSE_MARGIN = timedelta(minutes=5)
"""A pending charge closer than this to its expiry is not shown again: the seller would
not have time to open the bank app and pay it."""


@frozen
class SubscriptionOverview:
    """What the seller's "Assinatura" screen shows."""

    status: AccountStatus
    days_left: int
    access_until: datetime
    trial_ends_at: datetime
    paid_until: datetime | None
    price: Decimal
    open_charge: SubscriptionPayment | None
    """The pending charge a checkout would show again, if any."""
    history: Sequence[SubscriptionPayment]
    """Every charge of the account, newest first."""


def period_for(account: Account, now: datetime) -> str:
    """``"YYYY-MM"``: the month, on the seller's calendar, in which the month bought now starts."""
    start = max(now, account.access_until).astimezone(account.zone)
    return f"{start.year:04d}-{start.month:02d}"


def external_reference(account_id: int, period: str) -> str:
    return f"{account_id}:{period}"


def checkout_expires_at(charge: SubscriptionPayment) -> datetime:
    return charge.created_at + CHECKOUT_TTL


def is_payable(charge: SubscriptionPayment, now: datetime) -> bool:
    """Pending and with enough time left to pay it (see ``REUSE_MARGIN``)."""
    return (
        charge.status is SubscriptionStatus.PENDING
        and not charge.applied
        and now < checkout_expires_at(charge) - REUSE_MARGIN
    )


def _open_charge(
    history: Sequence[SubscriptionPayment], now: datetime
) -> SubscriptionPayment | None:
    return next((charge for charge in history if is_payable(charge, now)), None)


async def start_checkout(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    gateway: PaymentGateway,
    account_id: int,
    *,
    payer_email: str | None = None,
) -> SubscriptionPayment:
    """The PIX charge of R$ 20,00 for the next month: the open one, or a new one.

    Raises AccountNotFoundError, or PaymentGatewayError / PaymentGatewayUnavailableError
    when Mercado Pago refuses or cannot be reached (nothing is stored then).
    """
    now = clock.now()
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id)
        history = await uow.subscriptions.list_for_account(account_id)
    reusable = _open_charge(history, now)
    if reusable is not None:
        return reusable

    period = period_for(account, now)
    remote = await gateway.create_pix_payment(
        amount=MONTHLY_PRICE,
        description=_("clientmgr - assinatura mensal {period}").format(period=period),
        payer_email=payer_email,
        external_reference=external_reference(account_id, period),
        idempotency_key=f"clientmgr-sub-{account_id}-{period}-{len(history) + 1}",
        expires_at=now + CHECKOUT_TTL,
    )
    charge = SubscriptionPayment(
        account_id=account_id,
        mp_payment_id=remote.mp_payment_id,
        amount=remote.amount,
        created_at=now,
        status=remote.status,
        qr_code=remote.qr_code,
    )
    try:
        async with uow_factory() as uow:
            charge = await uow.subscriptions.add(charge)
            await audit(
                uow,
                clock,
                account_id,
                "subscription.checkout_started",
                "subscription_payment",
                charge.id,
                mp_payment_id=charge.mp_payment_id,
                period=period,
            )
            await uow.commit()
    except ConflictError:
        # A concurrent tap used the same idempotency key and stored this payment first.
        async with uow_factory() as uow:
            stored = await uow.subscriptions.get_by_mp_id(remote.mp_payment_id)
        if stored is None or stored.account_id != account_id:
            raise
        return stored
    if remote.status is SubscriptionStatus.APPROVED:
        # Only after a crash: the key answered a charge that was paid meanwhile.
        await _apply(uow_factory, clock, account_id, remote)
        async with uow_factory() as uow:
            charge = await uow.subscriptions.get_by_mp_id(remote.mp_payment_id) or charge
    return charge


async def apply_payment_notification(
    uow_factory: UnitOfWorkFactory, clock: Clock, gateway: PaymentGateway, mp_payment_id: str
) -> bool:
    """Bring our charge in line with what the gateway says; True when something changed.

    Called for a Mercado Pago webhook (after its signature was checked) and by
    ``poll_pending``. Only the gateway's answer counts (see the module docstring). An
    approval extends access once: a repeat — sequential or concurrent — changes nothing.
    PaymentGatewayUnavailableError propagates, so the webhook answers an error and Mercado
    Pago retries.
    """
    mp_payment_id = str(mp_payment_id).strip()
    if not mp_payment_id:
        return False
    async with uow_factory() as uow:
        local = await uow.subscriptions.get_by_mp_id(mp_payment_id)
    if local is None or local.applied:
        return False
    try:
        remote = await gateway.get_payment(mp_payment_id)
    except PaymentNotFoundError:
        return False
    if not _matches(remote, local):
        return False
    return await _apply(uow_factory, clock, local.account_id, remote)


def _matches(remote: PixPayment, local: SubscriptionPayment) -> bool:
    """The gateway's payment is the charge we stored: same id, account and amount."""
    account, _sep, _period = remote.external_reference.partition(":")
    return (
        remote.mp_payment_id == local.mp_payment_id
        and account == str(local.account_id)
        and remote.amount == local.amount
    )


async def _apply(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, remote: PixPayment
) -> bool:
    async with uow_factory() as uow:
        # The account is read BEFORE the charge, on purpose. Two appliers racing under READ
        # COMMITTED: if this read already sees the other's commit, the charge read below
        # sees it too (it came later) and stops at ``applied``; if it does not, both start
        # from the same paid_until and write the same month, so access is extended once.
        account = await uow.accounts.get(account_id)
        local = await uow.subscriptions.get_by_mp_id(remote.mp_payment_id)
        if local is None or local.applied or local.account_id != account_id:
            return False
        now = clock.now()
        if remote.status is SubscriptionStatus.APPROVED:
            paid_until = max(now, account.access_until) + relativedelta(months=1)
            await uow.accounts.update(evolve(account, paid_until=paid_until))
            local = evolve(
                local,
                status=SubscriptionStatus.APPROVED,
                approved_at=remote.approved_at or now,
                applied=True,
            )
            await uow.subscriptions.update(local)
            await audit(
                uow,
                clock,
                account_id,
                "subscription.approved",
                "subscription_payment",
                local.id,
                actor="mercadopago",
                mp_payment_id=local.mp_payment_id,
                paid_until=paid_until.isoformat(),
            )
            await uow.commit()
            return True
        if remote.status is local.status:
            return False
        await uow.subscriptions.update(evolve(local, status=remote.status))
        await audit(
            uow,
            clock,
            account_id,
            "subscription.status_changed",
            "subscription_payment",
            local.id,
            actor="mercadopago",
            mp_payment_id=local.mp_payment_id,
            status=remote.status.value,
        )
        await uow.commit()
        return True


async def subscription_overview(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int
) -> SubscriptionOverview:
    """Status, days left, access end, the open charge and every charge, newest first."""
    now = clock.now()
    async with uow_factory() as uow:
        account = await uow.accounts.get(account_id)
        history = tuple(await uow.subscriptions.list_for_account(account_id))
    return SubscriptionOverview(
        status=account.status(now),
        days_left=account.days_left(now),
        access_until=account.access_until,
        trial_ends_at=account.trial_ends_at,
        paid_until=account.paid_until,
        price=MONTHLY_PRICE,
        open_charge=_open_charge(history, now),
        history=history,
    )


async def poll_pending(
    uow_factory: UnitOfWorkFactory, clock: Clock, gateway: PaymentGateway
) -> int:
    """Re-check every pending charge with the gateway; how many changed.

    A lost webhook delays activation by one scheduler run, never forever. A charge the
    gateway refuses to answer about is skipped; an unreachable gateway stops the run
    (PaymentGatewayUnavailableError propagates; the next run tries again).
    """
    async with uow_factory() as uow:
        # The repository port has no cross-account "pending" query yet, so this walks the
        # accounts; a ``list_pending`` there would make it one query.
        pending = [
            charge.mp_payment_id
            for account in await uow.accounts.list()
            if account.id is not None
            for charge in await uow.subscriptions.list_for_account(account.id)
            if charge.status is SubscriptionStatus.PENDING and not charge.applied
        ]
    changed = 0
    for mp_payment_id in pending:
        try:
            if await apply_payment_notification(uow_factory, clock, gateway, mp_payment_id):
                changed += 1
        except PaymentGatewayUnavailableError:
            raise
        except PaymentGatewayError:
            continue
    return changed

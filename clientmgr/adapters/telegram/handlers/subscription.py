"""The "Assinatura" screen: how long the seller can use the bot, paying R$ 20,00 by PIX, history.

Paying is the way out of an expired account, so nothing here asks for a writable account.
The checkout is shown as two messages: the QR photo (for paying from another phone or a
computer screen) and the "copia e cola" text in ``<code>`` (one tap copies it on a phone,
where the seller usually is), with "✅ Já paguei" under it. "Já paguei" does not trust the
tap: it asks Mercado Pago again (``apply_payment_notification``, the same path a webhook
takes), so pressing it twice, or after the webhook already did its work, never extends the
subscription twice. The button carries the Mercado Pago id, and the charge is looked up
among the seller's own charges before anything is asked.
"""

from __future__ import annotations

from datetime import datetime

from telegram import InputFile, Update

from clientmgr.adapters.qrcode import qr_png
from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import BotRegistry, Keyboard, keyboard, reply
from clientmgr.core.accounts import GRACE_PERIOD, Account, AccountStatus
from clientmgr.core.dates import format_date
from clientmgr.core.money import format_brl
from clientmgr.core.subscriptions import SubscriptionPayment, SubscriptionStatus
from clientmgr.errors import (
    NotFoundError,
    PaymentGatewayError,
    PaymentGatewayUnavailableError,
)
from clientmgr.services import subscription
from clientmgr.services.subscription import SubscriptionOverview

__all__ = ["HISTORY_LIMIT", "register"]

HISTORY_LIMIT = 15
"""Charges listed in "Histórico" (a month each: more than a year of history)."""


def _day(account: Account, moment: datetime) -> str:
    return format_date(account.local_now(moment).date())


def _day_time(account: Account, moment: datetime) -> str:
    local = account.local_now(moment)
    return t("sub.day_time", date=format_date(local.date()), time=local.strftime("%H:%M"))


def _account_id(account: Account) -> int:
    if account.id is None:
        raise RuntimeError("a stored account always has an id")
    return account.id


# -- the overview ------------------------------------------------------------------------


def _detail(account: Account, overview: SubscriptionOverview) -> Raw:
    until = _day(account, overview.access_until)
    if overview.status is AccountStatus.GRACE:
        grace_until = _day(account, overview.access_until + GRACE_PERIOD)
        return t("sub.detail.grace", until=until, grace_until=grace_until)
    if overview.status is AccountStatus.EXPIRED:
        return t("sub.detail.expired", until=until)
    return t(f"sub.detail.{overview.status.value}", days=overview.days_left, until=until)


async def show_overview(update: Update, context: ClientmgrContext, account: Account) -> None:
    """Status, days left, until when, the price, and the way to pay."""
    services = context.services
    overview = await subscription.subscription_overview(
        services.uow_factory, services.clock, _account_id(account)
    )
    open_charge = (
        t("sub.open_charge", amount=format_brl(overview.open_charge.amount))
        if overview.open_charge is not None
        else ""
    )
    text = t(
        "sub.title",
        status=t(f"sub.status.{overview.status.value}"),
        detail=_detail(account, overview),
        price=format_brl(overview.price),
        open=Raw(open_charge),
    )
    await reply(
        update,
        text,
        keyboard(
            context,
            [
                [(t("sub.pay"), "sub:pay")],
                [(t("sub.history"), "sub:hist"), (t("common.menu"), "m:home")],
            ],
        ),
    )


# -- paying ------------------------------------------------------------------------------


def _gateway_trouble(exc: PaymentGatewayError) -> Raw:
    if isinstance(exc, PaymentGatewayUnavailableError):
        return t("sub.unavailable")
    return t("sub.refused")


async def _pay_again_later(update: Update, context: ClientmgrContext, text: str) -> None:
    await reply(
        update,
        text,
        keyboard(context, [[(t("sub.retry"), "sub:pay"), (t("common.back"), "sub:menu")]]),
        edit=False,
    )


async def pay(update: Update, context: ClientmgrContext, account: Account) -> None:
    """The PIX charge (the open one again on a double tap): QR photo, then copia e cola."""
    services = context.services
    try:
        charge = await subscription.start_checkout(
            services.uow_factory, services.clock, services.payments, _account_id(account)
        )
    except PaymentGatewayError as exc:
        await _pay_again_later(update, context, _gateway_trouble(exc))
        return
    chat = update.effective_chat
    if chat is None:
        return
    if not charge.qr_code:  # Mercado Pago answered without a code: nothing to pay with
        await _pay_again_later(update, context, t("sub.refused"))
        return
    expires = _day_time(account, subscription.checkout_expires_at(charge))
    await context.bot.send_photo(
        chat.id,
        InputFile(qr_png(charge.qr_code), filename="pix-assinatura.png"),
        caption=t("sub.qr_caption", amount=format_brl(charge.amount), expires=expires),
        parse_mode="HTML",
    )
    await reply(
        update,
        t("sub.copy_paste", code=charge.qr_code),
        keyboard(context, _check_rows(charge)),
        edit=False,
    )


def _check_rows(charge: SubscriptionPayment) -> Keyboard:
    return [
        [(t("sub.paid_button"), f"sub:check:{charge.mp_payment_id}")],
        [(t("common.back"), "sub:menu"), (t("common.menu"), "m:home")],
    ]


def _find(overview: SubscriptionOverview, mp_payment_id: str) -> SubscriptionPayment:
    found = next((c for c in overview.history if c.mp_payment_id == mp_payment_id), None)
    if found is None:
        raise NotFoundError(f"no charge {mp_payment_id} in this account")
    return found


async def check(update: Update, context: ClientmgrContext, account: Account) -> None:
    """ "Já paguei": ask Mercado Pago again and say what it answered."""
    mp_payment_id = context.matches[0].group(1)  # type: ignore[index]
    services = context.services
    account_id = _account_id(account)
    _find(
        await subscription.subscription_overview(services.uow_factory, services.clock, account_id),
        mp_payment_id,
    )
    try:
        await subscription.apply_payment_notification(
            services.uow_factory, services.clock, services.payments, mp_payment_id
        )
    except PaymentGatewayError as exc:
        await reply(
            update,
            _gateway_trouble(exc),
            keyboard(
                context,
                [
                    [(t("sub.paid_button"), f"sub:check:{mp_payment_id}")],
                    [(t("common.back"), "sub:menu")],
                ],
            ),
            edit=False,
        )
        return
    overview = await subscription.subscription_overview(
        services.uow_factory, services.clock, account_id
    )
    charge = _find(overview, mp_payment_id)
    now = services.clock.now()
    if charge.status is SubscriptionStatus.APPROVED:
        await reply(
            update,
            t("sub.confirmed", until=_day(account, overview.access_until)),
            keyboard(
                context, [[(t("menu.subscription"), "sub:menu"), (t("common.menu"), "m:home")]]
            ),
        )
        return
    if charge.status is SubscriptionStatus.PENDING and now < subscription.checkout_expires_at(
        charge
    ):
        await reply(update, t("sub.pending"), keyboard(context, _check_rows(charge)), edit=False)
        return
    closed = (
        t("sub.charge_expired")
        if charge.status in (SubscriptionStatus.EXPIRED, SubscriptionStatus.PENDING)
        else t("sub.charge_closed", status=t(f"sub.charge.{charge.status.value}"))
    )
    await reply(
        update,
        closed,
        keyboard(context, [[(t("sub.new_charge"), "sub:pay")], [(t("common.back"), "sub:menu")]]),
    )


# -- history -----------------------------------------------------------------------------


def _charge_line(account: Account, charge: SubscriptionPayment, now: datetime) -> Raw:
    status = charge.status
    if status is SubscriptionStatus.PENDING and now >= subscription.checkout_expires_at(charge):
        status = SubscriptionStatus.EXPIRED  # nobody can pay it any more
    return t(
        "sub.history_line",
        date=_day_time(account, charge.created_at),
        amount=format_brl(charge.amount),
        status=t(f"sub.charge.{status.value}"),
    )


async def history(update: Update, context: ClientmgrContext, account: Account) -> None:
    """Every charge, newest first, with its status and date."""
    services = context.services
    overview = await subscription.subscription_overview(
        services.uow_factory, services.clock, _account_id(account)
    )
    now = services.clock.now()
    if not overview.history:
        text = t("sub.history_empty")
    else:
        lines = [_charge_line(account, c, now) for c in overview.history[:HISTORY_LIMIT]]
        more = len(overview.history) - HISTORY_LIMIT
        if more > 0:
            lines.append(t("sub.history_more", count=more))
        text = t("sub.history_title", lines=Raw("\n".join(lines)))
    await reply(
        update,
        text,
        keyboard(context, [[(t("common.back"), "sub:menu"), (t("common.menu"), "m:home")]]),
    )


def register(registry: BotRegistry) -> None:
    registry.button("sub:menu", show_overview)
    registry.button("sub:pay", pay)
    registry.button(r"sub:check:([0-9A-Za-z_-]{1,40})", check)
    registry.button("sub:hist", history)

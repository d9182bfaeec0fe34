"""/start (registration with a 7-day trial and a short onboarding), the main menu and /ajuda."""

from __future__ import annotations

from telegram import Update

from clientmgr.adapters.telegram.catalog import t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import (
    END,
    BotRegistry,
    keyboard,
    reply,
    seller_handler,
    show_menu,
)
from clientmgr.core.accounts import Account
from clientmgr.core.pix import normalize_pix_key
from clientmgr.errors import InvalidInputError
from clientmgr.services import accounts

__all__ = ["cancel", "register", "start"]

ASK_BUSINESS = "onb.business"
ASK_PIX = "onb.pix"
ASK_CITY = "onb.city"
MAX_BUSINESS = 60
MAX_CITY = 40


async def start(update: Update, context: ClientmgrContext) -> str | int:
    """Register the seller on first contact (trial starts), otherwise greet and show the menu."""
    user = update.effective_user
    if user is None:
        return END
    services = context.services
    name = user.full_name or user.first_name or "vendedor"
    account, created = await accounts.register_account(
        services.uow_factory, services.clock, user.id, name
    )
    if not created:
        await show_menu(
            update, context, account, prefix=t("start.back", name=account.name) + "\n\n", edit=False
        )
        return END
    await reply(update, t("start.welcome", name=account.name), edit=False)
    await reply(update, t("start.ask_business"), edit=False)
    return ASK_BUSINESS


async def got_business(update: Update, context: ClientmgrContext, account: Account) -> str:
    text = (update.effective_message.text or "").strip()  # type: ignore[union-attr]
    if not text:
        raise InvalidInputError(t("start.ask_business"))
    if len(text) > MAX_BUSINESS:
        raise InvalidInputError(t("start.business_too_long"), "Ana Fitness")
    services = context.services
    await accounts.update_profile(
        services.uow_factory,
        services.clock,
        account.id,  # type: ignore[arg-type]
        business_name=text,
        pix_name=text,
    )
    await reply(
        update, t("start.ask_pix"), keyboard(context, [[(t("start.skip"), "onb:skip")]]), edit=False
    )
    return ASK_PIX


async def got_pix(update: Update, context: ClientmgrContext, account: Account) -> str:
    key = normalize_pix_key((update.effective_message.text or "").strip())  # type: ignore[union-attr]
    services = context.services
    await accounts.update_profile(
        services.uow_factory,
        services.clock,
        account.id,  # type: ignore[arg-type]
        pix_key=key,
    )
    await reply(update, t("start.ask_pix_city"), edit=False)
    return ASK_CITY


async def got_city(update: Update, context: ClientmgrContext, account: Account) -> int:
    city = (update.effective_message.text or "").strip()  # type: ignore[union-attr]
    if not city or len(city) > MAX_CITY or not any(ch.isalpha() for ch in city):
        raise InvalidInputError(t("start.ask_pix_city"))
    services = context.services
    account = await accounts.update_profile(
        services.uow_factory,
        services.clock,
        account.id,  # type: ignore[arg-type]
        pix_city=city,
    )
    await show_menu(update, context, account, prefix=t("start.done") + "\n\n", edit=False)
    return END


async def skip_pix(update: Update, context: ClientmgrContext, account: Account) -> int:
    await show_menu(update, context, account, prefix=t("start.done") + "\n\n", edit=False)
    return END


async def menu(update: Update, context: ClientmgrContext, account: Account) -> int:
    await show_menu(update, context, account)
    return END


async def help_text(update: Update, context: ClientmgrContext, account: Account) -> None:
    await reply(update, t("help.text"), keyboard(context, [[(t("common.menu"), "m:home")]]))


@seller_handler
async def cancel(update: Update, context: ClientmgrContext, account: Account) -> int:
    """/cancelar or the Cancel button: drop what was being typed, back to the menu."""
    context.user_data.pop("draft", None)  # type: ignore[union-attr]
    await show_menu(update, context, account, prefix=t("common.cancelled") + "\n\n", edit=False)
    return END


async def unknown_text(update: Update, context: ClientmgrContext, account: Account) -> None:
    await show_menu(update, context, account, prefix=t("common.unknown_text") + "\n\n", edit=False)


def register(registry: BotRegistry) -> None:
    from telegram.ext import CommandHandler

    registry.other_entry(CommandHandler("start", start))
    registry.state(ASK_BUSINESS, got_business)
    registry.state(ASK_PIX, got_pix)
    registry.state_button(ASK_PIX, "onb:skip", skip_pix)
    registry.state(ASK_CITY, got_city)
    registry.button("m:home", menu)
    registry.command("menu", menu)
    registry.button("help:show", help_text)
    registry.command("ajuda", help_text)
    registry.command("help", help_text)
    registry.fallback_text(unknown_text)

"""The operator's commands: /admin (stats), /conceder (grant days), /avisar (paced broadcast).

Only Telegram ids in ``context.services.admin_ids`` (``ADMIN_TELEGRAM_IDS``) get an answer;
for anyone else these commands behave like any unknown command, so a seller cannot even
learn that they exist. That check lives in one place, ``admin_only``.

Choices:

- Admin handlers do not need a seller account: the operator may never have run /start.
  So they are not ``seller_handler``s; the confirm button is a conversation entry (an
  ``other_entry``) so it works whether or not the operator is inside some input flow.
- The broadcast text waits for confirmation in ``user_data`` (plain JSON, persisted), so the
  preview's button still works after a redeploy; confirming pops it, so a double tap sends
  once.
- Sending is paced (``bot_data["broadcast_interval"]`` seconds between messages, 0.05 by
  default: 20/s, under Telegram's 30/s) from a background task, so the operator's chat and
  everyone else's updates keep flowing. A seller who blocked the bot (403) or whose chat is
  gone counts as failed; nothing stops the loop. The operator gets "Enviado para N; falhou
  para M" at the end.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Sequence
from functools import wraps
from typing import Any

from loguru import logger
from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import CallbackQueryHandler, CommandHandler, ExtBot

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import END, BotRegistry, keyboard, reply
from clientmgr.core.accounts import Account, AccountStatus
from clientmgr.core.dates import format_date
from clientmgr.core.money import format_brl
from clientmgr.errors import AccountNotFoundError
from clientmgr.services import accounts, admin

__all__ = [
    "BROADCAST_KEY",
    "DEFAULT_BROADCAST_INTERVAL",
    "MAX_BROADCAST_CHARS",
    "MAX_GRANT_DAYS",
    "AdminHandler",
    "admin_only",
    "register",
    "send_broadcast",
]

AdminHandler = Callable[[Update, ClientmgrContext], Awaitable[int | None]]
BROADCAST_KEY = "admin_broadcast"
"""``user_data`` key holding the text waiting for the operator's confirmation."""
DEFAULT_BROADCAST_INTERVAL = 0.05
MAX_BROADCAST_CHARS = 3500
"""Leaves room for the "📢 Aviso" header and HTML escaping inside Telegram's 4096."""
MAX_GRANT_DAYS = 3660
_GRANT_TARGET = re.compile(r"^(@?)(\d{1,19})$")
_COMMAND_AND_TEXT = re.compile(r"^/\S+\s*(.*)$", re.S)


def admin_only(func: AdminHandler) -> Callable[[Update, ClientmgrContext], Awaitable[Any]]:
    """Run ``func`` for the operator only; anyone else gets what an unknown command gets.

    Unknown commands get no answer from this bot, so neither does a seller trying these
    (a pressed admin button is answered blank, to stop the spinner): nothing is revealed.
    """

    @wraps(func)
    async def wrapper(update: Update, context: ClientmgrContext) -> int | None:
        user = update.effective_user
        if user is None or user.id not in context.services.admin_ids:
            logger.info("user {} tried an operator command", user.id if user else None)
            if update.callback_query is not None:
                await update.callback_query.answer()
            return None
        result = await func(update, context)
        if update.callback_query is not None:
            await update.callback_query.answer()
        return result

    return wrapper


def _message_text(update: Update) -> str:
    """What follows the command, newlines kept (``context.args`` would split them away)."""
    text = update.effective_message.text or ""  # type: ignore[union-attr]
    match = _COMMAND_AND_TEXT.match(text.strip())
    return match.group(1).strip() if match else ""


async def _send(update: Update, text: str, markup: Any = None) -> None:
    await reply(update, text, markup, edit=False)


# --- /admin --------------------------------------------------------------------------------


@admin_only
async def show_stats(update: Update, context: ClientmgrContext) -> None:
    services = context.services
    stats = await admin.stats(services.uow_factory, services.clock)
    by_status = stats.accounts
    await _send(
        update,
        t(
            "admin.stats",
            day=format_date(stats.day),
            total=stats.accounts_total,
            trial=by_status.get(AccountStatus.TRIAL, 0),
            active=by_status.get(AccountStatus.ACTIVE, 0),
            grace=by_status.get(AccountStatus.GRACE, 0),
            expired=by_status.get(AccountStatus.EXPIRED, 0),
            clients=stats.clients,
            queued=stats.messages_queued_today,
            sent=stats.messages_sent_today,
            pending=stats.messages_pending,
            revenue=format_brl(stats.revenue_this_month),
            payments=stats.payments_this_month,
        ),
    )


# --- /conceder -----------------------------------------------------------------------------


def _grant_args(args: Sequence[str]) -> tuple[bool, int, int] | None:
    """(by Telegram id?, id, days) from ``12 30`` / ``@123456789 7``; None when malformed."""
    if len(args) != 2:
        return None
    target = _GRANT_TARGET.match(args[0])
    if target is None or not args[1].isdigit():
        return None
    days = int(args[1])
    if not 1 <= days <= MAX_GRANT_DAYS:
        return None
    return bool(target.group(1)), int(target.group(2)), days


async def _find_account(context: ClientmgrContext, by_telegram: bool, ident: int) -> Account:
    uow_factory = context.services.uow_factory
    if by_telegram:
        return await accounts.get_account_by_telegram_id(uow_factory, ident)
    return await accounts.get_account(uow_factory, ident)


@admin_only
async def grant(update: Update, context: ClientmgrContext) -> None:
    parsed = _grant_args(context.args or [])
    if parsed is None:
        await _send(update, t("admin.grant_usage"))
        return
    by_telegram, ident, days = parsed
    try:
        account = await _find_account(context, by_telegram, ident)
    except AccountNotFoundError:
        who = f"@{ident}" if by_telegram else str(ident)
        await _send(update, t("admin.grant_not_found", who=who))
        return
    services = context.services
    account = await accounts.grant_days(
        services.uow_factory,
        services.clock,
        account.id,  # type: ignore[arg-type]
        days,
        actor=f"admin:{update.effective_user.id}",  # type: ignore[union-attr]
    )
    until = account.local_now(account.access_until).date()
    await _send(
        update,
        t(
            "admin.granted",
            days=days,
            id=account.id,
            name=account.business_name or account.name,
            telegram_id=account.telegram_id,
            until=format_date(until),
        ),
    )


# --- /avisar -------------------------------------------------------------------------------


def _broadcast_message(text: str) -> Raw:
    return t("admin.broadcast_message", text=text)


@admin_only
async def ask_broadcast(update: Update, context: ClientmgrContext) -> None:
    text = _message_text(update)
    if not text:
        await _send(update, t("admin.broadcast_usage"))
        return
    if len(text) > MAX_BROADCAST_CHARS:
        await _send(
            update, t("admin.broadcast_too_long", length=len(text), limit=MAX_BROADCAST_CHARS)
        )
        return
    services = context.services
    targets = await admin.broadcast_targets(services.uow_factory, services.clock)
    context.user_data[BROADCAST_KEY] = text  # type: ignore[index]
    await _send(
        update,
        t("admin.broadcast_preview", count=len(targets), message=_broadcast_message(text)),
        keyboard(
            context,
            [
                [(t("admin.broadcast_send"), "adm:bc:yes")],
                [(t("common.cancel"), "adm:bc:no")],
            ],
        ),
    )


@admin_only
async def confirm_broadcast(update: Update, context: ClientmgrContext) -> int:
    text = context.user_data.pop(BROADCAST_KEY, None)  # type: ignore[union-attr]
    chat = update.effective_chat
    if not isinstance(text, str) or chat is None:
        await reply(update, t("admin.broadcast_gone"))
        return END
    services = context.services
    targets = await admin.broadcast_targets(services.uow_factory, services.clock)
    interval = float(context.bot_data.get("broadcast_interval", DEFAULT_BROADCAST_INTERVAL))
    await reply(update, t("admin.broadcast_sending", count=len(targets)))
    context.application.create_task(
        _broadcast_and_report(context.bot, chat.id, targets, _broadcast_message(text), interval),
        update=update,
        name="admin-broadcast",
    )
    return END


@admin_only
async def cancel_broadcast(update: Update, context: ClientmgrContext) -> int:
    context.user_data.pop(BROADCAST_KEY, None)  # type: ignore[union-attr]
    await reply(update, t("admin.broadcast_cancelled"))
    return END


async def send_broadcast(
    bot: ExtBot[None], targets: Sequence[int], text: str, interval: float
) -> tuple[int, int]:
    """Send ``text`` (HTML) to each chat, ``interval`` s apart; (sent, failed). Never raises
    for one recipient: blocked (403), gone (400) or any other error counts as failed."""
    sent = failed = 0
    for index, chat_id in enumerate(targets):
        if index and interval > 0:
            await asyncio.sleep(interval)
        try:
            await bot.send_message(chat_id, text, parse_mode="HTML")
        except Forbidden:
            failed += 1
            logger.info("broadcast: {} blocked the bot", chat_id)
        except TelegramError as exc:
            failed += 1
            logger.warning("broadcast: could not send to {}: {}", chat_id, exc.message)
        except Exception:
            # One bad recipient must not cost the operator the rest of the list and the report.
            failed += 1
            logger.exception("broadcast: unexpected error sending to {}", chat_id)
        else:
            sent += 1
    return sent, failed


async def _broadcast_and_report(
    bot: ExtBot[None], admin_chat: int, targets: Sequence[int], text: str, interval: float
) -> None:
    sent, failed = await send_broadcast(bot, targets, text, interval)
    logger.info("broadcast done: {} sent, {} failed", sent, failed)
    await bot.send_message(
        admin_chat, t("admin.broadcast_report", sent=sent, failed=failed), parse_mode="HTML"
    )


def _pattern(payload: str) -> re.Pattern[str]:
    """Like ``BotRegistry`` button patterns: the payload, then the signature after ``~``."""
    return re.compile(rf"^{payload}~")


def register(registry: BotRegistry) -> None:
    registry.other(CommandHandler("admin", show_stats))
    registry.other(CommandHandler("conceder", grant))
    registry.other(CommandHandler("avisar", ask_broadcast))
    registry.other_entry(CallbackQueryHandler(confirm_broadcast, pattern=_pattern("adm:bc:yes")))
    registry.other_entry(CallbackQueryHandler(cancel_broadcast, pattern=_pattern("adm:bc:no")))

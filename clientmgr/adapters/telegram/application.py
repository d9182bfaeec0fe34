"""``build_application``: the real python-telegram-bot Application with every screen registered."""

from __future__ import annotations

import importlib
import pkgutil
import warnings
from collections.abc import Iterable
from typing import Any

from loguru import logger
from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationHandlerStop,
    BasePersistence,
    CallbackQueryHandler,
    ContextTypes,
    TypeHandler,
)
from telegram.warnings import PTBUserWarning

from clientmgr.adapters.telegram import handlers
from clientmgr.adapters.telegram.callbacks import ForgedCallbackError
from clientmgr.adapters.telegram.catalog import t
from clientmgr.adapters.telegram.context import BotServices, ClientmgrContext
from clientmgr.adapters.telegram.framework import BotRegistry
from clientmgr.adapters.telegram.handlers import start
from clientmgr.adapters.telegram.processor import PerChatUpdateProcessor
from clientmgr.core.correlation import current_correlation_id, new_correlation_id

__all__ = [
    "COMMANDS",
    "DEFAULT_API_URL",
    "ClientmgrApplication",
    "build_application",
    "screens",
]

DEFAULT_API_URL = "https://api.telegram.org"
COMMANDS = ("start", "menu", "clientes", "novo", "vencimentos", "resumo", "ajuda", "cancelar")


def screens() -> Iterable[Any]:
    """Every module in ``handlers`` (``start`` first, then by name); each has ``register``."""
    names = sorted(m.name for m in pkgutil.iter_modules(handlers.__path__) if m.name != "start")
    return [start, *(importlib.import_module(f"{handlers.__name__}.{n}") for n in names)]


async def _guard(update: Update, context: ClientmgrContext) -> None:
    """Group -2: a correlation id per update and per-user flood control."""
    new_correlation_id()
    user = update.effective_user
    if user is None:
        return
    services = context.services
    if not services.flood.allow(user.id):
        logger.info("flood control: dropping an update from user {}", user.id)
        if services.flood_notice.allow(user.id) and update.effective_chat is not None:
            await update.effective_chat.send_message(t("common.flood"))
        if update.callback_query is not None:
            await update.callback_query.answer()
        raise ApplicationHandlerStop


async def _verify_callback(update: Update, context: ClientmgrContext) -> None:
    """Group -1: refuse (and log) any button this bot did not sign for this user."""
    query = update.callback_query
    if query is None or update.effective_user is None:
        return
    try:
        context.services.signer.verify(update.effective_user.id, query.data or "")
    except ForgedCallbackError:
        logger.warning(
            "forged or foreign callback data from user {}: {!r}",
            update.effective_user.id,
            query.data,
        )
        await query.answer(t("common.invalid_button"), show_alert=True)
        raise ApplicationHandlerStop from None


async def _on_error(update: object, context: ClientmgrContext) -> None:
    """Anything unexpected: log it with the correlation id and tell the seller plainly."""
    code = current_correlation_id() or new_correlation_id()
    logger.opt(exception=context.error).error("unhandled error in bot handler (code {})", code)
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await update.effective_chat.send_message(
                t("common.error_unexpected", code=code), parse_mode="HTML"
            )
        except Exception:
            logger.exception("could not tell the seller about the error")


class ClientmgrApplication(Application):
    """Announces the command menu (setMyCommands) whenever it initialises, however it is run."""

    async def initialize(self) -> None:
        await super().initialize()
        await self.bot.set_my_commands(
            [BotCommand(name, t(f"command.{name}")) for name in COMMANDS]
        )


def build_application(
    services: BotServices,
    *,
    token: str,
    api_url: str = DEFAULT_API_URL,
    persistence: BasePersistence | None = None,
    rate_limiter: AIORateLimiter | None = None,
) -> Application:
    """The bot, pointed at ``api_url`` (the public Bot API, a self-hosted one or a local fake).

    The default rate limiter keeps Telegram's limits (30 messages/s overall) and retries
    flood errors 3 times; PTB's own default of 0 retries would raise them to handlers.
    """
    api_url = api_url.rstrip("/")
    builder = (
        Application.builder()
        .token(token)
        .base_url(f"{api_url}/bot")
        .base_file_url(f"{api_url}/file/bot")
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=3))
        .concurrent_updates(PerChatUpdateProcessor())
        .context_types(ContextTypes(context=ClientmgrContext))
        .application_class(ClientmgrApplication)
    )
    if persistence is not None:
        builder = builder.persistence(persistence)
    application = builder.build()
    application.bot_data["services"] = services

    registry = BotRegistry()
    for screen in screens():
        screen.register(registry)
    application.add_handler(TypeHandler(Update, _guard), group=-2)
    application.add_handler(CallbackQueryHandler(_verify_callback), group=-1)
    with warnings.catch_warnings():
        # per_message=False is deliberate: one input flow per chat, buttons navigate freely.
        warnings.simplefilter("ignore", PTBUserWarning)
        application.add_handlers(registry.build(start.cancel), group=0)
    application.add_error_handler(_on_error)
    return application

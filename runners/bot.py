"""The bot runner: polling by default, webhook when TELEGRAM_WEBHOOK_URL is set."""

from __future__ import annotations

import asyncio
import signal

from loguru import logger

from clientmgr.adapters.telegram.application import build_application
from clientmgr.adapters.telegram.callbacks import CallbackSigner
from clientmgr.adapters.telegram.context import BotServices
from clientmgr.adapters.telegram.persistence import StatePersistence
from clientmgr.config import Settings
from clientmgr.container import Application

__all__ = ["WEBHOOK_PATH", "run_bot"]

WEBHOOK_PATH = "telegram"


async def run_bot(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set), then shut down cleanly."""
    from dependency_injector import providers

    token = settings.require_bot_token()
    container = Application()
    container.core.settings.override(providers.Object(settings))
    container.core.logging.init()
    storage = await container.storage.init()
    services = BotServices(
        uow_factory=storage.unit_of_work,
        clock=container.core.clock(),
        whatsapp=container.gateways.whatsapp(),
        payments=container.gateways.payments(),
        signer=CallbackSigner(settings.callback_key()),
        admin_ids=settings.admin_telegram_ids,
    )
    application = build_application(
        services,
        token=token,
        api_url=settings.telegram_api_url,
        persistence=StatePersistence(storage.bot_state),
    )
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with application:
            await application.start()
            if settings.telegram_webhook_url:
                logger.info("bot: webhook mode on port {}", settings.port)
                await application.updater.start_webhook(  # type: ignore[union-attr]
                    listen="0.0.0.0",  # the platform routes the public URL here
                    port=settings.port,
                    url_path=WEBHOOK_PATH,
                    webhook_url=settings.telegram_webhook_url,
                    secret_token=settings.telegram_webhook_secret or None,
                )
            else:
                logger.info("bot: polling {}", settings.telegram_api_url)
                await application.updater.start_polling()  # type: ignore[union-attr]
            await stop.wait()
            logger.info("bot: stopping")
            await application.updater.stop()  # type: ignore[union-attr]
            await application.stop()
    finally:
        await container.storage.shutdown()

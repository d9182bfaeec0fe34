"""The web runner: uvicorn serving the sidecar events, health and metrics app on ``PORT``.

``clientmgr web`` runs it. The sidecar is pointed here with
``SIDECAR_EVENTS_URL=http://<this host>:<PORT>/events/whatsapp`` and the same
``SIDECAR_EVENTS_SECRET`` on both sides. Notices to sellers go out through the bot's token
(``TELEGRAM_BOT_TOKEN``), with buttons signed like the bot's own (``CALLBACK_SECRET``).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Callable, Iterator

import uvicorn
from loguru import logger
from telegram import Bot

from clientmgr.adapters.memory.whatsapp_events import memory_event_lookups
from clientmgr.adapters.sql.whatsapp_events import sql_event_lookups
from clientmgr.adapters.telegram.callbacks import CallbackSigner
from clientmgr.adapters.telegram.notifier import TelegramNotifier
from clientmgr.adapters.web import EVENTS_PATH, WebDeps, create_app
from clientmgr.config import Settings
from clientmgr.container import MEMORY_URL, Application
from clientmgr.errors import ConfigError
from clientmgr.ports.whatsapp_events import EventLookupsFactory

__all__ = ["run_web"]


class _Server(uvicorn.Server):
    """uvicorn without its own signal handling: ``run_web`` owns SIGINT/SIGTERM (and the
    ``stop`` event), so shutdown always runs the storage clean-up after the server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def run_web(
    settings: Settings,
    stop: asyncio.Event | None = None,
    *,
    host: str = "0.0.0.0",  # the platform routes the public port here
    started: Callable[[str], None] | None = None,
) -> None:
    """Serve until SIGINT/SIGTERM (or ``stop`` is set), then shut down cleanly.

    ``started`` receives the base URL once the server listens (``PORT=0`` picks a free port).
    """
    from dependency_injector import providers

    token = settings.require_bot_token()
    container = Application()
    container.core.settings.override(providers.Object(settings))
    container.core.logging.init()
    storage = await container.storage.init()
    try:
        in_memory = settings.database_url.startswith(MEMORY_URL)
        lookups: EventLookupsFactory = memory_event_lookups if in_memory else sql_event_lookups  # type: ignore[assignment]
        bot = Bot(
            token,
            base_url=f"{settings.telegram_api_url}/bot",
            base_file_url=f"{settings.telegram_api_url}/file/bot",
        )
        deps = WebDeps(
            uow_factory=storage.unit_of_work,
            clock=container.core.clock(),
            notifier=TelegramNotifier(bot, CallbackSigner(settings.callback_key())),
            lookups=lookups,
            events_secret=settings.sidecar_events_secret,
            database_url=None if in_memory else settings.database_url,
            sidecar_url=settings.sidecar_url or None,
        )
        config = uvicorn.Config(
            create_app(deps),
            host=host,
            port=settings.port,
            log_config=None,  # loguru is the log; uvicorn's access lines are not needed
            access_log=False,
            lifespan="on",
        )
        server = _Server(config)
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        sock = _listen(host, settings.port, config.backlog)
        url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{sock.getsockname()[1]}"
        try:  # the bot connects on the first notice: Telegram being down must not stop this
            serving = asyncio.create_task(server.serve(sockets=[sock]), name="clientmgr-web")
            stopping = asyncio.create_task(stop.wait(), name="clientmgr-web-stop")
            # The socket already listens: connections made from now on wait for the server.
            logger.info("web: listening on {} (sidecar events at {}{})", url, url, EVENTS_PATH)
            if started is not None:
                started(url)
            await asyncio.wait({serving, stopping}, return_when=asyncio.FIRST_COMPLETED)
            logger.info("web: stopping")
            server.should_exit = True
            stopping.cancel()
            await serving
        finally:
            sock.close()
            await bot.shutdown()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                asyncio.get_running_loop().remove_signal_handler(sig)
        await container.storage.shutdown()


def _listen(host: str, port: int, backlog: int) -> socket.socket:
    """A listening socket on ``host:port`` (``0``: a free port), or ConfigError saying why not."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(backlog)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror}): is another process using "
            "that port? Set PORT to a free one."
        ) from exc
    sock.set_inheritable(True)
    return sock

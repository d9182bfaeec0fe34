"""clientmgr: a client book with WhatsApp reminders and PIX billing for Brazilian small sellers.

For scripts::

    import clientmgr

    async with clientmgr.connect("postgresql://...") as app:
        for client in await app.clients(account_id=1, filter="overdue"):
            print(client.name, client.due_date)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from clientmgr.app import Clientmgr
from clientmgr.errors import ClientmgrError

__all__ = ["Clientmgr", "ClientmgrError", "__version__", "connect"]

__version__ = "0.1.0"


@asynccontextmanager
async def connect(
    url: str | None = None, *, clock: object | None = None
) -> AsyncIterator[Clientmgr]:
    """Open clientmgr on ``url`` (default: DATABASE_URL or the embedded SQLite file).

    ``memory://`` keeps everything in this process (tests, experiments). A database whose
    schema is behind raises SchemaOutdatedError: run ``clientmgr migrate`` first.
    """
    from dependency_injector import providers

    from clientmgr.config import Settings
    from clientmgr.container import Application

    container = Application()
    if url is not None:
        container.core.settings.override(providers.Object(Settings(database_url=url)))
    if clock is not None:
        container.core.clock.override(providers.Object(clock))
    await container.storage.init()
    try:
        yield await container.clientmgr()  # async because its storage resource is
    finally:
        await container.storage.shutdown()

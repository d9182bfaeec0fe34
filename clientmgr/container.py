"""The composition root: the one place that builds adapters and hands them to the use cases.

Containers by concern: ``Core`` (settings, logging, clock), ``Storage`` (the unit-of-work
factory on SQL or in memory), composed in ``Application``. Runners build it, call
``init_resources()``, run, then ``shutdown_resources()``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from dependency_injector import containers, providers

from clientmgr.adapters.logs import configure_logging
from clientmgr.adapters.memory import InMemoryStore
from clientmgr.adapters.sql.engine import create_engine, create_session_factory
from clientmgr.adapters.sql.migrate import ensure_schema_current
from clientmgr.adapters.sql.unit_of_work import sql_unit_of_work_factory
from clientmgr.app import Clientmgr
from clientmgr.config import Settings
from clientmgr.ports.clock import SystemClock
from clientmgr.ports.repositories import UnitOfWorkFactory

__all__ = ["MEMORY_URL", "Application", "open_storage"]

MEMORY_URL = "memory://"


async def open_storage(url: str, check_schema: bool = True) -> AsyncIterator[UnitOfWorkFactory]:
    """Yield a unit-of-work factory for ``url``; ``memory://`` keeps everything in this process.

    A SQL database behind the code's migrations is refused with SchemaOutdatedError, which
    says to run ``clientmgr migrate``.
    """
    if url.startswith(MEMORY_URL):
        yield InMemoryStore().unit_of_work
        return
    if check_schema:
        await ensure_schema_current(url)
    engine = create_engine(url)
    try:
        yield sql_unit_of_work_factory(create_session_factory(engine))
    finally:
        await engine.dispose()


class Core(containers.DeclarativeContainer):
    settings = providers.Singleton(Settings.from_env)
    clock = providers.Singleton(SystemClock)
    logging = providers.Resource(
        configure_logging,
        level=settings.provided.log_level,
        log_format=settings.provided.log_format,
    )


class Storage(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    unit_of_work = providers.Resource(open_storage, settings.provided.database_url)


class Application(containers.DeclarativeContainer):
    """Everything wired; override ``core.settings`` or ``core.clock`` in tests."""

    core = providers.Container(Core)
    storage = providers.Container(Storage, settings=core.settings)
    clientmgr = providers.Factory(Clientmgr, uow_factory=storage.unit_of_work, clock=core.clock)

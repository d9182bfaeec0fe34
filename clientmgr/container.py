"""The composition root: the one place that builds adapters and hands them to the use cases.

Containers by concern: ``Core`` (settings, logging, clock), ``Storage`` (unit-of-work
factory and bot state, on SQL or in memory), ``Gateways`` (WhatsApp and payments), composed
in ``Application``. Runners build it, initialise the resources they need, run, shut down.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from attrs import frozen
from dependency_injector import containers, providers

from clientmgr.adapters.logs import configure_logging
from clientmgr.adapters.memory import (
    InMemoryBotStateStore,
    InMemoryPaymentGateway,
    InMemoryStore,
    InMemoryWhatsAppGateway,
)
from clientmgr.adapters.memory.planning import InMemoryReminderPlanner
from clientmgr.adapters.sql.bot_state import SqlAlchemyBotStateStore
from clientmgr.adapters.sql.engine import create_engine, create_session_factory
from clientmgr.adapters.sql.locks import job_locks_for
from clientmgr.adapters.sql.migrate import ensure_schema_current
from clientmgr.adapters.sql.planning import SqlReminderPlanner
from clientmgr.adapters.sql.unit_of_work import sql_unit_of_work_factory
from clientmgr.adapters.whatsapp import BaileysWhatsAppGateway
from clientmgr.app import Clientmgr
from clientmgr.config import Settings
from clientmgr.ports.bot_state import BotStateStore
from clientmgr.ports.clock import SystemClock
from clientmgr.ports.locks import JobLocks
from clientmgr.ports.repositories import UnitOfWorkFactory

__all__ = ["MEMORY_URL", "Application", "Storage", "open_storage"]

MEMORY_URL = "memory://"


@frozen
class Storage:
    """What a runner needs from the database."""

    unit_of_work: UnitOfWorkFactory
    bot_state: BotStateStore
    planner: SqlReminderPlanner | InMemoryReminderPlanner  # also the daily-summary reports
    job_locks: JobLocks


async def open_storage(url: str, check_schema: bool = True) -> AsyncIterator[Storage]:
    """Storage on ``url``; ``memory://`` keeps everything in this process.

    A SQL database behind the code's migrations is refused with SchemaOutdatedError, which
    says to run ``clientmgr migrate``.
    """
    if url.startswith(MEMORY_URL):
        store = InMemoryStore()
        yield Storage(
            store.unit_of_work,
            InMemoryBotStateStore(),
            InMemoryReminderPlanner(store),
            job_locks_for(None),
        )
        return
    if check_schema:
        await ensure_schema_current(url)
    engine = create_engine(url)
    try:
        sessions = create_session_factory(engine)
        yield Storage(
            sql_unit_of_work_factory(sessions),
            SqlAlchemyBotStateStore(sessions),
            SqlReminderPlanner(sessions),
            job_locks_for(engine),
        )
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


class Gateways(containers.DeclarativeContainer):
    """Outside systems. WhatsApp is the Baileys sidecar when ``SIDECAR_URL`` is set (one
    httpx client per process: runners ``aclose()`` it at shutdown), else the in-process
    fake; Mercado Pago runs on a fake until the SDK adapter lands."""

    settings = providers.Dependency(instance_of=Settings, default=Settings())
    whatsapp = providers.Selector(
        providers.Callable(lambda s: "sidecar" if s.sidecar_url else "memory", settings),
        sidecar=providers.Singleton(BaileysWhatsAppGateway.from_settings, settings),
        memory=providers.Singleton(InMemoryWhatsAppGateway),
    )
    payments = providers.Singleton(InMemoryPaymentGateway)


class Application(containers.DeclarativeContainer):
    """Everything wired; override ``core.settings`` or ``core.clock`` in tests."""

    core = providers.Container(Core)
    gateways = providers.Container(Gateways, settings=core.settings)
    storage = providers.Resource(open_storage, core.settings.provided.database_url)
    clientmgr = providers.Factory(
        Clientmgr, uow_factory=storage.provided.unit_of_work, clock=core.clock
    )

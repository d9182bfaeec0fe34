"""The worker: the scheduler (plan reminders, daily summaries, payment poll) and the paced
outbox dispatcher, in one process; any number of replicas may run."""

from __future__ import annotations

import asyncio
import os
import signal

from loguru import logger
from telegram import Bot

from clientmgr.adapters.telegram.callbacks import CallbackSigner
from clientmgr.adapters.telegram.notifier import TelegramNotifier
from clientmgr.adapters.worker.outbox_loop import DispatchLoop, dispatch_settings_from_env
from clientmgr.adapters.worker.scheduler import (
    JobRunner,
    build_scheduler,
    reminder_jobs,
    stop_scheduler,
)
from clientmgr.config import Settings
from clientmgr.container import Application
from clientmgr.services.planning import whatsapp_connected
from clientmgr.services.sending import Dispatcher

__all__ = ["run_worker"]


async def run_worker(settings: Settings, stop: asyncio.Event | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop``); the dispatcher finishes its batch first."""
    from dependency_injector import providers

    container = Application()
    container.core.settings.override(providers.Object(settings))
    container.core.logging.init()
    storage = await container.storage.init()
    clock = container.core.clock()
    gateway = container.gateways.whatsapp()
    notifier = None
    if settings.telegram_bot_token:
        bot = Bot(settings.require_bot_token(), base_url=f"{settings.telegram_api_url}/bot")
        notifier = TelegramNotifier(bot, CallbackSigner(settings.callback_key()))
    dispatcher = Dispatcher(
        storage.unit_of_work,
        clock,
        gateway,
        dispatch_settings_from_env(os.environ),
        name=f"worker-{os.getpid()}",
    )
    loop = DispatchLoop(dispatcher)
    jobs = reminder_jobs(
        uow_factory=storage.unit_of_work,
        clock=clock,
        planner=storage.planner,
        is_connected=whatsapp_connected(gateway),
        reports=storage.planner,
        notifier=notifier,
        payments=container.gateways.payments(),
    )
    runner = JobRunner(storage.job_locks, clock, storage.bot_state)
    scheduler = build_scheduler(jobs, runner)
    stop = stop or asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(sig, stop.set)
    scheduler.start()
    dispatching = asyncio.create_task(loop.run())
    logger.info("worker: scheduler with {} job(s) and the dispatcher are running", len(jobs))
    try:
        await stop.wait()
    finally:
        logger.info("worker: stopping")
        loop.stop()
        await dispatching
        await stop_scheduler(scheduler, runner)
        await container.storage.shutdown()

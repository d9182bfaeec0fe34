"""The real bot against the Telegram emulator, on a real database: what end-to-end tests drive.

``BotHarness`` owns one emulator (the "Telegram" side, which survives bot restarts), one
migrated database and the bot process-in-a-task. ``restart()`` stops the bot and builds a
brand-new Application over the same database, like a redeploy.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from clientmgr.adapters.memory import InMemoryPaymentGateway, InMemoryWhatsAppGateway
from clientmgr.adapters.sql.bot_state import SqlAlchemyBotStateStore
from clientmgr.adapters.sql.engine import create_engine, create_session_factory
from clientmgr.adapters.sql.migrate import migrate
from clientmgr.adapters.sql.unit_of_work import sql_unit_of_work_factory
from clientmgr.adapters.telegram.application import build_application
from clientmgr.adapters.telegram.callbacks import CallbackSigner
from clientmgr.adapters.telegram.context import BotServices
from clientmgr.adapters.telegram.flood import TokenBuckets
from clientmgr.adapters.telegram.persistence import StatePersistence
from clientmgr.fakes.telegram import Emulator, EmulatorUser
from clientmgr.ports.clock import ManualClock

__all__ = ["ADMIN_ID", "BotHarness"]

TOKEN = "123456:TEST-token-for-the-emulator"
ADMIN_ID = 9000


class BotHarness:
    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.clock = ManualClock(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))  # 10:00 in São Paulo
        self.whatsapp = InMemoryWhatsAppGateway()
        self.payments = InMemoryPaymentGateway()
        self.emulator = Emulator(token=TOKEN)
        self.application = None

    async def __aenter__(self) -> BotHarness:
        await migrate(self.database_url)
        self.engine = create_engine(self.database_url)
        self.sessions = create_session_factory(self.engine)
        self.uow_factory = sql_unit_of_work_factory(self.sessions)
        await self.emulator.start()
        await self.start_bot()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop_bot()
        await self.emulator.stop()
        await self.engine.dispose()

    async def start_bot(self) -> None:
        services = BotServices(
            uow_factory=self.uow_factory,
            clock=self.clock,
            whatsapp=self.whatsapp,
            payments=self.payments,
            signer=CallbackSigner(b"e2e-callback-secret-0123456789"),
            admin_ids=frozenset({ADMIN_ID}),
            # The production burst (15), refilled faster: tests tap far quicker than people.
            flood=TokenBuckets(15, 10, time.monotonic),
        )
        self.services = services
        self.application = build_application(
            services,
            token=TOKEN,
            api_url=self.emulator.origin,
            persistence=StatePersistence(SqlAlchemyBotStateStore(self.sessions)),
        )
        await self.application.initialize()
        await self.application.start()
        await self.application.updater.start_polling(poll_interval=0, timeout=1)

    async def stop_bot(self) -> None:
        app, self.application = self.application, None
        if app is None:
            return
        await app.updater.stop()
        await app.stop()
        await app.shutdown()

    async def restart(self) -> None:
        """A redeploy: everything in memory is gone, the database and Telegram remain."""
        await self.emulator.wait_idle()
        await self.stop_bot()
        await self.start_bot()

    def user(self, id: int = 1001, first_name: str = "Ana") -> EmulatorUser:
        return self.emulator.user(id=id, first_name=first_name)

    async def seller(self, id: int = 1001, first_name: str = "Ana") -> EmulatorUser:
        """A seller who finished /start (business "Ana Fitness", PIX skipped)."""
        user = self.user(id, first_name)
        await user.send("/start")
        await user.wait_for_message(contains="nome do seu negócio")
        await user.send("Ana Fitness")
        await user.wait_for_message(contains="chave PIX")
        await user.press("⏭️ Pular")
        await user.wait_for_message(contains="Menu principal")
        return user

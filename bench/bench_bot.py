"""Bot throughput: simulated sellers through the Telegram emulator, against a bare PTB echo bot.

Both bots run the same way in the same process (real python-telegram-bot Application,
polling the emulator over loopback HTTP) with the same number of simulated users, so the
ratio shows what clientmgr's handlers, storage and framework cost on top of PTB itself.

    python bench/bench_bot.py [--sellers 500] [--steps 10] [--concurrency 100] [--db postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

from telegram import Update
from telegram.ext import AIORateLimiter, MessageHandler, filters

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

TOKEN = "777:BENCH-token"
PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
Step = Callable[[EmulatorUser], Awaitable[object]]
Script = list[tuple[Step, str | None]]  # an action, and text its answer contains


def unthrottled() -> AIORateLimiter:
    """The emulator is not Telegram: lift the 30 msg/s cap (same for both bots) so the
    bench measures the bots, not the limiter; retries stay on."""
    return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3)


def seller_steps(steps: int) -> Script:
    """A seller's first minutes: register, onboard, then look at clients, summary, dues."""
    script: Script = [
        (lambda u: u.send("/start"), "nome do seu negócio"),
        (lambda u: u.send("Loja Bench"), "chave PIX"),
        (lambda u: u.press("⏭️ Pular"), "Menu principal"),
    ]
    browse: Script = [
        (lambda u: u.press("👥 Clientes"), "ainda não tem clientes"),
        (lambda u: u.press("🏠 Menu"), "Menu principal"),
        (lambda u: u.press("📊 Resumo"), "Resumo"),
        (lambda u: u.send("/vencimentos"), "Vencimentos"),
        (lambda u: u.send("/menu"), "Menu principal"),
        (lambda u: u.press("❓ Ajuda"), "Como usar"),
        (lambda u: u.press("🏠 Menu"), "Menu principal"),
    ]
    while len(script) < steps:
        script.extend(browse)
    return script[:steps]


async def drive(
    users: list[EmulatorUser], script: Script, concurrency: int
) -> tuple[float, list[float]]:
    """Every user runs the script step by step; latency = action → next bot message."""
    latencies: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one(user: EmulatorUser) -> None:
        async with gate:
            for step, expected in script:
                started = time.perf_counter()
                await step(user)
                await user.wait_for_message(contains=expected, timeout=60)
                latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(one(u) for u in users))
    return time.perf_counter() - started, latencies


async def run_echo(sellers: int, steps: int, concurrency: int) -> tuple[float, list[float]]:
    async with Emulator(token=TOKEN) as emu:
        app = emu.application_builder().rate_limiter(unthrottled()).concurrent_updates(256).build()

        async def echo(update: Update, _context: object) -> None:
            await update.effective_chat.send_message(update.effective_message.text or "?")

        app.add_handler(MessageHandler(filters.ALL, echo))
        async with app:
            await app.start()
            await app.updater.start_polling(poll_interval=0, timeout=1)
            users = [emu.user(id=10_000 + i, first_name=f"E{i}") for i in range(sellers)]
            script: Script = [(lambda u, i=i: u.send(f"olá {i}"), f"olá {i}") for i in range(steps)]
            try:
                return await drive(users, script, concurrency)
            finally:
                await app.updater.stop()
                await app.stop()


async def run_clientmgr(
    sellers: int, steps: int, concurrency: int, db: str
) -> tuple[float, list[float]]:
    if db == "postgres":
        import asyncpg

        name = f"cm_bench_{uuid.uuid4().hex[:8]}"
        admin = await asyncpg.connect(PG_URL)
        await admin.execute(f'CREATE DATABASE "{name}"')
        url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    else:
        folder = tempfile.mkdtemp()
        url = f"sqlite:///{Path(folder) / 'bench.db'}"
    try:
        await migrate(url)
        engine = create_engine(url)
        sessions = create_session_factory(engine)
        services = BotServices(
            uow_factory=sql_unit_of_work_factory(sessions),
            clock=ManualClock(datetime(2026, 3, 4, 13, tzinfo=UTC)),
            whatsapp=InMemoryWhatsAppGateway(),
            payments=InMemoryPaymentGateway(),
            signer=CallbackSigner(b"bench-callback-secret-0123456789"),
            flood=TokenBuckets(1000, 1000, time.monotonic),
        )
        async with Emulator(token=TOKEN) as emu:
            app = build_application(
                services,
                token=TOKEN,
                api_url=emu.origin,
                persistence=StatePersistence(SqlAlchemyBotStateStore(sessions)),
                rate_limiter=unthrottled(),
            )
            async with app:
                await app.start()
                await app.updater.start_polling(poll_interval=0, timeout=1)
                users = [emu.user(id=20_000 + i, first_name=f"S{i}") for i in range(sellers)]
                try:
                    result = await drive(users, seller_steps(steps), concurrency)
                finally:
                    await app.updater.stop()
                    await app.stop()
        await engine.dispose()
        return result
    finally:
        if db == "postgres":
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            await admin.close()


def report(label: str, elapsed: float, latencies: list[float]) -> tuple[float, float, float]:
    rate = len(latencies) / elapsed
    p50 = statistics.median(latencies) * 1000
    p95 = statistics.quantiles(latencies, n=20)[18] * 1000
    print(
        f"  {label:<22} {len(latencies):>6} updates  {elapsed:7.2f} s  {rate:8.1f} upd/s  "
        f"p50 {p50:7.1f} ms  p95 {p95:7.1f} ms"
    )
    return rate, p50, p95


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sellers", type=int, default=500)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    args = parser.parse_args()
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="WARNING")
    print(
        f"bot bench: {args.sellers} sellers x {args.steps} steps, "
        f"{args.concurrency} at a time, clientmgr on {args.db}"
    )
    floor = report(
        "bare PTB echo (floor)", *await run_echo(args.sellers, args.steps, args.concurrency)
    )
    ours = report(
        "clientmgr bot", *await run_clientmgr(args.sellers, args.steps, args.concurrency, args.db)
    )
    print(
        f"  ratio clientmgr/echo: throughput {ours[0] / floor[0]:.2f}x, "
        f"p50 {ours[1] / floor[1]:.2f}x, p95 {ours[2] / floor[2]:.2f}x"
    )


if __name__ == "__main__":
    asyncio.run(main())

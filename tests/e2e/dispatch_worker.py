"""One outbox dispatcher process for the reliability tests (``test_dispatch_reliability``).

Runs ``DispatchLoop`` against the database at ``--url`` and the real sidecar adapter
(``BaileysWhatsAppGateway`` with its circuit breaker) pointed at ``--sidecar``, with no
pacing interval so the tests stay short. Reports on stdout as JSON lines: ``ready`` once
the database answers, ``breaker`` on every breaker change. SIGTERM stops it after the
batch in hand.

    python tests/e2e/dispatch_worker.py --url postgresql://… --sidecar http://127.0.0.1:PORT \
        --name w1 [--lease 30] [--batch 20] [--per-session 5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from datetime import timedelta

from sqlalchemy import text

from clientmgr.adapters.logs import configure_logging
from clientmgr.adapters.sql.engine import create_engine, create_session_factory
from clientmgr.adapters.sql.unit_of_work import sql_unit_of_work_factory
from clientmgr.adapters.whatsapp import BaileysWhatsAppGateway, SidecarBreaker
from clientmgr.adapters.worker.outbox_loop import DispatchLoop
from clientmgr.ports.clock import SystemClock
from clientmgr.services.sending import Dispatcher, DispatchSettings


def report(event: str, **data: object) -> None:
    print(json.dumps({"event": event, **data}), flush=True)


async def main(args: argparse.Namespace) -> None:
    configure_logging("WARNING", "text")
    engine = create_engine(args.url, pool_size=4, max_overflow=4)
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
    breaker = SidecarBreaker(fail_max=3, reset_timeout=0.3, name=args.name)
    breaker.on_change(lambda state: report("breaker", state=state.value, worker=args.name))
    # The token names the worker, so the recording sidecar knows who sent what.
    gateway = BaileysWhatsAppGateway(args.sidecar, f"token-{args.name}", breaker=breaker)
    settings = DispatchSettings(
        batch_size=args.batch,
        per_session=args.per_session,
        lease=timedelta(seconds=args.lease),
        min_gap=timedelta(0),
        max_gap=timedelta(0),
        daily_cap=1_000_000,
        warmup_caps=(),
        max_attempts=5,
        retry_base=timedelta(seconds=0.1),
        retry_max=timedelta(seconds=1),
        unavailable_delay=timedelta(seconds=0.1),
        session_recheck=timedelta(seconds=1),
        concurrency=4,
        typing_min=timedelta(0),
        typing_max=timedelta(0),
    )
    dispatcher = Dispatcher(
        sql_unit_of_work_factory(create_session_factory(engine)),
        SystemClock(),
        gateway,
        settings,
        name=args.name,
    )
    loop = DispatchLoop(dispatcher, idle_delay=0.05, error_delay=0.2)
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, loop.stop)
    report("ready", worker=args.name)
    try:
        await loop.run()
    finally:
        await gateway.aclose()
        await engine.dispose()
    report("stopped", worker=args.name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--sidecar", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--lease", type=float, default=30.0)
    parser.add_argument("--batch", type=int, default=20)
    parser.add_argument("--per-session", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
    sys.exit(0)

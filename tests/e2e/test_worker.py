"""`clientmgr worker` as deployed: a queued reminder goes out through the real sidecar."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from datetime import time as clock_time
from datetime import timedelta
from decimal import Decimal

import httpx
from attrs import evolve
from cli_support import ROOT, run_cli
from support.sidecar_process import SidecarProcess

from clientmgr.adapters.sql.engine import create_engine, create_session_factory
from clientmgr.adapters.sql.unit_of_work import sql_unit_of_work_factory
from clientmgr.adapters.whatsapp import BaileysWhatsAppGateway
from clientmgr.core.outbox import OutboxStatus
from clientmgr.core.reminders import ReminderPolicy
from clientmgr.ports.clock import SystemClock
from clientmgr.ports.whatsapp import WaState
from clientmgr.services import accounts, clients, reminders


async def eventually(check, what: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


async def test_worker_sends_a_queued_reminder_through_the_sidecar(database_url):
    assert run_cli("migrate", url=database_url).returncode == 0
    engine = create_engine(database_url)
    uow_factory = sql_unit_of_work_factory(create_session_factory(engine))
    clock = SystemClock()
    sidecar = await SidecarProcess.astart()
    gateway = BaileysWhatsAppGateway(sidecar.url, sidecar.token)
    control = httpx.AsyncClient(
        base_url=sidecar.url, trust_env=False, headers={"Authorization": f"Bearer {sidecar.token}"}
    )
    worker = None
    try:
        account, _ = await accounts.register_account(uow_factory, clock, 777, "Ana")
        # Whatever time the test runs at, it is inside the send window.
        all_day = ReminderPolicy(
            window_start=clock_time(0), window_end=clock_time(23, 59, 59, 999999)
        )
        account = evolve(account, reminder_policy=all_day)
        async with uow_factory() as uow:
            await uow.accounts.update(account)
            await uow.commit()
        client = await clients.add_client(
            uow_factory,
            clock,
            account.id,
            clients.AddClient(
                name="Maria",
                phone="+5511988887777",
                price=Decimal("35.90"),
                due_date=clock.now().date() + timedelta(days=3),
            ),
        )
        session_id = f"acc-{account.id}"
        await gateway.start_session(session_id)

        async def state(*wanted: WaState) -> bool:
            session = await gateway.get_session(session_id)
            return session is not None and session.state in wanted

        await eventually(lambda: state(WaState.QR), "the QR")
        await control.post(f"/_fake/sessions/{session_id}/scan", json={"phone": "5521977776666"})
        await eventually(lambda: state(WaState.OPEN), "the session to open")
        queued = await reminders.queue_reminder_now(
            uow_factory, clock, account.id, client.id, "e2e-tap-1"
        )

        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SIDECAR_URL": sidecar.url,
            "SIDECAR_TOKEN": sidecar.token,
            "LOG_FORMAT": "text",
            "DISPATCH_MIN_GAP_SECONDS": "0",
            "DISPATCH_MAX_GAP_SECONDS": "0",
            "DISPATCH_TYPING_MIN_SECONDS": "0",
            "DISPATCH_TYPING_MAX_SECONDS": "0",
        }
        env.pop("TELEGRAM_BOT_TOKEN", None)
        worker = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "runners.cli",
            "worker",
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )

        async def sent() -> bool:
            async with uow_factory() as uow:
                message = await uow.outbox.get(account.id, queued.id)
            return message.status in {OutboxStatus.SENT, OutboxStatus.DELIVERED}

        await eventually(sent, "the reminder to be sent", within=60)
        delivered = (await control.get("/_fake/sent")).json()
        assert [m["text"] for m in delivered] == [queued.text]
        assert delivered[0]["to"].startswith("5511988887777")
    finally:
        output = ""
        if worker is not None:
            if worker.returncode is None:
                worker.send_signal(signal.SIGTERM)
            out, _ = await asyncio.wait_for(worker.communicate(), timeout=60)
            output = out.decode()
        await control.aclose()
        await gateway.aclose()
        await sidecar.astop()
        await engine.dispose()
    assert worker.returncode == 0, output
    assert "worker: stopping" in output

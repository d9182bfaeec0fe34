"""The web runner end to end: signed sidecar events change the database, and health/metrics.

Most tests drive the Starlette app through ``httpx.ASGITransport`` on a real database of
each kind (SQLite file, throwaway PostgreSQL); the Telegram notifier is checked against
the Telegram emulator; and one test runs it all for real: ``run_web`` under uvicorn on a
free port, the Node sidecar in its simulated-WhatsApp mode posting real signed events to
it, and the seller's notices arriving in the emulator.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from loguru import logger
from sqlalchemy import select, text
from telegram import Bot

from clientmgr.adapters.memory.notifier import RecordingNotifier
from clientmgr.adapters.sql.engine import create_engine, create_session_factory
from clientmgr.adapters.sql.migrate import migrate
from clientmgr.adapters.sql.tables import outbox_table
from clientmgr.adapters.sql.unit_of_work import sql_unit_of_work_factory
from clientmgr.adapters.sql.whatsapp_events import sql_event_lookups
from clientmgr.adapters.telegram.callbacks import CallbackSigner
from clientmgr.adapters.telegram.notifier import TelegramNotifier
from clientmgr.adapters.web import EVENTS_PATH, SIGNATURE_HEADER, WebDeps, create_app, sign_body
from clientmgr.config import Settings
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.templates import TemplateKind
from clientmgr.fakes.telegram import Emulator
from clientmgr.ports.clock import ManualClock
from clientmgr.ports.notifier import NoticeAction, SellerNotice, SellerUnreachableError
from clientmgr.services import accounts, clients

SECRET = "events-secret-for-the-tests"
SELLER_TG = 4242
ANA = "+5511988887777"
TOKEN = "123456:TEST-token-for-the-web-runner-tests"
SIGNER_KEY = b"web-tests-callback-secret-0123456789"


class Web:
    """One app on one database, and ways to poke it like the sidecar does."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self.clock = ManualClock(datetime(2026, 3, 4, 13, 0, tzinfo=UTC))
        self.notifier = RecordingNotifier()
        self.breaker = "closed"
        self.sidecar_status = 200

    async def open(self) -> None:
        await migrate(self.database_url)
        self.engine = create_engine(self.database_url)
        self.uow_factory = sql_unit_of_work_factory(create_session_factory(self.engine))
        account, _ = await accounts.register_account(
            self.uow_factory, self.clock, SELLER_TG, "Loja"
        )
        assert account.id is not None
        self.account_id = account.id
        self.session_id = f"acc-{account.id}"
        self.app = create_app(self.deps())
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url="http://web"
        )

    def deps(self, **changes: Any) -> WebDeps:
        options: dict[str, Any] = {
            "uow_factory": self.uow_factory,
            "clock": self.clock,
            "notifier": self.notifier,
            "lookups": sql_event_lookups,
            "events_secret": SECRET,
            "database_url": self.database_url,
            "sidecar_url": "http://sidecar.test",
            "sidecar_transport": httpx.MockTransport(self._sidecar),
            "breaker_state": lambda: self.breaker,
        }
        options.update(changes)
        return WebDeps(**options)

    def _sidecar(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/health"
        return httpx.Response(self.sidecar_status, json={"status": "ok"})

    async def close(self) -> None:
        await self.client.aclose()
        await self.engine.dispose()

    async def post(
        self, body: bytes | dict[str, Any], *, signature: str | None = "sign"
    ) -> httpx.Response:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers = {"content-type": "application/json"}
        if signature == "sign":
            headers[SIGNATURE_HEADER] = sign_body(SECRET, raw)
        elif signature is not None:
            headers[SIGNATURE_HEADER] = signature
        return await self.client.post(EVENTS_PATH, content=raw, headers=headers)

    def event(self, type_: str, data: dict[str, Any], event_id: str = "e1") -> dict[str, Any]:
        return {
            "event_id": event_id,
            "type": type_,
            "session_id": self.session_id,
            "ts": "2026-03-04T12:59:00.000Z",
            "data": data,
        }

    def ack(self, status: str, message_id: str = "3EB0CAFE") -> dict[str, Any]:
        data = {"message_id": message_id, "to": "5511988887777@s.whatsapp.net", "status": status}
        return self.event("ack", data, f"ack:{self.session_id}:{message_id}:{status}")

    async def add_client(self, phone: str = ANA) -> int:
        cmd = clients.AddClient(
            name="Ana Souza", phone=phone, price=Decimal("35.90"), due_date=date(2026, 3, 10)
        )
        client = await clients.add_client(self.uow_factory, self.clock, self.account_id, cmd)
        assert client.id is not None
        return client.id

    async def add_message(
        self,
        provider_id: str | None = "3EB0CAFE",
        *,
        client_id: int | None = None,
        status: OutboxStatus = OutboxStatus.SENT,
        key: str = "k1",
    ) -> int:
        now = self.clock.now()
        async with self.uow_factory() as uow:
            message = await uow.outbox.add(
                OutboxMessage(
                    account_id=self.account_id,
                    to=ANA,
                    text="Olá Ana, seu plano vence dia 10/03.",
                    kind=TemplateKind.BEFORE_DUE,
                    dedupe_key=f"{self.account_id}:{key}",
                    created_at=now,
                    next_attempt_at=now,
                    client_id=client_id,
                    status=status,
                    provider_message_id=provider_id,
                    sent_at=now if status is OutboxStatus.SENT else None,
                )
            )
            await uow.commit()
        assert message is not None
        assert message.id is not None
        return message.id

    async def row(self, message_id: int) -> dict[str, Any]:
        t = outbox_table
        query = select(t.c.status, t.c.delivered_at, t.c.read_at, t.c.last_error).where(
            t.c.id == message_id
        )
        async with self.engine.connect() as connection:
            return dict((await connection.execute(query)).mappings().one())

    async def opted_out(self, client_id: int) -> bool:
        client = await clients.get_client(self.uow_factory, self.account_id, client_id)
        return client.opted_out


@pytest.fixture
async def web(database_url: str) -> AsyncIterator[Web]:
    harness = Web(database_url)
    await harness.open()
    try:
        async with harness.app.router.lifespan_context(harness.app):
            yield harness
    finally:
        await harness.close()


@pytest.fixture
def logs() -> Iterator[list[str]]:
    lines: list[str] = []
    sink = logger.add(lambda message: lines.append(str(message)), level="DEBUG", format="{message}")
    yield lines
    logger.remove(sink)


# --- acks ---------------------------------------------------------------------------------


async def test_signed_acks_move_the_message_forward_and_repeats_change_nothing(web: Web):
    message_id = await web.add_message()

    answer = await web.post(web.ack("delivered"))
    assert answer.status_code == 200, answer.text
    assert answer.json()["outcome"] == "applied"
    row = await web.row(message_id)
    assert row["status"] == "delivered"
    assert row["delivered_at"] == datetime(2026, 3, 4, 12, 59, tzinfo=UTC)  # the event's time

    repeat = await web.post(web.ack("delivered"))
    assert (repeat.status_code, repeat.json()["outcome"]) == (200, "unchanged")

    assert (await web.post(web.ack("read"))).json()["outcome"] == "applied"
    late = await web.post(web.ack("delivered"))
    assert (late.status_code, late.json()["outcome"]) == (200, "unchanged")
    row = await web.row(message_id)
    assert row["status"] == "read"
    assert row["read_at"] is not None


async def test_forged_or_missing_signatures_are_refused_and_change_nothing(web: Web, logs):
    message_id = await web.add_message()
    body = json.dumps(web.ack("read")).encode()

    cases = {
        "missing": None,
        "wrong secret": sign_body("not-the-secret", body),
        "another body": sign_body(SECRET, body + b" "),
        "garbage": "sha256=zz",
        "bare hex": sign_body(SECRET, body).removeprefix("sha256="),
    }
    for why, signature in cases.items():
        answer = await web.post(body, signature=signature)
        assert answer.status_code == 401, why
        assert answer.json()["error"] == "unauthorized"
    assert (await web.row(message_id))["status"] == "sent"
    assert any("refused" in line for line in logs)

    upper = sign_body(SECRET, body).upper().replace("SHA256=", "sha256=")
    assert (await web.post(body, signature=upper)).status_code == 200  # hex case does not matter


async def test_without_a_secret_nothing_is_accepted(web: Web):
    app = create_app(web.deps(events_secret=""))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://web"
    ) as client:
        body = json.dumps(web.ack("read")).encode()
        answer = await client.post(
            EVENTS_PATH, content=body, headers={SIGNATURE_HEADER: sign_body("", body)}
        )
    assert answer.status_code == 503
    assert "SIDECAR_EVENTS_SECRET" in answer.json()["reason"]


async def test_malformed_bodies_are_400_and_huge_ones_413(web: Web):
    answer = await web.post(b"{not json")
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_json")
    answer = await web.post(b"\xff\xfe")
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_json")
    answer = await web.post({"event_id": "x", "type": "ack"})
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_payload")
    answer = await web.post(web.event("ack", {"status": "read"}))  # no message id
    assert (answer.status_code, answer.json()["error"]) == (400, "invalid_payload")
    answer = await web.post(b"x" * (300 * 1024))
    assert answer.status_code == 413


async def test_unknown_sessions_messages_and_clients_are_ignored_and_logged(web: Web, logs):
    message_id = await web.add_message()
    client_id = await web.add_client()

    other_session = {**web.ack("read"), "session_id": "acc-999999"}
    strange_session = {**web.ack("read"), "session_id": "playground"}
    unknown_message = web.ack("read", "3EB0UNKNOWN")
    stranger = web.event(
        "message", {"message_id": "M1", "from": "5511911112222@s.whatsapp.net", "text": "SAIR"}
    )
    for event in (other_session, strange_session, unknown_message, stranger):
        answer = await web.post(event)
        assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored"), event
    assert (await web.row(message_id))["status"] == "sent"
    assert not await web.opted_out(client_id)
    assert web.notifier.sent == []
    assert sum("ignored" in line for line in logs) >= 4


# --- opt-outs and the session ------------------------------------------------------------


async def test_sair_opts_the_client_out_and_the_seller_is_told(web: Web):
    client_id = await web.add_client()
    queued = await web.add_message(None, client_id=client_id, status=OutboxStatus.QUEUED)
    event = web.event(
        "message",
        {
            "message_id": "IN1",
            "from": "5511988887777@s.whatsapp.net",
            "from_phone": "5511988887777",
            "from_lid": None,
            "push_name": "Ana",
            "text": "Sair",
            "timestamp": 1772629140,
        },
        "message:acc:IN1",
    )
    answer = await web.post(event)
    assert (answer.status_code, answer.json()["outcome"]) == (200, "applied")
    assert await web.opted_out(client_id)
    assert (await web.row(queued))["status"] == "cancelled"
    [told] = web.notifier.sent
    assert (told.telegram_id, told.notice.key) == (SELLER_TG, "events.client_opted_out")

    assert (await web.post(event)).json()["outcome"] == "unchanged"
    assert len(web.notifier.sent) == 1


async def test_a_dropped_session_is_told_and_a_telegram_outage_is_retried(web: Web):
    event = web.event("state", {"state": "logged_out", "reason": "logged_out", "phone": None})
    web.notifier.fail_next()
    answer = await web.post(event)
    assert (answer.status_code, answer.json()["error"]) == (503, "notify_failed")
    assert web.notifier.sent == []

    answer = await web.post(event)  # the sidecar's retry
    assert (answer.status_code, answer.json()["outcome"]) == (200, "applied")
    assert web.notifier.keys() == ["events.wa_logged_out"]
    assert (await web.post(event)).json()["outcome"] == "unchanged"

    qr = web.event("qr", {"qr": "2@fresh,qr", "attempt": 1, "max_attempts": 5})
    assert (await web.post(qr)).json()["outcome"] == "applied"
    assert web.notifier.sent[-1].notice.qr == "2@fresh,qr"


# --- health, readiness, metrics ----------------------------------------------------------


async def test_healthz_and_readyz(web: Web):
    assert (await web.client.get("/healthz")).json() == {"status": "ok"}
    ready = await web.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"database": "ok", "schema": "ok", "sidecar": "ok"},
    }

    web.sidecar_status = 500
    ready = await web.client.get("/readyz")
    assert ready.status_code == 503
    assert "HTTP 500" in ready.json()["checks"]["sidecar"]
    web.sidecar_status = 200

    async with web.engine.begin() as connection:
        await connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    ready = await web.client.get("/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not_ready"
    assert body["checks"]["database"] == "ok"
    assert "clientmgr migrate" in body["checks"]["schema"]


async def test_readyz_names_an_unreachable_sidecar(web: Web):
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    app = create_app(web.deps(sidecar_transport=httpx.MockTransport(refuse)))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://w") as client,
    ):
        ready = await client.get("/readyz")
    assert ready.status_code == 503
    assert "ConnectError" in ready.json()["checks"]["sidecar"]


async def test_metrics_show_the_queue_events_breaker_and_process(web: Web):
    await web.add_message()
    await web.add_message(None, status=OutboxStatus.QUEUED, key="k2")
    await web.add_message(None, status=OutboxStatus.FAILED, key="k3")
    await web.post(web.ack("delivered"))
    await web.post(b"{", signature="sha256=00")
    web.breaker = "open"

    page = await web.client.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    metrics = page.text
    for line in (
        'clientmgr_outbox_messages{status="delivered"} 1.0',
        'clientmgr_outbox_messages{status="queued"} 1.0',
        'clientmgr_outbox_messages{status="read"} 0.0',
        "clientmgr_outbox_queue_depth 1.0",
        "clientmgr_outbox_sent_messages 1.0",
        "clientmgr_outbox_failed_messages 1.0",
        "clientmgr_database_up 1.0",
        'clientmgr_sidecar_events_total{outcome="applied",type="ack"} 1.0',
        'clientmgr_sidecar_events_total{outcome="rejected",type="?"} 1.0',
        'clientmgr_whatsapp_breaker{clientmgr_whatsapp_breaker="open"} 1.0',
        'clientmgr_whatsapp_breaker{clientmgr_whatsapp_breaker="closed"} 0.0',
    ):
        assert line in metrics, line
    assert "clientmgr_process_rss_bytes " in metrics
    assert "clientmgr_process_cpu_percent " in metrics


# --- the Telegram notifier on the emulator -------------------------------------------------


async def test_the_telegram_notifier_sends_text_buttons_and_qr_photos():
    async with Emulator(token=TOKEN, transport="asgi") as emu:
        seller = emu.user(SELLER_TG)
        await seller.send("/start")
        bot = Bot(
            TOKEN, base_url=emu.base_url, base_file_url=emu.base_file_url, request=emu.request()
        )
        signer = CallbackSigner(SIGNER_KEY)
        notifier = TelegramNotifier(bot, signer)

        await notifier.notify(
            SELLER_TG,
            SellerNotice(
                "events.client_opted_out",
                {"name": "Ana <b>", "phone": "(11) 98888-7777", "word": "SAIR"},
                buttons=(NoticeAction.CLIENT, NoticeAction.WHATSAPP),
                client_id=7,
            ),
        )
        message = await seller.wait_for_message("não vai mais receber lembretes")
        assert "Ana <b>" in message.content  # escaped on the way, shown as typed
        buttons = {b["text"]: b["callback_data"] for row in message.keyboard for b in row}
        assert signer.verify(SELLER_TG, buttons["👤 Abrir cliente"]) == "cc:card:7"
        assert signer.verify(SELLER_TG, buttons["📱 WhatsApp"]) == "wa:menu"

        await notifier.notify(
            SELLER_TG,
            SellerNotice("events.wa_qr", qr="2@abc,def", buttons=(NoticeAction.CONNECT_WHATSAPP,)),
        )
        photo = await seller.wait_for_message("Leia este QR code")
        assert photo.photo is not None
        assert signer.verify(SELLER_TG, photo.keyboard[0][0]["callback_data"]) == "wa:connect"

        await notifier.notify(
            SELLER_TG,
            SellerNotice(
                "events.access.expired", {"date": "11/03"}, buttons=(NoticeAction.SUBSCRIPTION,)
            ),
        )
        expired = await seller.wait_for_message("Seus lembretes pararam")
        assert "11/03" in expired.content
        assert signer.verify(SELLER_TG, expired.keyboard[0][0]["callback_data"]) == "sub:menu"

        await seller.block()
        await notifier.notify(SELLER_TG, SellerNotice("events.wa_logged_out"))  # logged, no error
        await bot.shutdown()

    down = TelegramNotifier(Bot(TOKEN, base_url="http://127.0.0.1:9/bot"), signer)
    with pytest.raises(SellerUnreachableError):
        await down.notify(SELLER_TG, SellerNotice("events.wa_logged_out"))


# --- everything for real: uvicorn, the Node sidecar, the emulator ----------------------------


async def _until(condition: Callable[[], Any], what: str, seconds: float = 15.0) -> Any:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        value = await condition()
        if value:
            return value
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out after {seconds} s waiting for {what}")


@pytest.mark.slow
async def test_the_real_sidecar_posts_events_to_the_real_web_runner(database_url: str):
    from support.sidecar_process import SidecarProcess

    from runners.web import run_web

    web = Web(database_url)
    await web.open()
    async with Emulator(token=TOKEN) as emu:
        seller = emu.user(SELLER_TG)
        await seller.send("/start")
        settings = Settings(
            database_url=database_url,
            telegram_bot_token=TOKEN,
            telegram_api_url=emu.origin,
            callback_secret="web-e2e-callback-secret",
            sidecar_events_secret=SECRET,
            port=0,
            log_level="WARNING",
        )
        stop = asyncio.Event()
        urls: list[str] = []
        serving = asyncio.create_task(
            run_web(settings, stop, host="127.0.0.1", started=urls.append)
        )
        sidecar = None
        try:
            await _until(lambda: _done(urls, serving), "the web runner to listen")
            base = urls[0]
            sidecar = await SidecarProcess.astart(
                events_url=f"{base}{EVENTS_PATH}", events_secret=SECRET
            )
            api = httpx.AsyncClient(
                base_url=sidecar.url,
                headers={"authorization": f"Bearer {sidecar.token}"},
                trust_env=False,
                timeout=10,
            )
            async with api:
                session = web.session_id
                assert (await api.post(f"/sessions/{session}")).status_code in (200, 201)
                scan = await api.post(
                    f"/_fake/sessions/{session}/scan", json={"phone": "+5521977776666"}
                )
                assert scan.status_code == 200, scan.text
                client_id = await web.add_client()
                sent = await api.post(
                    f"/sessions/{session}/messages",
                    json={"to": ANA, "text": "Olá Ana", "idempotency_key": "k1"},
                )
                assert sent.status_code == 200, sent.text
                message_id = await web.add_message(sent.json()["message_id"], client_id=client_id)

                for status in ("delivered", "read"):
                    ack = await api.post(
                        f"/_fake/sessions/{session}/ack",
                        json={"message_id": sent.json()["message_id"], "status": status},
                    )
                    assert ack.status_code == 200, ack.text

                    async def moved(status: str = status) -> bool:
                        return (await web.row(message_id))["status"] == status

                    await _until(moved, f"the {status} tick in the database")

                receive = await api.post(
                    f"/_fake/sessions/{session}/receive",
                    json={"from": "5511988887777@s.whatsapp.net", "text": "PARAR"},
                )
                assert receive.status_code == 200, receive.text
                await _until(lambda: web.opted_out(client_id), "the client to be opted out")
                await seller.wait_for_message("não vai mais receber lembretes", timeout=10)

                assert (await api.post(f"/_fake/sessions/{session}/logout")).status_code == 200
                await seller.wait_for_message("desconectado pelo celular", timeout=10)

            async with httpx.AsyncClient(base_url=base, trust_env=False) as http:
                assert (await http.get("/healthz")).status_code == 200
                ready = await http.get("/readyz")
                assert ready.status_code == 200, ready.text
                metrics = (await http.get("/metrics")).text
                assert 'clientmgr_outbox_messages{status="read"} 1.0' in metrics
        finally:
            if sidecar is not None:
                await sidecar.astop()
            stop.set()
            await asyncio.wait_for(serving, 15)
            await web.close()


async def _done(urls: list[str], serving: asyncio.Task[None]) -> bool:
    if serving.done():
        serving.result()  # the runner failed to start: raise its error here
    return bool(urls)

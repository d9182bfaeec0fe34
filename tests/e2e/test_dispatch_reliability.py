"""The outbox dispatcher under stress, on PostgreSQL, with real dispatcher processes.

Each test starts child processes running ``tests/e2e/dispatch_worker.py`` (the real
``DispatchLoop`` and the real sidecar adapter with its circuit breaker) against one
migrated PostgreSQL database, and a recording sidecar in this process: the sidecar's
``POST /sessions/{id}/messages`` and ``/presence`` routes only, deduplicating sends by
idempotency key as the real one does and counting every request, so "sent exactly once"
is checked on both sides: what reached the sidecar and what the database says.

1. four dispatchers, 2,000 queued messages: every message requested and sent once;
2. a dispatcher SIGKILLed mid-batch (its sends accepted but never answered, so it dies
   between "sent" and "recorded"): its leased rows are taken over after the lease and
   the sidecar still sends each idempotency key once;
3. the sidecar down for a while: the breakers open, nothing is lost, no attempt is spent,
   everything goes out once it is back.

Pacing intervals are zero here (the unit tests cover pacing); sizes are the issue's.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cli_support import throwaway_postgres
from sqlalchemy import insert, text
from sqlalchemy.pool import NullPool

from clientmgr.adapters.sql.engine import create_engine, create_session_factory
from clientmgr.adapters.sql.mapping import outbox_message_values
from clientmgr.adapters.sql.migrate import migrate
from clientmgr.adapters.sql.tables import outbox_table
from clientmgr.adapters.sql.unit_of_work import sql_unit_of_work_factory
from clientmgr.core.accounts import Account
from clientmgr.core.clients import Client
from clientmgr.core.outbox import OutboxMessage
from clientmgr.core.reminders import ReminderPolicy
from clientmgr.core.templates import TemplateKind

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ALL_DAY = ReminderPolicy(window_start=time(0), window_end=time(23, 59, 59, 999999))
_ROUTE = re.compile(r"/sessions/([A-Za-z0-9_-]{1,64})/(messages|presence)")


# -- the recording sidecar ----------------------------------------------------------------


class RecordingSidecar:
    """The sidecar's send and presence routes, in a thread: dedupes sends by (session,
    idempotency key) like the real one (a repeat answers the first message id with
    ``duplicate: true``), records every send request and counts the presences. ``down``
    answers 503 to everything; a worker named in ``hang`` gets its
    new sends accepted (recorded as sent) but never answered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sent: dict[tuple[str, str], tuple[str, str]] = {}  # → (message id, worker)
        self.requests: Counter[tuple[str, str]] = Counter()
        self.refused = 0
        self.presences = 0
        self.down = False
        self.hang: set[str] = set()
        self.hanging = 0
        self.release = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.sidecar = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def snapshot(self) -> tuple[dict[tuple[str, str], tuple[str, str]], Counter[tuple[str, str]]]:
        with self.lock:
            return dict(self.sent), Counter(self.requests)

    def close(self) -> None:
        self.release.set()
        self._server.shutdown()
        self._server.server_close()

    def handle_send(
        self, worker: str, session: str, payload: dict[str, Any]
    ) -> dict[str, Any] | None:
        key = str(payload["idempotency_key"])
        with self.lock:
            self.requests[(session, key)] += 1
            known = self.sent.get((session, key))
            duplicate = known is not None
            if known is None:
                digest = hashlib.sha256(f"{session}\0{key}".encode()).hexdigest().upper()
                known = self.sent[(session, key)] = (f"3EB0{digest[:18]}", worker)
            hang = not duplicate and worker in self.hang
            if hang:
                self.hanging += 1
        if hang:
            self.release.wait(120)
            return None
        digits = re.sub(r"\D", "", str(payload["to"]))
        return {"message_id": known[0], "to": f"{digits}@s.whatsapp.net", "duplicate": duplicate}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_POST(self) -> None:
        sidecar: RecordingSidecar = self.server.sidecar  # type: ignore[attr-defined]
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        route = _ROUTE.fullmatch(self.path)
        if not token.startswith("token-"):
            return self._answer(401, {"error": "unauthorized", "reason": "bad token"})
        if route is None:
            return self._answer(404, {"error": "not_found", "reason": self.path})
        if sidecar.down:
            with sidecar.lock:
                sidecar.refused += 1
            return self._answer(503, {"error": "internal_error", "reason": "down for the test"})
        if route[2] == "presence":
            with sidecar.lock:
                sidecar.presences += 1
            payload = json.loads(body)
            return self._answer(200, {"to": payload["to"], "state": payload["state"]})
        answer = sidecar.handle_send(token.removeprefix("token-"), route[1], json.loads(body))
        if answer is None:  # hung until the test ends; the worker is long dead
            self.close_connection = True
            return None
        return self._answer(200, answer)

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


# -- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, migrated PostgreSQL database; unreachable fails the test, never skips it."""
    with throwaway_postgres("cm_dispatch") as url:
        asyncio.run(migrate(url))
        yield url


@pytest.fixture
def sidecar() -> Iterator[RecordingSidecar]:
    server = RecordingSidecar()
    try:
        yield server
    finally:
        server.close()


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    def events(self, kind: str) -> list[dict[str, Any]]:
        lines = self.out.read_text(encoding="utf-8", errors="replace").splitlines()
        found = []
        for line in lines:
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if event.get("event") == kind:
                found.append(event)
        return found

    def log_tail(self) -> str:
        return self.err.read_text(encoding="utf-8", errors="replace")[-3000:]


@pytest.fixture
def workers(
    tmp_path: Path, pg_url: str, sidecar: RecordingSidecar
) -> Iterator[Callable[..., Worker]]:
    """Starts dispatcher processes; every one still running is stopped at the end."""
    started: list[Worker] = []

    def start(name: str, *, lease: float = 30, batch: int = 20, per_session: int = 5) -> Worker:
        out, err = tmp_path / f"{name}.out", tmp_path / f"{name}.err"
        with out.open("wb") as stdout, err.open("wb") as stderr:
            process = subprocess.Popen(
                [
                    sys.executable,
                    str(HERE / "dispatch_worker.py"),
                    f"--url={pg_url}",
                    f"--sidecar={sidecar.url}",
                    f"--name={name}",
                    f"--lease={lease}",
                    f"--batch={batch}",
                    f"--per-session={per_session}",
                ],
                stdout=stdout,
                stderr=stderr,
                cwd=ROOT,
            )
        worker = Worker(name, process, out, err)
        started.append(worker)
        return worker

    try:
        yield start
    finally:
        for worker in started:
            if worker.process.poll() is None:
                worker.process.send_signal(signal.SIGTERM)
        for worker in started:
            try:
                worker.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait(timeout=15)


# -- helpers ------------------------------------------------------------------------------


async def until(check: Callable[[], Awaitable[Any] | Any], what: str, within: float) -> Any:
    """Poll ``check`` every 0.1 s until it is truthy; fail naming ``what`` after ``within`` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}")
        await asyncio.sleep(0.1)


async def ready(workers: list[Worker]) -> None:
    def all_ready() -> bool:
        for worker in workers:
            if worker.process.poll() is not None:
                raise AssertionError(f"{worker.name} exited early:\n{worker.log_tail()}")
        return all(worker.events("ready") for worker in workers)

    await until(all_ready, "the dispatcher processes to start", 30)


class Database:
    """The test's own view of the database the workers share."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url, poolclass=NullPool)

    async def seed(self, accounts: int, messages: int) -> list[str]:
        """``accounts`` sellers with 5 clients each and ``messages`` queued messages, due now
        in creation order, spread over the clients (so over the accounts) in turn; returns
        the dedupe keys (= idempotency keys)."""
        now = datetime.now(UTC)
        uow_factory = sql_unit_of_work_factory(create_session_factory(self.engine))
        async with uow_factory() as uow:
            clients: list[Client] = []
            for n in range(accounts):
                account = await uow.accounts.add(
                    Account.new(9000 + n, f"Loja {n}", now, timezone="UTC", reminder_policy=ALL_DAY)
                )
                assert account.id is not None
                for k in range(5):
                    clients.append(
                        await uow.clients.add(
                            Client(
                                account_id=account.id,
                                name=f"Cliente {n}-{k}",
                                phone=f"+55119{n:04d}{k:04d}",
                                price=Decimal("35.90"),
                                due_date=now.date(),
                                created_at=now,
                                updated_at=now,
                            )
                        )
                    )
            rows, keys = [], []
            start = now - timedelta(seconds=5)
            for n in range(messages):
                client = clients[n % len(clients)]
                message = OutboxMessage(
                    account_id=client.account_id,
                    client_id=client.id,
                    to=client.phone,
                    text=f"Olá {client.name}, lembrete {n}.",
                    kind=TemplateKind.DUE_TODAY,
                    dedupe_key=f"rel:{n}",
                    created_at=now,
                    next_attempt_at=start + timedelta(milliseconds=n),
                )
                rows.append(outbox_message_values(message))
                keys.append(message.dedupe_key)
            await uow.session.execute(insert(outbox_table), rows)
            await uow.commit()
        return keys

    async def rows(self, where: str = "true") -> list[dict[str, Any]]:
        async with self.engine.connect() as connection:
            result = await connection.execute(
                text(
                    "SELECT id, account_id, dedupe_key, status, attempts, lease_until, lease_owner,"
                    f" provider_message_id, sent_at, last_error FROM outbox WHERE {where}"
                )
            )
            return [dict(row) for row in result.mappings()]

    async def count(self, where: str) -> int:
        async with self.engine.connect() as connection:
            return int(
                (
                    await connection.execute(text(f"SELECT count(*) FROM outbox WHERE {where}"))
                ).scalar_one()
            )

    async def close(self) -> None:
        await self.engine.dispose()


@pytest.fixture
async def database(pg_url: str) -> Any:
    db = Database(pg_url)
    try:
        yield db
    finally:
        await db.close()


def _session_of(row: dict[str, Any]) -> str:
    return f"acc-{row['account_id']}"


async def all_sent(database: Database, total: int, workers: list[Worker], within: float) -> None:
    async def done() -> bool:
        for worker in workers:
            if worker.process.poll() is not None:
                raise AssertionError(f"{worker.name} died:\n{worker.log_tail()}")
        return await database.count("status = 'sent'") == total

    try:
        await until(done, f"all {total} messages to be sent", within)
    except AssertionError:
        counts = await database.rows("status <> 'sent' LIMIT 5")
        logs = "\n".join(f"--- {w.name}\n{w.log_tail()}" for w in workers)
        raise AssertionError(f"not all sent; e.g. {counts}\n{logs}") from None


# -- the tests ----------------------------------------------------------------------------


async def test_four_dispatchers_send_two_thousand_messages_exactly_once(
    database: Database, sidecar: RecordingSidecar, workers: Callable[..., Worker]
) -> None:
    team = [workers(f"w{n}", per_session=5) for n in range(4)]
    await ready(team)
    keys = await database.seed(accounts=20, messages=2000)
    await all_sent(database, 2000, team, within=90)

    sent, requests = sidecar.snapshot()
    rows = await database.rows()
    assert len(rows) == 2000
    expected = {(_session_of(row), row["dedupe_key"]) for row in rows}
    assert {row["dedupe_key"] for row in rows} == set(keys)
    assert set(sent) == expected  # every message reached the sidecar ...
    assert set(requests.values()) == {1}  # ... in exactly one request
    assert sidecar.presences == 2000  # each after "digitando…"
    for row in rows:
        assert row["status"] == "sent"
        assert row["attempts"] == 1
        assert row["provider_message_id"] == sent[(_session_of(row), row["dedupe_key"])][0]
        assert row["lease_owner"] is None
    by_worker = Counter(worker for _, worker in sent.values())
    assert len(by_worker) >= 2, f"the work was not shared: {by_worker}"


async def test_a_dispatcher_killed_mid_batch_loses_nothing_and_sends_nothing_twice(
    database: Database, sidecar: RecordingSidecar, workers: Callable[..., Worker]
) -> None:
    sidecar.hang.add("victim")
    victim = workers("victim", lease=2, batch=20, per_session=5)
    await ready([victim])
    await database.seed(accounts=4, messages=200)
    # The victim claims 20 rows (5 of each of 4 sessions) and sends the first of each
    # session, which the sidecar accepts but never answers: it dies before recording them.
    await until(lambda: sidecar.hanging == 4, "the victim's four sends to hang", 30)
    leased = await database.rows("lease_owner LIKE 'victim:%'")
    assert len(leased) == 20
    assert {row["status"] for row in leased} == {"sending"}
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=10)
    assert victim.process.returncode == -signal.SIGKILL

    rescuers = [workers(f"rescuer{n}", lease=2) for n in range(2)]
    await ready(rescuers)
    await all_sent(database, 200, rescuers, within=60)

    sent, requests = sidecar.snapshot()
    assert len(sent) == 200  # each idempotency key sent once
    hung = {key for key, (_, worker) in sent.items() if worker == "victim"}
    assert len(hung) == 4
    assert {key: n for key, n in requests.items() if n != 1} == dict.fromkeys(hung, 2)
    final = {row["id"]: row for row in await database.rows()}
    for before in leased:
        row = final[before["id"]]
        assert row["status"] == "sent"
        assert row["attempts"] == 2  # the victim's claim, then the rescuer's
        assert row["sent_at"] >= before["lease_until"]  # taken over only after the lease
        assert row["provider_message_id"] == sent[(_session_of(row), row["dedupe_key"])][0]
    leased_ids = {row["id"] for row in leased}
    assert {row["attempts"] for row in final.values() if row["id"] not in leased_ids} == {1}


async def test_sidecar_down_for_a_while_loses_nothing_and_spends_no_attempt(
    database: Database, sidecar: RecordingSidecar, workers: Callable[..., Worker]
) -> None:
    sidecar.down = True
    team = [workers(f"w{n}") for n in range(2)]
    await ready(team)
    await database.seed(accounts=6, messages=300)

    def breakers_reopened() -> bool:  # opened, tried again half-open, failed, opened again
        opens = [[e for e in w.events("breaker") if e["state"] == "open"] for w in team]
        return all(len(found) >= 2 for found in opens)

    await until(breakers_reopened, "both breakers to open twice", 30)
    assert sidecar.refused > 0
    assert await database.count("status IN ('sent', 'failed', 'cancelled')") == 0
    assert await database.count("status = 'queued' AND attempts > 0") == 0
    assert sidecar.snapshot()[0] == {}

    sidecar.down = False
    await all_sent(database, 300, team, within=60)
    sent, requests = sidecar.snapshot()
    assert len(sent) == 300
    assert set(requests.values()) == {1}
    rows = await database.rows()
    assert {row["status"] for row in rows} == {"sent"}
    assert {row["attempts"] for row in rows} == {1}  # waiting for the sidecar spent none
    assert {row["last_error"] for row in rows} == {None}
    for worker in team:
        assert worker.events("breaker")[-1]["state"] == "closed"

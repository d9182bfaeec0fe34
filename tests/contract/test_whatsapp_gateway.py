"""WhatsAppGateway contract: sessions, idempotent sends, presences, 9th-digit lookups, errors.

Every test runs against each implementation through a *harness*: the gateway plus the
means to play the other side (link a phone, say who is on WhatsApp, fail a send, read
what was sent and which presences were shown). ``memory`` is the in-memory fake;
``sidecar`` is the httpx adapter (``BaileysWhatsAppGateway``) over the real sidecar
process, started for each test with ``SIDECAR_FAKE=1`` (a simulated WhatsApp driven
through its ``/_fake/...`` routes) and its state in the test's temp dir. The last section
holds what only the real process can show: the correlation id in its logs, and the circuit
breaker around a sidecar that stops and comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Protocol

import httpx
import pytest
from attrs import frozen
from support.sidecar_process import SidecarProcess, SidecarStartError

from clientmgr.adapters.memory import InMemoryWhatsAppGateway
from clientmgr.adapters.memory.whatsapp import phone_variants
from clientmgr.adapters.whatsapp import (
    BaileysWhatsAppGateway,
    BreakerState,
    SidecarBreaker,
)
from clientmgr.core.correlation import correlation_id
from clientmgr.errors import (
    ConfigError,
    NotOnWhatsAppError,
    WhatsAppRequestError,
    WhatsAppSendError,
    WhatsAppSessionNotOpenError,
    WhatsAppUnavailableError,
)
from clientmgr.ports.whatsapp import Presence, WaLookup, WaState, WhatsAppGateway

HARNESSES = ["memory", "sidecar"]

ANA = "+5511988887777"
ANA_JID = "5511988887777@s.whatsapp.net"
SELLER = "+5521977776666"


@frozen
class Sent:
    """One message that went out, as the harness saw it."""

    session_id: str
    to: str
    text: str
    message_id: str


@frozen
class Shown:
    """One presence update the contact saw, as the harness saw it."""

    session_id: str
    to: str
    presence: Presence


class WhatsAppHarness(Protocol):
    gateway: WhatsAppGateway

    async def link(self, session_id: str, phone: str) -> None:
        """Start the session and scan its QR with ``phone`` until it is open."""

    async def drop(self, session_id: str) -> None:
        """Break the connection so the session is not open until ``start_session`` resumes
        it (the phone stays linked)."""

    async def on_whatsapp(self, *phones: str) -> None:
        """These numbers exist on WhatsApp, in exactly the form given."""

    async def not_on_whatsapp(self, *phones: str) -> None: ...

    async def fail_sends(self, n: int) -> None:
        """The next ``n`` sends are refused by WhatsApp."""

    async def sent(self) -> list[Sent]: ...

    async def presences(self) -> list[Shown]: ...

    def unavailable(self) -> WhatsAppGateway:
        """A gateway whose sidecar cannot be reached."""


class MemoryHarness:
    def __init__(self) -> None:
        self.fake = InMemoryWhatsAppGateway()
        self.gateway: WhatsAppGateway = self.fake

    async def link(self, session_id: str, phone: str) -> None:
        await self.fake.start_session(session_id)
        self.fake.scan(session_id, phone)

    async def drop(self, session_id: str) -> None:
        self.fake.drop(session_id)

    async def on_whatsapp(self, *phones: str) -> None:
        for phone in phones:
            self.fake.add_number(phone)

    async def not_on_whatsapp(self, *phones: str) -> None:
        for phone in phones:
            self.fake.remove_number(phone)

    async def fail_sends(self, n: int) -> None:
        self.fake.fail_next(n)

    async def sent(self) -> list[Sent]:
        return [Sent(m.session_id, m.to, m.text, m.message_id) for m in self.fake.sent]

    async def presences(self) -> list[Shown]:
        return [Shown(p.session_id, p.to, p.presence) for p in self.fake.presences]

    def unavailable(self) -> WhatsAppGateway:
        fake = InMemoryWhatsAppGateway()
        fake.down = True
        return fake


SIDECAR_WAIT = 10.0
"""Seconds a harness waits for the sidecar to reach a state (it takes milliseconds)."""


async def eventually(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Poll ``check`` until it returns something truthy; fail after ``SIDECAR_WAIT``."""
    deadline = time.monotonic() + SIDECAR_WAIT
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {SIDECAR_WAIT}s waiting for {what}")
        await asyncio.sleep(0.01)


def refusing_port() -> socket.socket:
    """A bound socket that does not listen: connecting to its port is refused at once, and
    no other process can take the port while the socket is held."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    return holder


class SidecarHarness:
    """The real sidecar process; the other side is played through its ``/_fake`` routes.

    With ``SIDECAR_FAKE=1`` every number is on WhatsApp unless removed, while the contract
    says only the numbers named exist: so naming a number on WhatsApp also removes its
    9th-digit twin unless that was named too. ``drop`` closes the connection the way a
    "connection replaced" close does (the sidecar stops and waits for ``start_session``),
    since after an ordinary drop it reconnects on its own within a second.
    """

    def __init__(self, sidecar: SidecarProcess) -> None:
        self.sidecar = sidecar
        self.gateway: WhatsAppGateway = BaileysWhatsAppGateway(sidecar.url, sidecar.token)
        self.control = httpx.AsyncClient(
            base_url=sidecar.url,
            headers={"Authorization": f"Bearer {sidecar.token}"},
            timeout=SIDECAR_WAIT,
            trust_env=False,
        )
        self._named: set[str] = set()
        self._dead: list[tuple[socket.socket, BaileysWhatsAppGateway]] = []

    async def aclose(self) -> None:
        assert isinstance(self.gateway, BaileysWhatsAppGateway)
        await self.gateway.aclose()
        await self.control.aclose()
        for holder, gateway in self._dead:
            await gateway.aclose()
            holder.close()

    async def fake(self, path: str, body: dict[str, Any] | None = None) -> Any:
        response = await self.control.post(f"/_fake{path}", json=body or {})
        assert response.status_code == 200, response.text
        return response.json()

    async def state_is(self, session_id: str, *states: WaState) -> bool:
        session = await self.gateway.get_session(session_id)
        return session is not None and session.state in states

    async def link(self, session_id: str, phone: str) -> None:
        await self.gateway.start_session(session_id)
        await eventually(lambda: self.state_is(session_id, WaState.QR), f"{session_id} QR")
        await self.fake(f"/sessions/{session_id}/scan", {"phone": phone})
        await eventually(lambda: self.state_is(session_id, WaState.OPEN), f"{session_id} open")

    async def drop(self, session_id: str) -> None:
        await self.fake(f"/sessions/{session_id}/drop", {"status_code": 440})
        await eventually(lambda: self.state_is(session_id, WaState.CLOSED), f"{session_id} closed")

    async def on_whatsapp(self, *phones: str) -> None:
        for phone in phones:
            digits = phone.removeprefix("+")
            self._named.add(digits)
            await self.fake("/numbers", {"phone": phone})
            await self._remove_twins(digits)

    async def not_on_whatsapp(self, *phones: str) -> None:
        for phone in phones:
            digits = phone.removeprefix("+")
            self._named.discard(digits)
            await self.fake("/numbers", {"phone": phone, "exists": False})
            await self._remove_twins(digits)

    async def _remove_twins(self, digits: str) -> None:
        """Everyone exists by default: the 9th-digit twin exists only if named."""
        for twin in phone_variants(digits)[1:]:
            if twin not in self._named:
                await self.fake("/numbers", {"phone": twin, "exists": False})

    async def fail_sends(self, n: int) -> None:
        await self.fake("/fail-sends", {"count": n})

    async def sent(self) -> list[Sent]:
        response = await self.control.get("/_fake/sent")
        assert response.status_code == 200, response.text
        return [Sent(m["session_id"], m["to"], m["text"], m["message_id"]) for m in response.json()]

    async def presences(self) -> list[Shown]:
        response = await self.control.get("/_fake/presence")
        assert response.status_code == 200, response.text
        return [Shown(p["session_id"], p["to"], Presence(p["state"])) for p in response.json()]

    def unavailable(self) -> WhatsAppGateway:
        holder = refusing_port()
        url = f"http://127.0.0.1:{holder.getsockname()[1]}"
        gateway = BaileysWhatsAppGateway(url, self.sidecar.token)
        self._dead.append((holder, gateway))
        return gateway


class SidecarSupply:
    """Boots sidecars ahead of need: node takes most of a second to start, a test a few
    milliseconds to run, so the next ones start in the background while this one runs."""

    SPARES = 2

    def __init__(self, root: Path) -> None:
        self._root = root
        self._booted = itertools.count(1)
        self._pool = ThreadPoolExecutor(max_workers=self.SPARES, thread_name_prefix="sidecar")
        self._spares: deque[Future[SidecarProcess]] = deque()

    def take(self) -> SidecarProcess:
        first = self._spares.popleft() if self._spares else self._boot()
        while len(self._spares) < self.SPARES:
            self._spares.append(self._boot())
        return first.result()

    def close(self) -> None:
        while self._spares:
            spare = self._spares.popleft()
            with contextlib.suppress(Exception):
                spare.result().stop()
        self._pool.shutdown()

    def _boot(self) -> Future[SidecarProcess]:
        state_dir = self._root / f"sidecar-{next(self._booted)}"
        return self._pool.submit(SidecarProcess.start, state_dir=state_dir)


@pytest.fixture(scope="module")
def sidecar_supply(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SidecarSupply]:
    supply = SidecarSupply(tmp_path_factory.mktemp("sidecars"))
    try:
        yield supply
    finally:
        supply.close()


@pytest.fixture
def sidecar(sidecar_supply: SidecarSupply) -> Iterator[SidecarProcess]:
    """A fresh real sidecar (``SIDECAR_FAKE=1``) for this test alone, state on disk.

    Synchronous so the ``harness`` fixture can ask for it by name (pytest-asyncio cannot
    hand an async fixture to ``getfixturevalue``)."""
    with sidecar_supply.take() as process:
        yield process


@pytest.fixture(params=HARNESSES)
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[WhatsAppHarness]:
    if request.param == "memory":
        yield MemoryHarness()
        return
    if request.param == "sidecar":
        sidecar_harness = SidecarHarness(request.getfixturevalue("sidecar"))
        try:
            yield sidecar_harness
        finally:
            await sidecar_harness.aclose()
        return
    raise AssertionError(f"no harness {request.param}")


@pytest.fixture
async def linked(harness: WhatsAppHarness) -> WhatsAppHarness:
    """Session ``acc-1`` open on the seller's phone; Ana is on WhatsApp."""
    await harness.link("acc-1", SELLER)
    await harness.on_whatsapp(ANA)
    return harness


# -- sessions ---------------------------------------------------------------------------


async def test_unknown_session_is_none(harness: WhatsAppHarness) -> None:
    assert await harness.gateway.get_session("acc-404") is None


async def test_a_new_session_waits_for_its_qr(harness: WhatsAppHarness) -> None:
    started = await harness.gateway.start_session("acc-1")
    assert started.id == "acc-1"
    assert started.state in (WaState.CONNECTING, WaState.QR)
    assert started.phone is None
    again = await harness.gateway.start_session("acc-1")  # a second tap changes nothing
    assert again.state in (WaState.CONNECTING, WaState.QR)
    seen = await harness.gateway.get_session("acc-1")
    assert seen is not None
    assert seen.id == "acc-1"
    if seen.state is WaState.QR:
        assert seen.qr


async def test_scanning_opens_the_session_with_the_phone(harness: WhatsAppHarness) -> None:
    await harness.link("acc-1", SELLER)
    session = await harness.gateway.get_session("acc-1")
    assert session is not None
    assert session.state is WaState.OPEN
    assert session.is_open
    assert session.phone == SELLER
    assert session.qr is None


async def test_start_on_an_open_session_keeps_it_open(harness: WhatsAppHarness) -> None:
    await harness.link("acc-1", SELLER)
    session = await harness.gateway.start_session("acc-1")
    assert session.state is WaState.OPEN
    assert session.phone == SELLER


async def test_a_dropped_session_resumes_without_a_qr(harness: WhatsAppHarness) -> None:
    await harness.link("acc-1", SELLER)
    await harness.drop("acc-1")
    dropped = await harness.gateway.get_session("acc-1")
    assert dropped is not None
    assert dropped.state is not WaState.OPEN
    resumed = await harness.gateway.start_session("acc-1")
    assert resumed.state in (WaState.CONNECTING, WaState.OPEN)
    assert resumed.qr is None


async def test_logout_forgets_the_session(harness: WhatsAppHarness) -> None:
    await harness.link("acc-1", SELLER)
    await harness.gateway.logout("acc-1")
    assert await harness.gateway.get_session("acc-1") is None
    await harness.gateway.logout("acc-1")  # again: not an error
    await harness.gateway.logout("acc-never")
    fresh = await harness.gateway.start_session("acc-1")
    assert fresh.state in (WaState.CONNECTING, WaState.QR)  # linking needs a new QR


async def test_sessions_are_separate(harness: WhatsAppHarness) -> None:
    await harness.link("acc-1", SELLER)
    await harness.gateway.start_session("acc-2")
    other = await harness.gateway.get_session("acc-2")
    assert other is not None
    assert other.state is not WaState.OPEN


@pytest.mark.parametrize("bad", ["", "acc 1", "acc/1", "a" * 65, "acc-ç"])
async def test_invalid_session_ids_are_refused(harness: WhatsAppHarness, bad: str) -> None:
    with pytest.raises(WhatsAppRequestError):
        await harness.gateway.start_session(bad)
    with pytest.raises(WhatsAppRequestError):
        await harness.gateway.send_text(bad, ANA, "oi", "k1")
    with pytest.raises(WhatsAppRequestError):
        await harness.gateway.send_presence(bad, ANA, Presence.COMPOSING)


# -- sending ----------------------------------------------------------------------------


async def test_send_to_a_phone_reaches_its_jid(linked: WhatsAppHarness) -> None:
    message_id = await linked.gateway.send_text("acc-1", ANA, "Olá Ana", "reminder-1")
    assert isinstance(message_id, str)
    assert message_id
    assert await linked.sent() == [Sent("acc-1", ANA_JID, "Olá Ana", message_id)]


async def test_the_same_key_sends_once(linked: WhatsAppHarness) -> None:
    first = await linked.gateway.send_text("acc-1", ANA, "Olá", "reminder-1")
    again = await linked.gateway.send_text("acc-1", ANA, "Olá", "reminder-1")
    other = await linked.gateway.send_text("acc-1", ANA, "Olá", "reminder-2")
    assert again == first
    assert other != first
    assert [s.message_id for s in await linked.sent()] == [first, other]


async def test_concurrent_sends_with_one_key_send_once(linked: WhatsAppHarness) -> None:
    ids = await asyncio.gather(
        *(linked.gateway.send_text("acc-1", ANA, "Olá", "reminder-1") for _ in range(3))
    )
    assert len(set(ids)) == 1
    assert len(await linked.sent()) == 1


async def test_a_repeat_answers_even_while_the_session_is_down(linked: WhatsAppHarness) -> None:
    first = await linked.gateway.send_text("acc-1", ANA, "Olá", "reminder-1")
    await linked.drop("acc-1")
    assert await linked.gateway.send_text("acc-1", ANA, "Olá", "reminder-1") == first
    with pytest.raises(WhatsAppSessionNotOpenError):
        await linked.gateway.send_text("acc-1", ANA, "Olá", "reminder-2")
    assert len(await linked.sent()) == 1


async def test_sending_needs_an_open_session(harness: WhatsAppHarness) -> None:
    await harness.on_whatsapp(ANA)
    with pytest.raises(WhatsAppSessionNotOpenError):
        await harness.gateway.send_text("acc-404", ANA, "Olá", "k1")
    await harness.gateway.start_session("acc-1")
    with pytest.raises(WhatsAppSessionNotOpenError) as caught:
        await harness.gateway.send_text("acc-1", ANA, "Olá", "k1")
    assert caught.value.session_id == "acc-1"
    assert await harness.sent() == []


async def test_a_phone_nobody_uses_is_not_on_whatsapp(linked: WhatsAppHarness) -> None:
    await linked.not_on_whatsapp("+5511977776666")
    with pytest.raises(NotOnWhatsAppError) as caught:
        await linked.gateway.send_text("acc-1", "+5511977776666", "Olá", "k1")
    assert caught.value.phone == "+5511977776666"
    assert await linked.sent() == []


async def test_a_jid_is_used_as_is(linked: WhatsAppHarness) -> None:
    lid = "123456789012345@lid"
    await linked.gateway.send_text("acc-1", lid, "Olá", "k1")
    await linked.gateway.send_text("acc-1", ANA_JID, "Olá", "k2")
    assert [s.to for s in await linked.sent()] == [lid, ANA_JID]


async def test_send_reaches_an_old_account_without_the_ninth_digit(
    linked: WhatsAppHarness,
) -> None:
    await linked.on_whatsapp("+551187776666")
    await linked.not_on_whatsapp("+5511987776666")
    await linked.gateway.send_text("acc-1", "+5511987776666", "Olá", "k1")
    assert [s.to for s in await linked.sent()] == ["551187776666@s.whatsapp.net"]


async def test_a_refused_send_can_be_retried_with_the_same_key(linked: WhatsAppHarness) -> None:
    await linked.fail_sends(1)
    with pytest.raises(WhatsAppSendError):
        await linked.gateway.send_text("acc-1", ANA, "Olá", "k1")
    assert await linked.sent() == []
    message_id = await linked.gateway.send_text("acc-1", ANA, "Olá", "k1")
    assert [s.message_id for s in await linked.sent()] == [message_id]


@pytest.mark.parametrize(
    ("to", "text", "key"),
    [
        (ANA, "", "k1"),
        (ANA, "x" * 4097, "k1"),
        (ANA, "Olá", ""),
        (ANA, "Olá", "k" * 201),
        ("not a phone", "Olá", "k1"),
        ("123@g.us", "Olá", "k1"),  # a group, not a person
    ],
)
async def test_malformed_sends_are_refused(
    linked: WhatsAppHarness, to: str, text: str, key: str
) -> None:
    with pytest.raises(WhatsAppRequestError):
        await linked.gateway.send_text("acc-1", to, text, key)
    assert await linked.sent() == []


async def test_the_longest_text_goes_out(linked: WhatsAppHarness) -> None:
    await linked.gateway.send_text("acc-1", ANA, "x" * 4096, "k1")
    assert len(await linked.sent()) == 1


# -- presence ("digitando…") ------------------------------------------------------------


async def test_presence_is_shown_to_the_phones_jid_and_sends_nothing(
    linked: WhatsAppHarness,
) -> None:
    await linked.gateway.send_presence("acc-1", ANA, Presence.COMPOSING)
    await linked.gateway.send_presence("acc-1", ANA, Presence.PAUSED)
    assert await linked.presences() == [
        Shown("acc-1", ANA_JID, Presence.COMPOSING),
        Shown("acc-1", ANA_JID, Presence.PAUSED),
    ]
    assert await linked.sent() == []


async def test_presence_reaches_an_old_account_and_a_jid_as_is(linked: WhatsAppHarness) -> None:
    await linked.on_whatsapp("+551187776666")
    await linked.not_on_whatsapp("+5511987776666")
    await linked.gateway.send_presence("acc-1", "+5511987776666", Presence.COMPOSING)
    await linked.gateway.send_presence("acc-1", "123456789012345@lid", Presence.COMPOSING)
    assert [s.to for s in await linked.presences()] == [
        "551187776666@s.whatsapp.net",
        "123456789012345@lid",
    ]


async def test_presence_needs_an_open_session(harness: WhatsAppHarness) -> None:
    await harness.on_whatsapp(ANA)
    with pytest.raises(WhatsAppSessionNotOpenError):
        await harness.gateway.send_presence("acc-404", ANA, Presence.COMPOSING)
    await harness.gateway.start_session("acc-1")
    with pytest.raises(WhatsAppSessionNotOpenError) as caught:
        await harness.gateway.send_presence("acc-1", ANA, Presence.COMPOSING)
    assert caught.value.session_id == "acc-1"
    assert await harness.presences() == []


async def test_presence_to_a_phone_nobody_uses_is_not_on_whatsapp(
    linked: WhatsAppHarness,
) -> None:
    await linked.not_on_whatsapp("+5511977776666")
    with pytest.raises(NotOnWhatsAppError) as caught:
        await linked.gateway.send_presence("acc-1", "+5511977776666", Presence.COMPOSING)
    assert caught.value.phone == "+5511977776666"
    assert await linked.presences() == []


@pytest.mark.parametrize(
    ("to", "presence"),
    [("not a phone", "composing"), ("123@g.us", "composing"), (ANA, "recording")],
)
async def test_malformed_presences_are_refused(
    linked: WhatsAppHarness, to: str, presence: str
) -> None:
    with pytest.raises(WhatsAppRequestError):
        await linked.gateway.send_presence("acc-1", to, presence)  # type: ignore[arg-type]
    assert await linked.presences() == []


# -- lookups ----------------------------------------------------------------------------


async def test_lookup_answers_in_the_order_asked(linked: WhatsAppHarness) -> None:
    await linked.not_on_whatsapp("+5511977776666")
    found = await linked.gateway.lookup("acc-1", ["+5511977776666", ANA])
    assert [f.phone for f in found] == ["+5511977776666", ANA]
    assert found[0] == WaLookup("+5511977776666", False, None, None)
    assert found[1].exists
    assert found[1].jid == ANA_JID


async def test_lookup_of_nothing_is_nothing(linked: WhatsAppHarness) -> None:
    assert await linked.gateway.lookup("acc-1", []) == []


async def test_lookup_with_the_ninth_digit_finds_an_old_account(linked: WhatsAppHarness) -> None:
    await linked.on_whatsapp("+551187776666")
    await linked.not_on_whatsapp("+5511987776666")
    [found] = await linked.gateway.lookup("acc-1", ["+5511987776666"])
    assert found.exists
    assert found.jid == "551187776666@s.whatsapp.net"


async def test_lookup_without_the_ninth_digit_finds_a_new_account(
    linked: WhatsAppHarness,
) -> None:
    [found] = await linked.gateway.lookup("acc-1", ["+551188887777"])
    assert found.exists
    assert found.phone == "+551188887777"
    assert found.jid == ANA_JID


async def test_a_landline_gets_no_ninth_digit(linked: WhatsAppHarness) -> None:
    await linked.on_whatsapp("+5511933334444")
    await linked.not_on_whatsapp("+551133334444")
    [found] = await linked.gateway.lookup("acc-1", ["+551133334444"])
    assert not found.exists


async def test_lookup_needs_an_open_session(harness: WhatsAppHarness) -> None:
    with pytest.raises(WhatsAppSessionNotOpenError):
        await harness.gateway.lookup("acc-404", [ANA])
    await harness.gateway.start_session("acc-1")
    with pytest.raises(WhatsAppSessionNotOpenError):
        await harness.gateway.lookup("acc-1", [ANA])


async def test_lookup_refuses_what_is_not_a_phone(linked: WhatsAppHarness) -> None:
    with pytest.raises(WhatsAppRequestError):
        await linked.gateway.lookup("acc-1", ["call me"])


# -- an unreachable sidecar -------------------------------------------------------------


async def test_an_unreachable_sidecar_is_unavailable(harness: WhatsAppHarness) -> None:
    gateway = harness.unavailable()
    with pytest.raises(WhatsAppUnavailableError):
        await gateway.start_session("acc-1")
    with pytest.raises(WhatsAppUnavailableError):
        await gateway.get_session("acc-1")
    with pytest.raises(WhatsAppUnavailableError):
        await gateway.logout("acc-1")
    with pytest.raises(WhatsAppUnavailableError):
        await gateway.send_text("acc-1", ANA, "Olá", "k1")
    with pytest.raises(WhatsAppUnavailableError):
        await gateway.send_presence("acc-1", ANA, Presence.COMPOSING)
    with pytest.raises(WhatsAppUnavailableError):
        await gateway.lookup("acc-1", [ANA])


async def test_unavailable_is_a_connection_error(harness: WhatsAppHarness) -> None:
    with pytest.raises(ConnectionError):
        await harness.unavailable().get_session("acc-1")


# -- the fake's own controls (the playground drives them) -------------------------------


async def test_fake_qr_rotates_and_gives_up_after_max_codes() -> None:
    fake = InMemoryWhatsAppGateway(max_qr=3)
    first = (await fake.start_session("acc-1")).qr
    second = fake.rotate_qr("acc-1")
    assert second is not None
    assert second != first
    assert fake.rotate_qr("acc-1") is not None
    assert fake.rotate_qr("acc-1") is None
    session = await fake.get_session("acc-1")
    assert session is not None
    assert (session.state, session.reason, session.qr) == (WaState.CLOSED, "qr_timeout", None)
    restarted = await fake.start_session("acc-1")
    assert restarted.state is WaState.QR
    assert restarted.qr not in (first, second)


async def test_fake_log_out_from_the_phone_needs_a_new_qr() -> None:
    fake = InMemoryWhatsAppGateway()
    await fake.start_session("acc-1")
    fake.scan("acc-1", SELLER, lid="999@lid")
    assert (await fake.get_session("acc-1")).lid == "999@lid"  # type: ignore[union-attr]
    fake.log_out("acc-1")
    session = await fake.get_session("acc-1")
    assert session is not None
    assert (session.state, session.phone, session.reason) == (
        WaState.LOGGED_OUT,
        None,
        "logged_out",
    )
    assert (await fake.start_session("acc-1")).state is WaState.QR


async def test_fake_scan_needs_a_qr_on_screen() -> None:
    fake = InMemoryWhatsAppGateway()
    with pytest.raises(ValueError, match="QR"):
        fake.scan("acc-1", SELLER)


async def test_fake_set_on_whatsapp_replaces_the_numbers_and_keeps_lids() -> None:
    fake = InMemoryWhatsAppGateway()
    await fake.start_session("acc-1")
    fake.scan("acc-1", SELLER)
    fake.add_number("+5511977776666", lid="42@lid")
    [found] = await fake.lookup("acc-1", ["+5511977776666"])
    assert found.lid == "42@lid"
    fake.set_on_whatsapp([ANA])
    found_ana, gone = await fake.lookup("acc-1", [ANA, "+5511977776666"])
    assert found_ana.exists
    assert not gone.exists


async def test_fake_everyone_on_whatsapp_unless_removed() -> None:
    fake = InMemoryWhatsAppGateway(everyone_on_whatsapp=True)
    await fake.start_session("acc-1")
    fake.scan("acc-1", SELLER)
    fake.remove_number("+5511977776666")
    found, gone = await fake.lookup("acc-1", [ANA, "+5511977776666"])
    assert found.jid == ANA_JID
    assert not gone.exists


async def test_fake_timeline_shows_typing_before_the_send() -> None:
    fake = InMemoryWhatsAppGateway(everyone_on_whatsapp=True)
    await fake.start_session("acc-1")
    fake.scan("acc-1", SELLER)
    await fake.send_presence("acc-1", ANA, Presence.COMPOSING)
    await fake.send_text("acc-1", ANA, "Olá", "k1")
    [typing] = fake.presences
    [sent] = fake.sent
    assert fake.timeline == [typing, sent]
    assert typing.presence is Presence.COMPOSING


async def test_fake_fail_next_with_a_chosen_error() -> None:
    fake = InMemoryWhatsAppGateway(everyone_on_whatsapp=True)
    await fake.start_session("acc-1")
    fake.scan("acc-1", SELLER)
    fake.fail_next(2, WhatsAppUnavailableError())
    for key in ("k1", "k2"):
        with pytest.raises(WhatsAppUnavailableError):
            await fake.send_text("acc-1", ANA, "Olá", key)
    await fake.send_text("acc-1", ANA, "Olá", "k3")
    assert [m.idempotency_key for m in fake.sent_to(ANA_JID)] == ["k3"]


# -- only the real sidecar process can show these ---------------------------------------


class ManualClock:
    """Seconds for ``SidecarBreaker``, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingTransport(httpx.AsyncHTTPTransport):
    """The real network, counting the requests that reached it."""

    def __init__(self) -> None:
        super().__init__()
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        return await super().handle_async_request(request)


@pytest.fixture
async def real(sidecar: SidecarProcess) -> AsyncIterator[SidecarHarness]:
    """The sidecar harness alone, for what the in-memory fake has no notion of."""
    sidecar_harness = SidecarHarness(sidecar)
    try:
        yield sidecar_harness
    finally:
        await sidecar_harness.aclose()


def request_ids(sidecar: SidecarProcess, path: str) -> list[str]:
    return [
        str(record["req_id"])
        for record in sidecar.log_records()
        if record.get("msg") == "request" and record.get("path") == path and "req_id" in record
    ]


async def test_the_correlation_id_reaches_the_sidecar_log(real: SidecarHarness) -> None:
    token = correlation_id.set("corr-4f2a9c1e")
    try:
        await real.gateway.get_session("acc-7")
    finally:
        correlation_id.reset(token)
    await real.gateway.get_session("acc-8")  # no correlation id: a fresh one is made up

    async def logged() -> bool:
        return bool(request_ids(real.sidecar, "/sessions/acc-8"))

    await eventually(logged, "the sidecar's request log lines")
    assert request_ids(real.sidecar, "/sessions/acc-7") == ["corr-4f2a9c1e"]
    [made_up] = request_ids(real.sidecar, "/sessions/acc-8")
    assert len(made_up) == 16
    assert made_up != "corr-4f2a9c1e"


async def test_breaker_opens_while_the_sidecar_is_down_and_nothing_is_lost(
    real: SidecarHarness,
) -> None:
    clock = ManualClock()
    network = CountingTransport()
    breaker = SidecarBreaker(fail_max=2, reset_timeout=30, clock=clock)
    gateway = BaileysWhatsAppGateway(
        real.sidecar.url, real.sidecar.token, breaker=breaker, transport=network
    )
    async with gateway:
        await real.link("acc-1", SELLER)
        first = await gateway.send_text("acc-1", ANA, "Olá", "reminder-1")

        await real.sidecar.astop()  # the state directory is the test's: it stays
        for _ in range(2):
            with pytest.raises(WhatsAppUnavailableError):
                await gateway.send_text("acc-1", ANA, "Olá", "reminder-2")
        assert gateway.breaker_state is BreakerState.OPEN
        reached = network.requests
        with pytest.raises(WhatsAppUnavailableError, match="breaker open"):
            await gateway.send_text("acc-1", ANA, "Olá", "reminder-2")
        assert network.requests == reached  # refused without touching the network

        await real.sidecar.arestart()  # same port, same state: the phone is still linked
        with pytest.raises(WhatsAppUnavailableError):  # still waiting out reset_timeout
            await gateway.get_session("acc-1")
        clock.now += 30
        resumed = await gateway.get_session("acc-1")  # the trial call
        assert resumed is not None
        assert resumed.qr is None
        assert gateway.breaker_state is BreakerState.CLOSED
        await eventually(lambda: real.state_is("acc-1", WaState.OPEN), "acc-1 resumed without a QR")
        assert await gateway.send_text("acc-1", ANA, "Olá", "reminder-1") == first
        second = await gateway.send_text("acc-1", ANA, "Olá", "reminder-2")
        assert [s.message_id for s in await real.sent()] == [second]  # after the restart


async def test_a_hung_sidecar_times_out_as_unavailable(real: SidecarHarness) -> None:
    timeout = httpx.Timeout(connect=1.0, read=0.3, write=1.0, pool=1.0)
    async with BaileysWhatsAppGateway(real.sidecar.url, real.sidecar.token, timeout=timeout) as g:
        await g.get_session("acc-1")  # a pooled connection, so only the read can hang
        real.sidecar.pause()
        try:
            with pytest.raises(WhatsAppUnavailableError, match="in time"):
                await g.get_session("acc-1")
        finally:
            real.sidecar.resume()
        assert g.breaker.fail_counter == 1
        assert await g.get_session("acc-1") is None
        assert g.breaker.fail_counter == 0


async def test_a_wrong_token_is_a_config_error(real: SidecarHarness) -> None:
    async with BaileysWhatsAppGateway(real.sidecar.url, "not-the-token") as gateway:
        for _ in range(gateway.breaker.fail_max + 1):
            with pytest.raises(ConfigError, match="SIDECAR_TOKEN differs"):
                await gateway.get_session("acc-1")
        assert gateway.breaker_state is BreakerState.CLOSED  # not the sidecar's fault


async def test_unlinked_from_the_phone_is_logged_out(real: SidecarHarness) -> None:
    await real.link("acc-1", SELLER)
    await real.fake("/sessions/acc-1/logout")
    await eventually(lambda: real.state_is("acc-1", WaState.LOGGED_OUT), "logged_out")
    session = await real.gateway.get_session("acc-1")
    assert session is not None
    assert (session.phone, session.reason, session.qr) == (None, "logged_out", None)
    with pytest.raises(WhatsAppSessionNotOpenError) as caught:
        await real.gateway.send_text("acc-1", ANA, "Olá", "k1")
    assert caught.value.state == "logged_out"
    again = await real.gateway.start_session("acc-1")
    assert again.state in (WaState.CONNECTING, WaState.QR)


async def test_the_qr_rotates(real: SidecarHarness) -> None:
    await real.gateway.start_session("acc-1")
    await eventually(lambda: real.state_is("acc-1", WaState.QR), "a QR")
    first = await real.gateway.get_session("acc-1")
    await real.fake("/sessions/acc-1/qr")

    async def rotated() -> bool:
        session = await real.gateway.get_session("acc-1")
        return session is not None and session.qr not in (None, first.qr if first else None)

    await eventually(rotated, "a new QR")


# -- the sidecar process helper ---------------------------------------------------------


def test_a_sidecar_that_cannot_start_says_why(tmp_path: Path) -> None:
    with pytest.raises(SidecarStartError, match="SIDECAR_TOKEN must not contain spaces"):
        SidecarProcess.start(token="two words", state_dir=tmp_path)
    with pytest.raises(SidecarStartError, match="npm ci"):
        SidecarProcess.start(sidecar_dir=tmp_path)


async def test_events_reach_the_events_url_signed() -> None:
    received: list[tuple[bytes, str]] = []

    class Events(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["X-Signature"]))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Events)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    events_url = f"http://127.0.0.1:{server.server_address[1]}/whatsapp/events"
    try:
        with SidecarProcess.start(events_url=events_url, events_secret="shh") as process:
            harness = SidecarHarness(process)
            try:
                await harness.link("acc-1", SELLER)

                async def opened() -> bool:
                    return any(b'"state":"open"' in body for body, _ in received)

                await eventually(opened, "the open state event")
            finally:
                await harness.aclose()
    finally:
        server.shutdown()
        server.server_close()
    for body, signature in received:
        expected = hmac.new(b"shh", body, hashlib.sha256).hexdigest()
        assert signature == f"sha256={expected}"
    types = [json.loads(body)["type"] for body, _ in received]
    assert "qr" in types
    assert "state" in types

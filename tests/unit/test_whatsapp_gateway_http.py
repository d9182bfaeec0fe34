"""BaileysWhatsAppGateway without a sidecar: the requests it makes, how every answer maps onto
the port's errors, and the circuit breaker (on a clock moved by hand), over httpx.MockTransport.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from clientmgr.adapters.whatsapp import (
    DEFAULT_SIDECAR_URL,
    BaileysWhatsAppGateway,
    BreakerState,
    SidecarBreaker,
)
from clientmgr.adapters.whatsapp.gateway import MAX_LOOKUP_PHONES
from clientmgr.config import Settings
from clientmgr.core.correlation import correlation_id
from clientmgr.errors import (
    ConfigError,
    NotOnWhatsAppError,
    WhatsAppError,
    WhatsAppRequestError,
    WhatsAppSendError,
    WhatsAppSessionNotOpenError,
    WhatsAppUnavailableError,
)
from clientmgr.ports.whatsapp import Presence, WaLookup, WaSession, WaState

ANA = "+5511988887777"
SESSION = {
    "id": "acc-1",
    "state": "open",
    "qr": None,
    "phone": "5521977776666",
    "lid": "99887766@lid",
    "reason": None,
    "qr_attempts": 0,
    "max_qr_attempts": 5,
    "updated_at": "2026-03-04T13:00:00.000Z",
}


class ManualClock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now


class Sidecar:
    """A scripted sidecar: answers from ``reply`` and remembers every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.reply: Callable[[httpx.Request], httpx.Response] = lambda request: httpx.Response(
            200, json=SESSION
        )

    def answer(self, status: int, body: Any = None, **kwargs: Any) -> None:
        self.reply = lambda request: httpx.Response(status, json=body, **kwargs)

    def error(self, status: int, code: str, reason: str = "because") -> None:
        self.answer(status, {"error": code, "reason": reason})

    def fail(self, error: Exception) -> None:
        def raise_it(request: httpx.Request) -> httpx.Response:
            raise error

        self.reply = raise_it

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.reply(request)

    @property
    def last(self) -> httpx.Request:
        return self.requests[-1]


@pytest.fixture
def sidecar() -> Sidecar:
    return Sidecar()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def gateway(sidecar: Sidecar, clock: ManualClock) -> AsyncIterator[BaileysWhatsAppGateway]:
    breaker = SidecarBreaker(fail_max=3, reset_timeout=10, clock=clock)
    async with BaileysWhatsAppGateway(
        "http://sidecar.test:3000/",
        "s3cret",
        breaker=breaker,
        transport=httpx.MockTransport(sidecar.handle),
    ) as gateway:
        yield gateway


# -- requests ---------------------------------------------------------------------------


async def test_each_port_call_is_one_request(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    await gateway.start_session("acc-1")
    await gateway.get_session("acc-1")
    await gateway.logout("acc-1")
    sidecar.answer(200, {"message_id": "3EB0AA", "to": "x", "duplicate": False})
    await gateway.send_text("acc-1", ANA, "Olá", "k1")
    sidecar.answer(200, [{"phone": ANA, "exists": False, "jid": None, "lid": None}])
    await gateway.lookup("acc-1", [ANA])
    assert [(r.method, str(r.url)) for r in sidecar.requests] == [
        ("POST", "http://sidecar.test:3000/sessions/acc-1"),
        ("GET", "http://sidecar.test:3000/sessions/acc-1"),
        ("DELETE", "http://sidecar.test:3000/sessions/acc-1"),
        ("POST", "http://sidecar.test:3000/sessions/acc-1/messages"),
        ("POST", "http://sidecar.test:3000/sessions/acc-1/lookup"),
    ]
    assert json.loads(sidecar.requests[3].content) == {
        "to": ANA,
        "text": "Olá",
        "idempotency_key": "k1",
    }
    assert json.loads(sidecar.requests[4].content) == {"phones": [ANA]}
    assert all(r.headers["authorization"] == "Bearer s3cret" for r in sidecar.requests)


async def test_the_correlation_id_goes_along(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    token = correlation_id.set("abc123def4567890")
    try:
        await gateway.get_session("acc-1")
    finally:
        correlation_id.reset(token)
    assert sidecar.last.headers["x-request-id"] == "abc123def4567890"


async def test_without_a_correlation_id_each_request_gets_a_new_one(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar
):
    await gateway.get_session("acc-1")
    await gateway.get_session("acc-1")
    first, second = (r.headers["x-request-id"] for r in sidecar.requests)
    assert len(first) == 16
    assert first != second
    assert correlation_id.get() is None  # the caller's context is left alone


@pytest.mark.parametrize("bad", ["", "acc 1", "acc/1", "../health", "a" * 65, "acc-ç"])
async def test_invalid_session_ids_never_reach_the_sidecar(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar, bad: str
):
    for call in (
        gateway.start_session(bad),
        gateway.get_session(bad),
        gateway.logout(bad),
        gateway.send_text(bad, ANA, "Olá", "k1"),
        gateway.send_presence(bad, ANA, Presence.COMPOSING),
        gateway.lookup(bad, [ANA]),
    ):
        with pytest.raises(WhatsAppRequestError):
            await call
    assert sidecar.requests == []


async def test_lookup_of_nothing_asks_nothing(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    assert await gateway.lookup("acc-1", []) == []
    assert sidecar.requests == []


async def test_long_lookups_are_split(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    def reply(request: httpx.Request) -> httpx.Response:
        phones = json.loads(request.content)["phones"]
        return httpx.Response(
            200,
            json=[{"phone": p, "exists": True, "jid": f"{p[1:]}@s.whatsapp.net"} for p in phones],
        )

    sidecar.reply = reply
    phones = [f"+55119{n:08d}" for n in range(MAX_LOOKUP_PHONES * 2 + 1)]
    found = await gateway.lookup("acc-1", phones)
    assert [f.phone for f in found] == phones
    assert [len(json.loads(r.content)["phones"]) for r in sidecar.requests] == [50, 50, 1]


# -- answers ----------------------------------------------------------------------------


async def test_a_session_comes_back_in_e164(gateway: BaileysWhatsAppGateway):
    assert await gateway.get_session("acc-1") == WaSession(
        "acc-1", WaState.OPEN, None, "+5521977776666", None, "99887766@lid"
    )


async def test_a_session_showing_a_qr(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    sidecar.answer(201, {**SESSION, "state": "qr", "qr": "2@abc", "phone": None, "lid": None})
    assert await gateway.start_session("acc-1") == WaSession("acc-1", WaState.QR, "2@abc")


async def test_send_answers_the_message_id(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    sidecar.answer(200, {"message_id": "3EB0F00D", "to": "x", "duplicate": True})
    assert await gateway.send_text("acc-1", ANA, "Olá", "k1") == "3EB0F00D"


async def test_lookup_keeps_the_phones_as_asked(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    sidecar.answer(
        200,
        [
            {"phone": "551188887777", "exists": True, "jid": "5511988887777@s.whatsapp.net"},
            {"phone": "x", "exists": False, "jid": None, "lid": None},
        ],
    )
    assert await gateway.lookup("acc-1", ["+551188887777", "+5511977776666"]) == [
        WaLookup("+551188887777", True, "5511988887777@s.whatsapp.net", None),
        WaLookup("+5511977776666", False, None, None),
    ]


async def test_unknown_sessions(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    sidecar.error(404, "unknown_session")
    assert await gateway.get_session("acc-1") is None
    await gateway.logout("acc-1")  # nothing to log out: not an error
    with pytest.raises(WhatsAppSessionNotOpenError) as caught:
        await gateway.send_text("acc-1", ANA, "Olá", "k1")
    assert (caught.value.session_id, caught.value.state) == ("acc-1", None)
    with pytest.raises(WhatsAppSessionNotOpenError):
        await gateway.lookup("acc-1", [ANA])


async def test_a_session_not_open_says_its_state(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    sidecar.error(409, "session_not_open", "session acc-1 is qr, not open: link the phone first")
    with pytest.raises(WhatsAppSessionNotOpenError) as caught:
        await gateway.send_text("acc-1", ANA, "Olá", "k1")
    assert (caught.value.session_id, caught.value.state) == ("acc-1", "qr")
    sidecar.error(409, "session_not_open", "something else")
    with pytest.raises(WhatsAppSessionNotOpenError) as caught:
        await gateway.lookup("acc-1", [ANA])
    assert caught.value.state is None


async def test_not_on_whatsapp_names_the_phone(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    sidecar.error(422, "not_on_whatsapp", "5511977776666 is not on WhatsApp")
    with pytest.raises(NotOnWhatsAppError) as caught:
        await gateway.send_text("acc-1", "+5511977776666", "Olá", "k1")
    assert caught.value.phone == "+5511977776666"


async def test_a_refused_send(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    sidecar.error(502, "send_failed", "WhatsApp did not accept the message: timed out")
    with pytest.raises(WhatsAppSendError, match="timed out"):
        await gateway.send_text("acc-1", ANA, "Olá", "k1")


async def test_presence_is_one_request_with_the_state(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar
):
    sidecar.answer(200, {"to": "5511988887777@s.whatsapp.net", "state": "composing"})
    token = correlation_id.set("corr-typing-1")
    try:
        assert await gateway.send_presence("acc-1", ANA, Presence.COMPOSING) is None
    finally:
        correlation_id.reset(token)
    await gateway.send_presence("acc-1", "123456789012345@lid", Presence.PAUSED)
    assert [(r.method, r.url.path) for r in sidecar.requests] == [
        ("POST", "/sessions/acc-1/presence"),
        ("POST", "/sessions/acc-1/presence"),
    ]
    assert [json.loads(r.content) for r in sidecar.requests] == [
        {"to": ANA, "state": "composing"},
        {"to": "123456789012345@lid", "state": "paused"},
    ]
    assert sidecar.requests[0].headers["x-request-id"] == "corr-typing-1"
    assert sidecar.last.headers["authorization"] == "Bearer s3cret"


@pytest.mark.parametrize(
    ("status", "code", "reason", "error"),
    [
        (404, "unknown_session", "session acc-1 does not exist", WhatsAppSessionNotOpenError),
        (409, "session_not_open", "session acc-1 is qr, not open", WhatsAppSessionNotOpenError),
        (422, "not_on_whatsapp", "5511977776666 is not on WhatsApp", NotOnWhatsAppError),
        (400, "invalid_payload", '"state" must be "composing" or "paused"', WhatsAppRequestError),
        (502, "send_failed", "WhatsApp did not accept the presence update", WhatsAppSendError),
        (401, "unauthorized", "missing or wrong bearer token", ConfigError),
        (503, "internal_error", "down", WhatsAppUnavailableError),
    ],
)
async def test_presence_refusals_map_like_sends(
    gateway: BaileysWhatsAppGateway,
    sidecar: Sidecar,
    status: int,
    code: str,
    reason: str,
    error: type[Exception],
):
    sidecar.error(status, code, reason)
    with pytest.raises(error) as caught:
        await gateway.send_presence("acc-1", "+5511977776666", Presence.COMPOSING)
    if isinstance(caught.value, NotOnWhatsAppError):
        assert caught.value.phone == "+5511977776666"
    if isinstance(caught.value, WhatsAppSessionNotOpenError):
        assert caught.value.session_id == "acc-1"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (400, "invalid_payload"),
        (400, "invalid_session_id"),
        (404, "not_found"),
        (405, "method_not_allowed"),
        (413, "payload_too_large"),
        (422, "something_new"),
        (418, None),
    ],
)
async def test_other_refusals_are_request_errors(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar, status: int, code: str | None
):
    if code is None:
        sidecar.answer(status, text="I'm a teapot")
    else:
        sidecar.error(status, code)
    with pytest.raises(WhatsAppRequestError):
        await gateway.send_text("acc-1", ANA, "Olá", "k1")
    with pytest.raises(WhatsAppRequestError):
        await gateway.start_session("acc-1")


async def test_a_wrong_token_is_a_config_error(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    sidecar.error(401, "unauthorized")
    with pytest.raises(ConfigError, match="SIDECAR_TOKEN differs"):
        await gateway.get_session("acc-1")


@pytest.mark.parametrize(
    "reply",
    [
        {"status_code": 200, "text": "<html>hello</html>"},
        {"status_code": 200, "json": {"id": "acc-1", "state": "sleeping"}},
        {"status_code": 200, "json": ["not", "a", "session"]},
    ],
)
async def test_an_answer_that_is_not_the_sidecars(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar, reply: dict[str, Any]
):
    sidecar.reply = lambda request: httpx.Response(**reply)
    with pytest.raises(WhatsAppError, match="SIDECAR_URL"):
        await gateway.get_session("acc-1")


async def test_a_lookup_answer_of_the_wrong_length(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar
):
    sidecar.answer(200, [])
    with pytest.raises(WhatsAppError, match="1 items"):
        await gateway.lookup("acc-1", [ANA])


async def test_a_send_answer_without_an_id(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    sidecar.answer(200, {"duplicate": False})
    with pytest.raises(WhatsAppError, match="message_id"):
        await gateway.send_text("acc-1", ANA, "Olá", "k1")


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("slow"),
        httpx.ReadTimeout("slow"),
        httpx.WriteTimeout("slow"),
        httpx.PoolTimeout("busy"),
        httpx.RemoteProtocolError("server disconnected"),
        httpx.ReadError("reset"),
    ],
)
async def test_transport_failures_are_unavailable(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar, failure: Exception
):
    sidecar.fail(failure)
    with pytest.raises(WhatsAppUnavailableError) as caught:
        await gateway.send_text("acc-1", ANA, "Olá", "k1")
    assert isinstance(caught.value, ConnectionError)
    assert caught.value.__cause__ is failure


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"error": "internal_error", "reason": "unexpected error"}),
        (502, None),  # a proxy's Bad Gateway, not the sidecar's send_failed
        (503, None),
        (504, {"error": "gateway_timeout"}),
    ],
)
async def test_server_errors_are_unavailable(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar, status: int, body: Any
):
    sidecar.answer(status, body)
    with pytest.raises(WhatsAppUnavailableError):
        await gateway.get_session("acc-1")
    assert gateway.breaker.fail_counter == 1


# -- the circuit breaker ----------------------------------------------------------------


async def break_it(gateway: BaileysWhatsAppGateway, sidecar: Sidecar) -> None:
    sidecar.fail(httpx.ConnectError("refused"))
    for _ in range(gateway.breaker.fail_max):
        with pytest.raises(WhatsAppUnavailableError):
            await gateway.get_session("acc-1")


async def test_failures_in_a_row_open_it_and_then_the_network_is_left_alone(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar
):
    sidecar.fail(httpx.ConnectError("refused"))
    for expected in (1, 2):
        with pytest.raises(WhatsAppUnavailableError):
            await gateway.get_session("acc-1")
        assert gateway.breaker_state is BreakerState.CLOSED
        assert gateway.breaker.fail_counter == expected
    with pytest.raises(WhatsAppUnavailableError):
        await gateway.get_session("acc-1")
    assert gateway.breaker_state is BreakerState.OPEN
    assert len(sidecar.requests) == 3
    sidecar.reply = lambda request: httpx.Response(200, json=SESSION)  # it is back, unseen
    for call in (
        gateway.start_session("acc-1"),
        gateway.get_session("acc-1"),
        gateway.logout("acc-1"),
        gateway.send_text("acc-1", ANA, "Olá", "k1"),
        gateway.send_presence("acc-1", ANA, Presence.COMPOSING),
        gateway.lookup("acc-1", [ANA]),
    ):
        with pytest.raises(WhatsAppUnavailableError, match="breaker open"):
            await call
    assert len(sidecar.requests) == 3


async def test_an_answer_resets_the_count(gateway: BaileysWhatsAppGateway, sidecar: Sidecar):
    for _ in range(5):
        sidecar.fail(httpx.ConnectError("refused"))
        for _ in range(gateway.breaker.fail_max - 1):
            with pytest.raises(WhatsAppUnavailableError):
                await gateway.get_session("acc-1")
        sidecar.error(404, "unknown_session")
        assert await gateway.get_session("acc-1") is None
        assert gateway.breaker.fail_counter == 0
    assert gateway.breaker_state is BreakerState.CLOSED


@pytest.mark.parametrize(
    ("status", "code", "error"),
    [
        (400, "invalid_payload", WhatsAppRequestError),
        (401, "unauthorized", ConfigError),
        (404, "unknown_session", WhatsAppSessionNotOpenError),
        (409, "session_not_open", WhatsAppSessionNotOpenError),
        (413, "payload_too_large", WhatsAppRequestError),
        (422, "not_on_whatsapp", NotOnWhatsAppError),
        (502, "send_failed", WhatsAppSendError),
    ],
)
async def test_refusals_never_open_it(
    gateway: BaileysWhatsAppGateway,
    sidecar: Sidecar,
    status: int,
    code: str,
    error: type[Exception],
):
    sidecar.error(status, code)
    for _ in range(gateway.breaker.fail_max * 2):
        with pytest.raises(error):
            await gateway.send_text("acc-1", ANA, "Olá", "k1")
    assert gateway.breaker_state is BreakerState.CLOSED
    assert gateway.breaker.fail_counter == 0
    assert len(sidecar.requests) == gateway.breaker.fail_max * 2


async def test_open_then_half_open_then_closed(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar, clock: ManualClock
):
    seen: list[BreakerState] = []
    gateway.breaker.on_change(seen.append)
    await break_it(gateway, sidecar)
    assert gateway.breaker.retry_in() == 10
    clock.now += 9.9
    with pytest.raises(WhatsAppUnavailableError, match="breaker open"):
        await gateway.get_session("acc-1")
    assert gateway.breaker.retry_in() == pytest.approx(0.1)
    clock.now += 0.1
    sidecar.answer(200, SESSION)
    assert await gateway.get_session("acc-1") is not None  # the trial call
    assert seen == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]
    assert gateway.breaker_state is BreakerState.CLOSED
    assert gateway.breaker.retry_in() == 0


async def test_a_failed_trial_opens_it_again_for_a_full_timeout(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar, clock: ManualClock
):
    await break_it(gateway, sidecar)
    clock.now += 10
    with pytest.raises(WhatsAppUnavailableError, match="refused"):  # the trial, still down
        await gateway.get_session("acc-1")
    assert gateway.breaker_state is BreakerState.OPEN
    assert gateway.breaker.retry_in() == 10
    tried = len(sidecar.requests)
    clock.now += 5
    with pytest.raises(WhatsAppUnavailableError, match="breaker open"):
        await gateway.get_session("acc-1")
    assert len(sidecar.requests) == tried


async def test_half_open_lets_one_trial_through(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar, clock: ManualClock
):
    await break_it(gateway, sidecar)
    clock.now += 10
    arrived, release = asyncio.Event(), asyncio.Event()

    async def slow_reply(request: httpx.Request) -> httpx.Response:
        sidecar.requests.append(request)
        arrived.set()
        await release.wait()
        return httpx.Response(200, json=SESSION)

    gateway._client._transport = httpx.MockTransport(slow_reply)  # type: ignore[attr-defined]
    trial = asyncio.create_task(gateway.get_session("acc-1"))
    await arrived.wait()
    assert gateway.breaker_state is BreakerState.HALF_OPEN
    tried = len(sidecar.requests)
    with pytest.raises(WhatsAppUnavailableError, match="half-open"):
        await gateway.get_session("acc-1")
    assert len(sidecar.requests) == tried
    release.set()
    assert await trial is not None
    assert gateway.breaker_state is BreakerState.CLOSED
    assert await gateway.get_session("acc-1") is not None


async def test_a_cancelled_call_says_nothing(
    gateway: BaileysWhatsAppGateway, sidecar: Sidecar, clock: ManualClock
):
    await break_it(gateway, sidecar)
    clock.now += 10
    started = asyncio.Event()

    async def hang(request: httpx.Request) -> httpx.Response:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("never answers")

    gateway._client._transport = httpx.MockTransport(hang)  # type: ignore[attr-defined]
    trial = asyncio.create_task(gateway.get_session("acc-1"))
    await started.wait()
    trial.cancel()
    with pytest.raises(asyncio.CancelledError):
        await trial
    assert gateway.breaker_state is BreakerState.HALF_OPEN  # no verdict either way
    gateway._client._transport = httpx.MockTransport(sidecar.handle)  # type: ignore[attr-defined]
    sidecar.answer(200, SESSION)
    assert await gateway.get_session("acc-1") is not None  # the next call is the trial
    assert gateway.breaker_state is BreakerState.CLOSED


def test_breaker_settings_are_checked():
    with pytest.raises(ValueError, match="fail_max"):
        SidecarBreaker(fail_max=0)
    with pytest.raises(ValueError, match="reset_timeout"):
        SidecarBreaker(reset_timeout=-1)
    breaker = SidecarBreaker(fail_max=7, reset_timeout=12.5)
    assert (breaker.fail_max, breaker.reset_timeout, breaker.state) == (
        7,
        12.5,
        BreakerState.CLOSED,
    )


# -- settings ---------------------------------------------------------------------------


async def test_from_settings_uses_the_sidecar_url_and_token():
    settings = Settings.from_env(
        {"SIDECAR_URL": "http://10.0.0.5:3000/", "SIDECAR_TOKEN": "tok-123"}
    )
    async with BaileysWhatsAppGateway.from_settings(settings) as gateway:
        assert gateway.base_url == "http://10.0.0.5:3000"
        assert gateway._client.headers["authorization"] == "Bearer tok-123"
    async with BaileysWhatsAppGateway.from_settings(Settings()) as gateway:
        assert gateway.base_url == DEFAULT_SIDECAR_URL


def test_settings_read_the_sidecar_variables():
    assert (Settings().sidecar_url, Settings().sidecar_token) == ("", "")
    settings = Settings.from_env({"SIDECAR_URL": " http://sidecar:3000 ", "SIDECAR_TOKEN": " t "})
    assert (settings.sidecar_url, settings.sidecar_token) == ("http://sidecar:3000", "t")
    with pytest.raises(ConfigError, match="SIDECAR_URL"):
        Settings.from_env({"SIDECAR_URL": "sidecar:3000", "SIDECAR_TOKEN": "t"})
    with pytest.raises(ConfigError, match="SIDECAR_TOKEN"):
        Settings.from_env({"SIDECAR_URL": "http://sidecar:3000"})


def test_the_container_picks_the_sidecar_only_when_its_url_is_set():
    from dependency_injector import providers

    from clientmgr.adapters.memory import InMemoryWhatsAppGateway
    from clientmgr.container import Application

    container = Application()
    container.core.settings.override(providers.Object(Settings()))
    assert isinstance(container.gateways.whatsapp(), InMemoryWhatsAppGateway)
    container = Application()
    settings = Settings.from_env({"SIDECAR_URL": "http://127.0.0.1:3999", "SIDECAR_TOKEN": "t"})
    container.core.settings.override(providers.Object(settings))
    whatsapp = container.gateways.whatsapp()
    assert isinstance(whatsapp, BaileysWhatsAppGateway)
    assert whatsapp.base_url == "http://127.0.0.1:3999"
    assert container.gateways.whatsapp() is whatsapp  # one client per process

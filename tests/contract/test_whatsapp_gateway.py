"""WhatsAppGateway contract: sessions, idempotent sends, 9th-digit lookups, the errors.

Every test runs against each implementation through a *harness*: the gateway plus the
means to play the other side (link a phone, say who is on WhatsApp, fail a send, read
what was sent). Only the in-memory fake exists today; the httpx adapter over the real
sidecar (``SIDECAR_FAKE=1``, whose ``/_fake/...`` routes do the same) plugs in as one more
harness in ``HARNESSES`` and ``harness``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Protocol

import pytest
from attrs import frozen

from clientmgr.adapters.memory import InMemoryWhatsAppGateway
from clientmgr.errors import (
    NotOnWhatsAppError,
    WhatsAppRequestError,
    WhatsAppSendError,
    WhatsAppSessionNotOpenError,
    WhatsAppUnavailableError,
)
from clientmgr.ports.whatsapp import WaLookup, WaState, WhatsAppGateway

HARNESSES = ["memory"]

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

    def unavailable(self) -> WhatsAppGateway:
        fake = InMemoryWhatsAppGateway()
        fake.down = True
        return fake


@pytest.fixture(params=HARNESSES)
async def harness(request: pytest.FixtureRequest) -> AsyncIterator[WhatsAppHarness]:
    if request.param == "memory":
        yield MemoryHarness()
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

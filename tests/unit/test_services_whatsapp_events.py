"""Sidecar events applied by their effect: forward-only ticks, "SAIR" opt-outs, dropped sessions."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from attrs import evolve

from clientmgr.adapters.memory import InMemoryWhatsAppGateway
from clientmgr.adapters.memory.notifier import RecordingNotifier
from clientmgr.adapters.memory.whatsapp_events import memory_event_lookups
from clientmgr.adapters.telegram.catalog import messages
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.templates import TemplateKind
from clientmgr.ports.notifier import NoticeAction, SellerUnreachableError
from clientmgr.services import accounts, clients, whatsapp
from clientmgr.services import whatsapp_events as we
from clientmgr.services.whatsapp_events import (
    ACK_ERROR_REASON,
    MalformedEventError,
    Outcome,
    SidecarEvent,
    WhatsAppEvents,
    account_id_of_session,
    is_opt_out,
    parse_event,
)

TELEGRAM_ID = 777
ANA = "+5511988887777"
ANA_LID = "123456789012345@lid"
OLD_NUMBER = "+5511987654321"  # WhatsApp knows it without the 9th digit: 551187654321


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def events(uow_factory, clock, notifier) -> WhatsAppEvents:
    return WhatsAppEvents(uow_factory, clock, notifier, memory_event_lookups)


@pytest.fixture
async def account_id(uow_factory, clock) -> int:
    account, _ = await accounts.register_account(uow_factory, clock, TELEGRAM_ID, "Loja")
    assert account.id is not None
    return account.id


async def add_client(uow_factory, clock, account_id: int, phone: str = ANA, **changes) -> int:
    client = await clients.add_client(
        uow_factory,
        clock,
        account_id,
        clients.AddClient(
            name="Ana Souza", phone=phone, price=Decimal("35.90"), due_date=date(2026, 3, 10)
        ),
    )
    if changes:
        async with uow_factory() as uow:
            await uow.clients.update(evolve(client, **changes))
            await uow.commit()
    assert client.id is not None
    return client.id


async def add_message(
    uow_factory,
    clock,
    account_id: int,
    *,
    client_id: int | None = None,
    status: OutboxStatus = OutboxStatus.SENT,
    provider_id: str | None = "3EB0AAA",
    key: str = "k1",
) -> int:
    now = clock.now()
    async with uow_factory() as uow:
        message = await uow.outbox.add(
            OutboxMessage(
                account_id=account_id,
                to=ANA,
                text="Olá",
                kind=TemplateKind.BEFORE_DUE,
                dedupe_key=f"{account_id}:{key}",
                created_at=now,
                next_attempt_at=now,
                client_id=client_id,
                status=status,
                provider_message_id=provider_id,
                sent_at=now if provider_id else None,
            )
        )
        await uow.commit()
    assert message is not None
    assert message.id is not None
    return message.id


async def status_of(uow_factory, account_id: int, message_id: int) -> OutboxMessage:
    async with uow_factory() as uow:
        return await uow.outbox.get(account_id, message_id)


def ack(account_id: int, status: str, message_id: str = "3EB0AAA") -> SidecarEvent:
    return SidecarEvent(
        f"ack:acc-{account_id}:{message_id}:{status}",
        "ack",
        f"acc-{account_id}",
        {"message_id": message_id, "to": "5511988887777@s.whatsapp.net", "status": status},
    )


def incoming(account_id: int, text: str, **data) -> SidecarEvent:
    fields = {"message_id": "IN1", "from": "5511988887777@s.whatsapp.net", "text": text}
    fields.update(data)
    return SidecarEvent(f"message:acc-{account_id}:IN1", "message", f"acc-{account_id}", fields)


def state(
    account_id: int, name: str, reason: str | None = None, phone: str | None = "5521977776666"
) -> SidecarEvent:
    data = {"state": name, "reason": reason, "phone": phone, "lid": None}
    return SidecarEvent(f"s-{name}-{reason}", "state", f"acc-{account_id}", data)


def qr(account_id: int, code: str = "2@abc,def", attempt: int = 1) -> SidecarEvent:
    data = {"qr": code, "attempt": attempt, "max_attempts": 5}
    return SidecarEvent(f"qr-{code}", "qr", f"acc-{account_id}", data)


# --- parsing --------------------------------------------------------------------------------


def test_parse_event_reads_what_the_sidecar_sends():
    event = parse_event(
        {
            "event_id": "ack:acc-1:X:read",
            "type": "ack",
            "session_id": "acc-1",
            "ts": "2026-03-04T13:00:00.123Z",
            "data": {"message_id": "X", "status": "read"},
        }
    )
    assert (event.event_id, event.type, event.session_id) == ("ack:acc-1:X:read", "ack", "acc-1")
    assert event.data["status"] == "read"
    assert event.ts is not None
    assert event.ts.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    "payload",
    [
        [],
        "x",
        {"type": "ack", "session_id": "acc-1"},
        {"event_id": "", "type": "ack", "session_id": "acc-1"},
        {"event_id": "e", "type": 3, "session_id": "acc-1"},
        {"event_id": "e", "type": "ack", "session_id": "acc-1", "data": []},
        {"event_id": "e", "type": "ack", "session_id": "acc-1", "ts": "yesterday"},
        {"event_id": "e", "type": "ack", "session_id": "acc-1", "ts": "2026-03-04T13:00:00"},
        {"event_id": "e", "type": "ack", "session_id": "acc-1", "ts": 5},
    ],
)
def test_parse_event_refuses_what_is_not_an_event(payload):
    with pytest.raises(MalformedEventError):
        parse_event(payload)


@pytest.mark.parametrize(
    ("session_id", "expected"),
    [
        ("acc-1", 1),
        ("acc-42", 42),
        ("acc-0", None),
        ("acc-01", None),
        ("acc-x", None),
        ("x-1", None),
    ],
)
def test_account_id_of_session(session_id, expected):
    assert account_id_of_session(session_id) == expected


@pytest.mark.parametrize(
    "text",
    [
        "SAIR",
        "sair",
        " Sair! ",
        "PARAR.",
        "parar",
        "STOP",
        "stop!!",
        "Cancelar",
        "CANCELÁR",
        "“sair”",
    ],
)
def test_opt_out_words(text):
    assert is_opt_out(text)


@pytest.mark.parametrize(
    "text",
    ["quero sair", "sair agora", "S A I R", "", "ok", None, 3, "sair" * 40, "parar de pagar"],
)
def test_other_texts_are_not_opt_outs(text):
    assert not is_opt_out(text)


# --- acks -----------------------------------------------------------------------------------


async def test_acks_move_a_message_forward_only(events, uow_factory, clock, account_id):
    message_id = await add_message(uow_factory, clock, account_id)

    result = await events.apply(ack(account_id, "delivered"))
    assert result.outcome is Outcome.APPLIED
    assert (await status_of(uow_factory, account_id, message_id)).status is OutboxStatus.DELIVERED

    assert (await events.apply(ack(account_id, "delivered"))).outcome is Outcome.UNCHANGED
    assert (await events.apply(ack(account_id, "read"))).outcome is Outcome.APPLIED
    assert (await status_of(uow_factory, account_id, message_id)).status is OutboxStatus.READ

    # late or repeated acks never move it back
    for late in ("delivered", "server", "read", "error"):
        assert (await events.apply(ack(account_id, late))).outcome is Outcome.UNCHANGED
    assert (await status_of(uow_factory, account_id, message_id)).status is OutboxStatus.READ


async def test_read_may_skip_delivered(events, uow_factory, clock, account_id):
    message_id = await add_message(uow_factory, clock, account_id)
    assert (await events.apply(ack(account_id, "read"))).outcome is Outcome.APPLIED
    assert (await status_of(uow_factory, account_id, message_id)).status is OutboxStatus.READ


async def test_an_error_ack_fails_a_sent_message_with_a_reason(
    events, uow_factory, clock, account_id
):
    message_id = await add_message(uow_factory, clock, account_id)
    assert (await events.apply(ack(account_id, "error"))).outcome is Outcome.APPLIED
    message = await status_of(uow_factory, account_id, message_id)
    assert (message.status, message.last_error) == (OutboxStatus.FAILED, ACK_ERROR_REASON)
    # … and a delivery reported later wins: the client got it after all
    assert (await events.apply(ack(account_id, "delivered"))).outcome is Outcome.APPLIED
    assert (await status_of(uow_factory, account_id, message_id)).status is OutboxStatus.DELIVERED


async def test_a_cancelled_message_is_never_touched(events, uow_factory, clock, account_id):
    message_id = await add_message(uow_factory, clock, account_id, status=OutboxStatus.CANCELLED)
    assert (await events.apply(ack(account_id, "read"))).outcome is Outcome.UNCHANGED
    assert (await status_of(uow_factory, account_id, message_id)).status is OutboxStatus.CANCELLED


async def test_acks_for_unknown_messages_sessions_and_statuses_are_ignored(
    events, uow_factory, clock, account_id
):
    await add_message(uow_factory, clock, account_id)
    assert (await events.apply(ack(account_id, "read", "3EB0OTHER"))).outcome is Outcome.IGNORED
    assert (await events.apply(ack(account_id, "played"))).outcome is Outcome.IGNORED
    other = SidecarEvent("e", "ack", "somebody-else", {"message_id": "3EB0AAA", "status": "read"})
    assert (await events.apply(other)).outcome is Outcome.IGNORED
    unknown_type = SidecarEvent("e", "presence", f"acc-{account_id}", {})
    assert (await events.apply(unknown_type)).outcome is Outcome.IGNORED
    with pytest.raises(MalformedEventError):
        await events.apply(SidecarEvent("e", "ack", f"acc-{account_id}", {"status": "read"}))


async def test_an_ack_only_reaches_the_sessions_own_account(events, uow_factory, clock, account_id):
    other, _ = await accounts.register_account(uow_factory, clock, 888, "Outra loja")
    assert other.id is not None
    theirs = await add_message(uow_factory, clock, other.id, key="theirs")
    assert (await events.apply(ack(account_id, "read"))).outcome is Outcome.IGNORED
    assert (await status_of(uow_factory, other.id, theirs)).status is OutboxStatus.SENT


async def test_the_ack_time_is_the_events_never_the_future(events, uow_factory, clock, account_id):
    await add_message(uow_factory, clock, account_id)
    event = evolve(ack(account_id, "delivered"), ts=clock.now() + timedelta(hours=1))
    assert events._when(event) == clock.now()
    event = evolve(event, ts=clock.now() - timedelta(seconds=5))
    assert events._when(event) == clock.now() - timedelta(seconds=5)


# --- opt-outs ---------------------------------------------------------------------------------


async def test_sair_opts_the_client_out_and_tells_the_seller(
    events, uow_factory, clock, notifier, account_id
):
    client_id = await add_client(uow_factory, clock, account_id)
    queued = await add_message(
        uow_factory,
        clock,
        account_id,
        client_id=client_id,
        status=OutboxStatus.QUEUED,
        provider_id=None,
    )

    result = await events.apply(incoming(account_id, " Sair! ", from_phone="5511988887777"))

    assert result.outcome is Outcome.APPLIED
    client = await clients.get_client(uow_factory, account_id, client_id)
    assert client.opted_out
    assert not client.receives_reminders
    assert (await status_of(uow_factory, account_id, queued)).status is OutboxStatus.CANCELLED
    [sent] = notifier.sent
    assert sent.telegram_id == TELEGRAM_ID
    assert sent.notice.key == "events.client_opted_out"
    assert sent.notice.values == {"name": "Ana Souza", "phone": "(11) 98888-7777", "word": "Sair"}
    assert (sent.notice.buttons, sent.notice.client_id) == ((NoticeAction.CLIENT,), client_id)
    async with uow_factory() as uow:
        trail = [(e.action, e.actor) for e in await uow.audit.list(account_id)]
    assert ("client.opted_out", "client") in trail

    # the same message delivered again changes nothing and says nothing
    again = await events.apply(incoming(account_id, " Sair! ", from_phone="5511988887777"))
    assert again.outcome is Outcome.UNCHANGED
    assert len(notifier.sent) == 1


async def test_the_sender_is_found_by_lid_or_by_the_number_without_the_9th_digit(
    events, uow_factory, clock, account_id
):
    by_lid = await add_client(uow_factory, clock, account_id, wa_lid=ANA_LID)
    old = await add_client(uow_factory, clock, account_id, phone=OLD_NUMBER)

    result = await events.apply(
        incoming(account_id, "PARAR", **{"from": ANA_LID, "from_lid": ANA_LID})
    )
    assert result.outcome is Outcome.APPLIED
    assert (await clients.get_client(uow_factory, account_id, by_lid)).opted_out

    result = await events.apply(
        incoming(account_id, "stop", **{"from": "551187654321@s.whatsapp.net", "from_phone": None})
    )
    assert result.outcome is Outcome.APPLIED
    assert (await clients.get_client(uow_factory, account_id, old)).opted_out


async def test_other_texts_and_strangers_change_nothing(
    events, uow_factory, clock, notifier, account_id
):
    client_id = await add_client(uow_factory, clock, account_id)
    assert (
        await events.apply(incoming(account_id, "quero sair do plano"))
    ).outcome is Outcome.IGNORED
    stranger = incoming(account_id, "SAIR", **{"from": "5511911112222@s.whatsapp.net"})
    assert (await events.apply(stranger)).outcome is Outcome.IGNORED
    assert (await events.apply(incoming(account_id + 50, "SAIR"))).outcome is Outcome.IGNORED
    assert not (await clients.get_client(uow_factory, account_id, client_id)).opted_out
    assert notifier.sent == []
    with pytest.raises(MalformedEventError):
        await events.apply(incoming(account_id, "SAIR", **{"from": "status@broadcast"}))


async def test_a_client_of_another_seller_with_the_same_number_is_not_touched(
    events, uow_factory, clock, account_id
):
    other, _ = await accounts.register_account(uow_factory, clock, 888, "Outra loja")
    assert other.id is not None
    theirs = await add_client(uow_factory, clock, other.id)
    await add_client(uow_factory, clock, account_id)
    assert (await events.apply(incoming(account_id, "SAIR"))).outcome is Outcome.APPLIED
    assert not (await clients.get_client(uow_factory, other.id, theirs)).opted_out


async def test_an_opt_out_holds_while_telegram_is_down_and_the_retry_tells_the_seller(
    events, uow_factory, clock, notifier, account_id
):
    client_id = await add_client(uow_factory, clock, account_id)
    notifier.fail_next()
    with pytest.raises(SellerUnreachableError):
        await events.apply(incoming(account_id, "SAIR"))
    assert (await clients.get_client(uow_factory, account_id, client_id)).opted_out
    assert notifier.sent == []

    retried = await events.apply(incoming(account_id, "SAIR"))
    assert retried.outcome is Outcome.APPLIED
    assert notifier.keys() == ["events.client_opted_out"]
    assert (await events.apply(incoming(account_id, "SAIR"))).outcome is Outcome.UNCHANGED
    assert len(notifier.sent) == 1


# --- the session: drops, QR codes, reconnection ---------------------------------------------


async def test_a_logout_from_the_phone_is_told_once(events, notifier, account_id):
    result = await events.apply(state(account_id, "logged_out", "logged_out", phone=None))
    assert result.outcome is Outcome.APPLIED
    [sent] = notifier.sent
    assert sent.telegram_id == TELEGRAM_ID
    assert sent.notice.key == "events.wa_logged_out"
    assert sent.notice.buttons == (
        NoticeAction.CONNECT_WHATSAPP,
        NoticeAction.SEND_BY_HAND,
        NoticeAction.WHATSAPP,
    )
    repeat = await events.apply(state(account_id, "logged_out", "logged_out", phone=None))
    assert repeat.outcome is Outcome.UNCHANGED
    assert len(notifier.sent) == 1


async def test_a_logout_the_seller_did_in_the_bot_is_not_reported_back(
    events, uow_factory, clock, notifier, account_id
):
    await whatsapp.disconnect(uow_factory, clock, InMemoryWhatsAppGateway(), account_id)
    result = await events.apply(state(account_id, "logged_out", "logged_out", phone=None))
    assert result.outcome is Outcome.UNCHANGED
    assert notifier.sent == []


@pytest.mark.parametrize(
    ("reason", "key"),
    [
        ("connection_replaced", "events.wa_closed.connection_replaced"),
        ("forbidden", "events.wa_closed.forbidden"),
        ("reconnect_failed", "events.wa_closed.reconnect_failed"),
        ("multidevice_mismatch", "events.wa_closed.other"),
    ],
)
async def test_a_linked_session_closed_for_good_is_told(events, notifier, account_id, reason, key):
    assert (await events.apply(state(account_id, "closed", reason))).outcome is Outcome.APPLIED
    assert notifier.keys() == [key]
    assert notifier.sent[0].notice.values.get("reason", reason) == reason
    assert NoticeAction.SEND_BY_HAND in notifier.sent[0].notice.buttons


@pytest.mark.parametrize(
    ("name", "reason", "phone"),
    [
        ("closed", "shutdown", "5521977776666"),  # a deploy: resumed on restart
        ("closed", "qr_timeout", None),  # the seller's own connect screen says it
        ("closed", "connect_failed", None),  # never linked
        ("connecting", "connection_lost:428", "5521977776666"),  # reconnecting by itself
        ("qr", None, None),
        ("open", None, "5521977776666"),  # opened from the bot, which says it
    ],
)
async def test_states_that_are_not_drops_say_nothing(
    events, notifier, account_id, name, reason, phone
):
    assert (await events.apply(state(account_id, name, reason, phone))).outcome is Outcome.UNCHANGED
    assert notifier.sent == []


async def test_after_a_drop_the_first_qr_is_sent_then_the_reconnection_is_told(
    events, notifier, account_id
):
    assert (await events.apply(qr(account_id))).outcome is Outcome.UNCHANGED  # no drop yet
    await events.apply(state(account_id, "logged_out", "logged_out", phone=None))

    assert (await events.apply(qr(account_id, "2@first"))).outcome is Outcome.APPLIED
    photo = notifier.sent[-1].notice
    assert (photo.key, photo.qr, photo.buttons) == (
        "events.wa_qr",
        "2@first",
        (NoticeAction.CONNECT_WHATSAPP,),
    )
    assert (await events.apply(qr(account_id, "2@second", 2))).outcome is Outcome.UNCHANGED

    assert (await events.apply(state(account_id, "open"))).outcome is Outcome.APPLIED
    assert notifier.sent[-1].notice.key == "events.wa_reconnected"
    assert notifier.sent[-1].notice.values == {"phone": "(21) 97777-6666"}
    assert (await events.apply(state(account_id, "open"))).outcome is Outcome.UNCHANGED
    assert notifier.keys() == ["events.wa_logged_out", "events.wa_qr", "events.wa_reconnected"]


async def test_an_unanswered_qr_after_a_drop_is_told_to_have_expired(events, notifier, account_id):
    await events.apply(state(account_id, "closed", "reconnect_failed"))
    await events.apply(qr(account_id))
    assert (
        await events.apply(state(account_id, "closed", "qr_timeout", None))
    ).outcome is Outcome.APPLIED
    assert notifier.keys()[-1] == "events.wa_qr_expired"
    assert (
        await events.apply(state(account_id, "closed", "qr_timeout", None))
    ).outcome is Outcome.UNCHANGED


async def test_reconnecting_from_the_bot_leaves_the_qr_to_the_bot(
    events, uow_factory, clock, notifier, account_id
):
    await events.apply(state(account_id, "logged_out", "logged_out", phone=None))
    await whatsapp.connect(uow_factory, clock, InMemoryWhatsAppGateway(), account_id)
    assert (await events.apply(qr(account_id))).outcome is Outcome.UNCHANGED
    assert (await events.apply(state(account_id, "open"))).outcome is Outcome.UNCHANGED
    assert notifier.keys() == ["events.wa_logged_out"]
    # a later drop is news again
    assert (
        await events.apply(state(account_id, "logged_out", "logged_out", None))
    ).outcome is Outcome.APPLIED


async def test_a_drop_notice_that_fails_is_told_on_the_retry(events, notifier, account_id):
    notifier.fail_next()
    with pytest.raises(SellerUnreachableError):
        await events.apply(state(account_id, "logged_out", "logged_out", phone=None))
    assert (
        await events.apply(state(account_id, "logged_out", "logged_out", None))
    ).outcome is Outcome.APPLIED
    assert notifier.keys() == ["events.wa_logged_out"]


async def test_session_events_of_an_unknown_account_are_ignored(events, notifier, account_id):
    assert (await events.apply(state(account_id + 9, "logged_out"))).outcome is Outcome.IGNORED
    assert (await events.apply(qr(account_id + 9))).outcome is Outcome.IGNORED
    with pytest.raises(MalformedEventError):
        await events.apply(SidecarEvent("e", "qr", f"acc-{account_id}", {"qr": 5}))
    assert notifier.sent == []


def test_every_notice_key_is_in_the_catalog():
    text = Path(we.__file__).read_text(encoding="utf-8")
    keys = set(re.findall(r'"(events\.[a-z_.]+)"', text))
    keys |= {"events.open_client"}
    assert keys, "no notice keys found"
    assert not keys - set(messages()), keys - set(messages())


async def test_old_states_and_qr_codes_are_not_news(events, clock, notifier, account_id):
    old_drop = evolve(
        state(account_id, "logged_out", "logged_out", None), ts=clock.now() - timedelta(hours=2)
    )
    assert (await events.apply(old_drop)).outcome is Outcome.UNCHANGED
    recent_drop = evolve(old_drop, ts=clock.now() - timedelta(minutes=5))
    assert (await events.apply(recent_drop)).outcome is Outcome.APPLIED  # held up by retries
    stale_qr = evolve(qr(account_id), ts=clock.now() - timedelta(minutes=3))
    assert (await events.apply(stale_qr)).outcome is Outcome.UNCHANGED
    fresh_qr = evolve(stale_qr, ts=clock.now() - timedelta(seconds=10))
    assert (await events.apply(fresh_qr)).outcome is Outcome.APPLIED
    assert notifier.keys() == ["events.wa_logged_out", "events.wa_qr"]


async def test_open_state_resumes_a_queue_paused_for_a_closed_session(
    events, uow_factory, clock, account_id
):
    from clientmgr.ports.pacing import PauseReason

    session = whatsapp.session_id_for(account_id)
    later = clock.now() + timedelta(hours=1)
    async with uow_factory() as uow:
        pacing = await uow.outbox.lock_pacing(session, account_id, clock.now())
        await uow.outbox.save_pacing(
            evolve(pacing, next_send_at=later, pause_reason=PauseReason.SESSION_NOT_OPEN)
        )
        await uow.commit()

    await events.apply(state(account_id, "open"))

    async with uow_factory() as uow:
        resumed = await uow.outbox.get_pacing(session)
    assert resumed.pause_reason is None
    assert resumed.next_send_at == clock.now()


async def test_an_open_state_with_another_number_restarts_its_warm_up(
    events, uow_factory, clock, account_id
):
    session = whatsapp.session_id_for(account_id)
    await events.apply(state(account_id, "open", phone="5511977776666"))
    clock.advance(days=5)
    await events.apply(state(account_id, "open", phone="5511977776666"))
    async with uow_factory() as uow:
        same = await uow.outbox.get_pacing(session)
    assert clock.now() - same.first_seen_at == timedelta(days=5)
    await events.apply(state(account_id, "open", phone="5521966665555"))
    async with uow_factory() as uow:
        other = await uow.outbox.get_pacing(session)
    assert (other.first_seen_at, other.phone) == (clock.now(), "5521966665555")

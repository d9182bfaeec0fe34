"""Send by hand: the waiting messages as wa.me links, and "sent by hand" taking one out of
the queue for good — unless the dispatcher got to it first."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from clientmgr.adapters.memory import InMemoryWhatsAppGateway
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import MessageNotQueuedError, NotFoundError
from clientmgr.services import accounts, by_hand, clients, reminders
from clientmgr.services.sending import Dispatcher, DispatchSettings

# The clock fixture: 2026-03-04 13:00 UTC, 10:00 in São Paulo, inside the send window.
QUICK = DispatchSettings(
    min_gap=timedelta(0),
    max_gap=timedelta(0),
    per_session=10,
    typing_min=timedelta(0),
    typing_max=timedelta(0),
)


@pytest.fixture
async def account_id(uow_factory, clock):
    account, _ = await accounts.register_account(uow_factory, clock, 42, "Ana")
    return account.id


async def add_client(uow_factory, clock, account_id, name="Maria", phone="+5511988887777"):
    return await clients.add_client(
        uow_factory,
        clock,
        account_id,
        clients.AddClient(
            name=name, phone=phone, price=Decimal("35.90"), due_date=date(2026, 3, 4)
        ),
    )


async def queue(uow_factory, clock, account_id, client, text, *, minutes=0, key=None):
    async with uow_factory() as uow:
        message = await uow.outbox.add(
            OutboxMessage(
                account_id=account_id,
                client_id=None if client is None else client.id,
                to="+5521977776666" if client is None else client.phone,
                text=text,
                kind=TemplateKind.DUE_TODAY,
                dedupe_key=key or f"t:{account_id}:{text}",
                created_at=clock.now(),
                next_attempt_at=clock.now() + timedelta(minutes=minutes),
            )
        )
        await uow.commit()
    assert message is not None
    return message


async def set_status(uow_factory, message, status):
    async with uow_factory() as uow:
        await uow.outbox.set_status(message.account_id, message.id, status)
        await uow.commit()


async def reload(uow_factory, message):
    async with uow_factory() as uow:
        return await uow.outbox.get(message.account_id, message.id)


async def audit_actions(uow_factory, account_id):
    async with uow_factory() as uow:
        return [e.action for e in await uow.audit.list(account_id)]


async def test_waiting_messages_come_oldest_first_with_name_and_a_ready_link(
    uow_factory, clock, account_id
):
    maria = await add_client(uow_factory, clock, account_id)
    joao = await add_client(uow_factory, clock, account_id, "João", "+5511966665555")
    later = await queue(uow_factory, clock, account_id, maria, "Oi Maria & cia, vence hoje")
    first = await queue(uow_factory, clock, account_id, joao, "Oi João", minutes=-5)
    sent = await queue(uow_factory, clock, account_id, maria, "já foi")
    await set_status(uow_factory, sent, OutboxStatus.SENT)
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    their_client = await add_client(uow_factory, clock, other.id)
    await queue(uow_factory, clock, other.id, their_client, "de outra conta")

    page = await by_hand.waiting_messages(uow_factory, account_id)

    assert page.total == 2
    assert [(h.id, h.name) for h in page.messages] == [(first.id, "João"), (later.id, "Maria")]
    link = urlsplit(page.messages[1].link)
    assert (link.scheme, link.netloc, link.path) == ("https", "wa.me", "/5511988887777")
    assert parse_qs(link.query)["text"] == ["Oi Maria & cia, vence hoje"]
    assert await by_hand.count_waiting(uow_factory, account_id) == 2
    assert await by_hand.count_waiting(uow_factory, other.id) == 1


async def test_a_page_holds_five_and_tells_how_many_wait(uow_factory, clock, account_id):
    maria = await add_client(uow_factory, clock, account_id)
    for n in range(7):
        await queue(uow_factory, clock, account_id, maria, f"lembrete {n}", minutes=n)
    page = await by_hand.waiting_messages(uow_factory, account_id)
    assert [h.message.text for h in page.messages] == [f"lembrete {n}" for n in range(5)]
    assert page.total == 7


async def test_a_message_without_client_is_named_by_its_phone(uow_factory, clock, account_id):
    await queue(uow_factory, clock, account_id, None, "aviso")
    [hand] = (await by_hand.waiting_messages(uow_factory, account_id)).messages
    assert hand.name == "(21) 97777-6666"
    assert hand.link.startswith("https://wa.me/5521977776666?text=")


async def test_sent_by_hand_leaves_the_queue_with_a_note_in_the_history(
    uow_factory, clock, account_id
):
    maria = await add_client(uow_factory, clock, account_id)
    message = await queue(uow_factory, clock, account_id, maria, "Oi Maria")
    other = await queue(uow_factory, clock, account_id, maria, "Oi de novo", minutes=1)

    hand = await by_hand.mark_sent_by_hand(uow_factory, clock, account_id, message.id)

    assert hand.name == "Maria"
    assert (hand.message.status, hand.message.last_error) == (
        OutboxStatus.CANCELLED,
        "Enviada por você pelo link do WhatsApp.",
    )
    assert await reload(uow_factory, message) == hand.message
    page = await by_hand.waiting_messages(uow_factory, account_id)
    assert [h.id for h in page.messages] == [other.id]
    history = await reminders.client_history(uow_factory, account_id, maria.id)
    [entry] = [e for e in history if e.message is not None and e.message.id == message.id]
    assert entry.status == "cancelled"
    assert entry.message.last_error == by_hand.NOTE_SENT_BY_HAND
    assert by_hand.SENT_BY_HAND in await audit_actions(uow_factory, account_id)


async def test_a_second_tap_is_answered_as_done_and_audited_once(uow_factory, clock, account_id):
    maria = await add_client(uow_factory, clock, account_id)
    message = await queue(uow_factory, clock, account_id, maria, "Oi Maria")
    await by_hand.mark_sent_by_hand(uow_factory, clock, account_id, message.id)
    again = await by_hand.mark_sent_by_hand(uow_factory, clock, account_id, message.id)
    assert again.message.status is OutboxStatus.CANCELLED
    actions = await audit_actions(uow_factory, account_id)
    assert actions.count(by_hand.SENT_BY_HAND) == 1


@pytest.mark.parametrize(
    "status",
    [OutboxStatus.SENDING, OutboxStatus.SENT, OutboxStatus.DELIVERED, OutboxStatus.READ],
)
async def test_a_message_the_dispatcher_took_is_not_marked_and_the_seller_is_warned(
    uow_factory, clock, account_id, status
):
    maria = await add_client(uow_factory, clock, account_id)
    message = await queue(uow_factory, clock, account_id, maria, "Oi Maria")
    await set_status(uow_factory, message, status)

    with pytest.raises(MessageNotQueuedError) as caught:
        await by_hand.mark_sent_by_hand(uow_factory, clock, account_id, message.id)

    assert caught.value.going_out
    assert "Maria já saiu (ou está saindo agora) pelo seu WhatsApp" in str(caught.value)
    assert "Não envie pelo link" in str(caught.value)
    assert (await reload(uow_factory, message)).status is status
    assert by_hand.SENT_BY_HAND not in await audit_actions(uow_factory, account_id)


async def test_a_claim_after_the_screen_was_drawn_wins_over_the_tap(uow_factory, clock, account_id):
    """The dispatcher claims the message between the screen and the tap: it is going out."""
    maria = await add_client(uow_factory, clock, account_id)
    message = await queue(uow_factory, clock, account_id, maria, "Oi Maria", minutes=-1)
    assert [h.id for h in (await by_hand.waiting_messages(uow_factory, account_id)).messages] == [
        message.id
    ]
    async with uow_factory() as uow:
        await uow.outbox.claim_due(clock.now(), owner="w1", lease=timedelta(minutes=5), limit=5)
        await uow.commit()
    with pytest.raises(MessageNotQueuedError) as caught:
        await by_hand.mark_sent_by_hand(uow_factory, clock, account_id, message.id)
    assert caught.value.going_out
    assert (await reload(uow_factory, message)).status is OutboxStatus.SENDING


@pytest.mark.parametrize("status", [OutboxStatus.FAILED, OutboxStatus.CANCELLED])
async def test_a_message_cancelled_or_failed_meanwhile_points_to_the_history(
    uow_factory, clock, account_id, status
):
    maria = await add_client(uow_factory, clock, account_id)
    message = await queue(uow_factory, clock, account_id, maria, "Oi Maria")
    await set_status(uow_factory, message, status)
    with pytest.raises(MessageNotQueuedError) as caught:
        await by_hand.mark_sent_by_hand(uow_factory, clock, account_id, message.id)
    assert not caught.value.going_out
    assert "histórico do cliente" in str(caught.value)


async def test_another_accounts_message_or_an_unknown_id_is_not_found(
    uow_factory, clock, account_id
):
    maria = await add_client(uow_factory, clock, account_id)
    message = await queue(uow_factory, clock, account_id, maria, "Oi Maria")
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    with pytest.raises(NotFoundError):
        await by_hand.mark_sent_by_hand(uow_factory, clock, other.id, message.id)
    with pytest.raises(NotFoundError):
        await by_hand.mark_sent_by_hand(uow_factory, clock, account_id, message.id + 1000)
    assert (await reload(uow_factory, message)).status is OutboxStatus.QUEUED


async def test_the_dispatcher_does_not_send_it_again_when_the_session_opens(
    uow_factory, clock, account_id
):
    gateway = InMemoryWhatsAppGateway(everyone_on_whatsapp=True)
    dispatcher = Dispatcher(uow_factory, clock, gateway, QUICK)
    maria = await add_client(uow_factory, clock, account_id)
    by_phone = await queue(uow_factory, clock, account_id, maria, "Mandei à mão", minutes=-2)
    waiting = await queue(uow_factory, clock, account_id, maria, "Fica na fila", minutes=-1)
    await by_hand.mark_sent_by_hand(uow_factory, clock, account_id, by_phone.id)

    session_id = f"acc-{account_id}"
    await gateway.start_session(session_id)
    gateway.scan(session_id, "+5511977776666")
    report = await dispatcher.dispatch_once()

    assert report.sent == 1
    assert [m.text for m in gateway.sent] == ["Fica na fila"]
    assert (await reload(uow_factory, waiting)).status is OutboxStatus.SENT
    assert (await reload(uow_factory, by_phone)).status is OutboxStatus.CANCELLED

"""Send by hand while WhatsApp is down, as a seller sees it: the waiting reminders as wa.me
links, "Já enviei" taking one out of the queue, and the dispatcher not sending it again
once the session is back — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from clientmgr.core.outbox import OutboxStatus
from clientmgr.services import clients, reminders
from clientmgr.services.sending import Dispatcher, DispatchSettings
from clientmgr.services.whatsapp import session_id_for

SELLER_PHONE = "+5511977776666"
MARIA = "+5511988887777"
JOAO = "+5511966665555"
TITLE = "Mensagens esperando seu WhatsApp"
MARKED = "ficou como enviada por você"
NOTE = "Enviada por você pelo link do WhatsApp."
QUICK = DispatchSettings(
    min_gap=timedelta(0),
    max_gap=timedelta(0),
    per_session=10,
    typing_min=timedelta(0),
    typing_max=timedelta(0),
)


async def account_id(bot, user) -> int:
    account = await bot.services.account_for(user.id)
    return account.id


async def queued_reminder(bot, user, name, phone):
    """A client with a reminder queued by "Cobrar agora"; returns (client, message)."""
    owner = await account_id(bot, user)
    client = await clients.add_client(
        bot.uow_factory,
        bot.clock,
        owner,
        clients.AddClient(
            name=name, phone=phone, price=Decimal("35.90"), due_date=date(2026, 3, 10)
        ),
    )
    message = await reminders.queue_reminder_now(
        bot.uow_factory, bot.clock, owner, client.id, f"e2e-{phone}"
    )
    return client, message


async def stored(bot, message):
    async with bot.uow_factory() as uow:
        return await uow.outbox.get(message.account_id, message.id)


async def dropped_session(bot, user) -> str:
    """The seller's WhatsApp was linked and its connection fell."""
    session_id = session_id_for(await account_id(bot, user))
    await bot.whatsapp.start_session(session_id)
    bot.whatsapp.scan(session_id, SELLER_PHONE)
    bot.whatsapp.drop(session_id)
    return session_id


def row_of(message, label: str) -> list[dict]:
    return next(row for row in message.keyboard if any(b["text"] == label for b in row))


def link_text(url: str) -> tuple[str, str]:
    """(phone digits, text typed in) of a wa.me link."""
    link = urlsplit(url)
    assert (link.scheme, link.netloc) == ("https", "wa.me")
    return link.path.lstrip("/"), parse_qs(link.query)["text"][0]


async def open_screen(bot, user):
    await user.press_data(bot.services.signer.sign(user.id, "wa:hand"))
    return await user.wait_for_message(contains=TITLE)


async def test_sent_by_hand_leaves_the_queue_and_is_not_sent_again(bot):
    user = await bot.seller()
    maria, to_maria = await queued_reminder(bot, user, "Maria Silva", MARIA)
    _, to_joao = await queued_reminder(bot, user, "João Souza", JOAO)
    session_id = await dropped_session(bot, user)

    await user.press("📱 WhatsApp")
    status = await user.wait_for_message(contains="a conexão caiu")
    assert "✋ Enviar à mão (2)" in status.buttons

    await user.press("✋ Enviar à mão (2)", message=status)
    screen = await user.wait_for_message(contains=TITLE)
    assert "1. Maria Silva: " in screen.text
    assert "2. João Souza: " in screen.text
    assert "✅ Já enviei" in screen.text  # the steps say what to tap after sending
    assert {"🔗 Conectar WhatsApp", "🏠 Menu"} <= set(screen.buttons)
    maria_row = row_of(screen, "📲 Abrir Maria Silva")
    joao_row = row_of(screen, "📲 Abrir João Souza")
    assert link_text(maria_row[0]["url"]) == ("5511988887777", to_maria.text)
    assert link_text(joao_row[0]["url"]) == ("5511966665555", to_joao.text)
    assert [maria_row[1]["text"], joao_row[1]["text"]] == ["✅ Já enviei", "✅ Já enviei"]

    await user.press_data(maria_row[1]["callback_data"], message=screen)
    after = await user.wait_for_message(contains=MARKED)
    assert after.message_id == screen.message_id  # the same screen, updated
    assert "Maria Silva" in after.text.split("\n")[0]
    assert "1. João Souza: " in after.text
    assert "Maria Silva:" not in after.text
    assert "📲 Abrir Maria Silva" not in after.buttons
    cancelled = await stored(bot, to_maria)
    assert (cancelled.status, cancelled.last_error) == (OutboxStatus.CANCELLED, NOTE)

    await user.press_data(bot.services.signer.sign(user.id, f"cc:hist:{maria.id}"))
    history = await user.wait_for_message(contains="Histórico de")
    assert f"🚫 cancelado: {NOTE}" in history.text

    # The phone is back: the queue resumes, and only what was not sent by hand goes out.
    await bot.whatsapp.start_session(session_id)
    bot.whatsapp.add_number(JOAO)
    bot.whatsapp.add_number(MARIA)
    report = await Dispatcher(bot.uow_factory, bot.clock, bot.whatsapp, QUICK).dispatch_once()
    assert report.sent == 1
    assert [m.text for m in bot.whatsapp.sent] == [to_joao.text]
    assert (await stored(bot, to_maria)).status is OutboxStatus.CANCELLED
    assert (await stored(bot, to_joao)).status is OutboxStatus.SENT

    await user.press_data(bot.services.signer.sign(user.id, "wa:menu"))
    connected = await user.wait_for_message(contains="conectado com")
    assert not [label for label in connected.buttons if "Enviar à mão" in label]


async def test_nothing_waiting_says_so(bot):
    user = await bot.seller()
    await dropped_session(bot, user)
    await user.press("📱 WhatsApp")
    status = await user.wait_for_message(contains="a conexão caiu")
    assert not [label for label in status.buttons if "Enviar à mão" in label]
    empty = await open_screen(bot, user)
    assert "Nenhuma mensagem está esperando" in empty.text
    assert "✅ Já enviei" not in empty.buttons
    assert "🔗 Conectar WhatsApp" in empty.buttons


async def test_a_message_the_dispatcher_took_meanwhile_is_not_marked(bot):
    user = await bot.seller()
    _, message = await queued_reminder(bot, user, "Maria Silva", MARIA)
    await dropped_session(bot, user)
    screen = await open_screen(bot, user)
    done = row_of(screen, "📲 Abrir Maria Silva")[1]["callback_data"]
    async with bot.uow_factory() as uow:  # the dispatcher claims it before the tap
        await uow.outbox.set_status(message.account_id, message.id, OutboxStatus.SENDING)
        await uow.commit()

    await user.press_data(done, message=screen)
    warned = await user.wait_for_message(contains="já saiu (ou está saindo agora)")
    assert "Não envie pelo link" in warned.text
    assert "Nenhuma mensagem está esperando" in warned.text
    assert (await stored(bot, message)).status is OutboxStatus.SENDING


async def test_another_sellers_or_an_unknown_message_is_not_found(bot):
    ana = await bot.seller()
    bia = await bot.seller(1002, "Bia")
    _, theirs = await queued_reminder(bot, bia, "Cliente da Bia", MARIA)
    _, mine = await queued_reminder(bot, ana, "Maria Silva", JOAO)
    await dropped_session(bot, ana)

    for message_id in (theirs.id, mine.id + 1000):
        await open_screen(bot, ana)
        await ana.press_data(bot.services.signer.sign(ana.id, f"wa:hand:ok:{message_id}"))
        answer = await ana.wait_for_message(contains="Não achei essa mensagem")
        assert "1. Maria Silva: " in answer.text
    assert (await stored(bot, theirs)).status is OutboxStatus.QUEUED
    assert (await stored(bot, mine)).status is OutboxStatus.QUEUED

    forged = await ana.press_data(f"wa:hand:ok:{mine.id}~forgedsig0")
    await ana.wait_for_answer(forged)
    assert forged.answer_text == "Botão inválido."
    assert (await stored(bot, mine)).status is OutboxStatus.QUEUED


async def test_with_whatsapp_connected_nothing_is_offered_by_hand(bot):
    user = await bot.seller()
    await queued_reminder(bot, user, "Maria Silva", MARIA)
    session_id = session_id_for(await account_id(bot, user))
    await bot.whatsapp.start_session(session_id)
    bot.whatsapp.scan(session_id, SELLER_PHONE)
    screen = await open_screen(bot, user)
    assert "está conectado" in screen.text
    assert "Maria Silva" not in screen.text
    assert "✅ Já enviei" not in screen.buttons


async def test_a_long_queue_shows_five_and_how_many_wait(bot):
    user = await bot.seller()
    for n in range(6):
        await queued_reminder(bot, user, f"Cliente {n}", f"+55119888800{n:02d}")
    await dropped_session(bot, user)
    screen = await open_screen(bot, user)
    assert "Mostrando 5 de 6" in screen.text
    assert screen.buttons.count("✅ Já enviei") == 5
    assert "5. Cliente 4: " in screen.text
    assert "Cliente 5" not in screen.text


async def test_with_the_whatsapp_service_down_messages_can_still_go_by_hand(bot):
    user = await bot.seller()
    await queued_reminder(bot, user, "Maria Silva", MARIA)
    bot.whatsapp.down = True
    await user.press("📱 WhatsApp")
    down = await user.wait_for_message(contains="fora do ar")
    await user.press("✋ Enviar à mão (1)", message=down)
    screen = await user.wait_for_message(contains=TITLE)
    assert "📲 Abrir Maria Silva" in screen.buttons

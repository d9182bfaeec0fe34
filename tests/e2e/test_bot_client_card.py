"""The client card and everything done from it — as a seller sees it, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

from attrs import evolve
from loguru import logger

from clientmgr.adapters.telegram.views import client_label
from clientmgr.core.cycles import BillingCycle
from clientmgr.core.outbox import OutboxStatus
from clientmgr.core.payments import PaymentMethod
from clientmgr.core.templates import TemplateKind
from clientmgr.services import clients, payments, reminders

TODAY = date(2026, 3, 4)  # the harness clock: 10:00 in São Paulo
ODD_NAME = "<b>_*[x] 😀"


async def account_id(bot, user) -> int:
    account = await bot.services.account_for(user.id)
    return account.id


async def add(bot, user, name="Maria Silva", phone="+5511988887777", **extra):
    fields = {"price": Decimal("35.90"), "due_date": date(2026, 3, 10), "plan": "Plano Mensal"}
    fields.update(extra)
    return await clients.add_client(
        bot.uow_factory,
        bot.clock,
        await account_id(bot, user),
        clients.AddClient(name=name, phone=phone, **fields),
    )


async def set_flags(bot, client, **flags):
    async with bot.uow_factory() as uow:
        stored = await uow.clients.get(client.account_id, client.id)
        await uow.clients.update(evolve(stored, **flags))
        await uow.commit()


async def stored(bot, client):
    async with bot.uow_factory() as uow:
        return await uow.clients.get(client.account_id, client.id)


async def stored_payments(bot, client):
    async with bot.uow_factory() as uow:
        return list(await uow.payments.list_for_client(client.account_id, client.id))


async def stored_outbox(bot, client):
    async with bot.uow_factory() as uow:
        return list(await uow.outbox.list_for_client(client.account_id, client.id))


async def open_card(bot, user, client):
    """Press the card button exactly as the bot would have signed it for this seller."""
    await user.press_data(bot.services.signer.sign(user.id, f"cc:card:{client.id}"))
    return await user.wait_for_message(contains="📅 Vencimento")


def data_of(message, label: str) -> str:
    return next(b["callback_data"] for row in message.keyboard for b in row if b["text"] == label)


def url_of(message, label: str) -> str:
    return next(b["url"] for row in message.keyboard for b in row if b["text"] == label)


async def connect_whatsapp(bot, user) -> None:
    session = f"acc-{await account_id(bot, user)}"
    await bot.whatsapp.start_session(session)
    bot.whatsapp.scan(session, "+5511911112222")


# --- the card ------------------------------------------------------------------------------


async def test_card_opened_from_the_list_shows_everything(bot):
    user = await bot.seller()
    client = await add(bot, user, notes="Paga sempre no dinheiro")
    label = client_label(client, TODAY)
    await user.press("👥 Clientes")
    await user.wait_for_message(where=lambda m: label in m.buttons)
    await user.press(label)
    card = await user.wait_for_message(contains="📅 Vencimento")
    for part in (
        "Maria Silva",
        "(11) 98888-7777",
        "Plano Mensal",
        "R$ 35,90",
        "mensal",
        "10/03/2026",
        "em dia — vence em 6 dias",
        "Paga sempre no dinheiro",
    ):
        assert part in card.text, part
    assert card.buttons == [
        "💰 Registrar pagamento",
        "📲 Enviar lembrete agora",
        "✏️ Editar",
        "⏸️ Pausar",
        "🧾 Histórico",
        "🗄️ Arquivar",
        "⬅️ Clientes",
        "🏠 Menu",
    ]
    await user.press("⬅️ Clientes")
    await user.wait_for_message(where=lambda m: label in m.buttons)


async def test_card_status_and_marks(bot):
    user = await bot.seller()
    today = await add(bot, user, name="Hoje", phone="+5511977776666", due_date=TODAY)
    late = await add(bot, user, name="Atrasada", phone="+5511966665555", due_date=date(2026, 3, 1))
    await set_flags(bot, late, paused=True, opted_out=True)
    card = await open_card(bot, user, today)
    assert "vence hoje" in card.text
    card = await open_card(bot, user, late)
    assert "vencido há 3 dias" in card.text
    assert "Pausado" in card.text
    assert "Pediu para não receber mensagens" in card.text
    assert "▶️ Reativar" in card.buttons


async def test_an_odd_name_renders_on_the_card(bot):
    user = await bot.seller()
    client = await add(bot, user, name=ODD_NAME, notes="<i>não</i> & [link](x)")
    card = await open_card(bot, user, client)
    assert ODD_NAME in card.text
    assert "<i>não</i> & [link](x)" in card.text
    assert "&lt;b&gt;" in card.html  # shown as typed, not as bold
    await user.press("🧾 Histórico")
    hist = await user.wait_for_message(contains="Histórico de")
    assert ODD_NAME in hist.text


# --- payment -------------------------------------------------------------------------------


async def test_pay_one_then_three_periods_and_double_tap_records_once(bot):
    user = await bot.seller()
    client = await add(bot, user)
    await open_card(bot, user, client)
    await user.press("💰 Registrar pagamento")
    ask = await user.wait_for_message(contains="Quantos períodos")
    assert "1 × R$ 35,90 · vence 10/04/2026" in ask.buttons
    assert "3 × R$ 107,70 · vence 10/06/2026" in ask.buttons
    await user.press("1 × R$ 35,90 · vence 10/04/2026")
    confirm = await user.wait_for_message(contains="Confirme o pagamento")
    assert "Novo vencimento: 10/04/2026" in confirm.text
    pix = data_of(confirm, "✅ PIX")
    cash = data_of(confirm, "✅ Dinheiro")
    await user.press("✅ PIX")
    done = await user.wait_for_message(contains="Pagamento registrado")
    assert "✅ Pagamento registrado. Próximo vencimento: 10/04/2026" in done.text
    assert "📲 Enviar recibo por WhatsApp" in done.buttons

    # the same confirm screen again (double tap, or the other method): recorded once
    await user.press_data(pix, message=confirm)
    again = await user.wait_for_message(contains="já estava registrado")
    assert "Próximo vencimento: 10/04/2026" in again.text
    await user.wait_for_answer(await user.press_data(cash, message=confirm))
    await bot.emulator.wait_idle()
    assert "já estava registrado" in user.last_message.text
    [paid] = await stored_payments(bot, client)
    assert (paid.amount, paid.method, paid.periods) == (Decimal("35.90"), PaymentMethod.PIX, 1)
    assert (await stored(bot, client)).due_date == date(2026, 4, 10)

    # a new payment is a new confirm screen, with its own key
    await user.press("⬅️ Voltar ao cliente")
    await user.wait_for_message(contains="10/04/2026")
    await user.press("💰 Registrar pagamento")
    await user.wait_for_message(contains="Quantos períodos")
    await user.press("3 × R$ 107,70 · vence 10/07/2026")
    confirm = await user.wait_for_message(contains="Confirme o pagamento")
    assert "3 períodos (mensal)" in confirm.text
    await user.press("✅ Dinheiro")
    await user.wait_for_message(contains="Próximo vencimento: 10/07/2026")
    newest, first = await stored_payments(bot, client)
    assert first == paid
    assert (newest.amount, newest.method, newest.periods) == (
        Decimal("107.70"),
        PaymentMethod.CASH,
        3,
    )
    assert (await stored(bot, client)).due_date == date(2026, 7, 10)


async def test_receipt_is_queued_once(bot):
    user = await bot.seller()
    client = await add(bot, user, name=ODD_NAME)
    await open_card(bot, user, client)
    await user.press("💰 Registrar pagamento")
    await user.wait_for_message(contains="Quantos períodos")
    await user.press("2 × R$ 71,80 · vence 10/05/2026")
    await user.wait_for_message(contains="Confirme")
    await user.press("✅ Transferência")
    paid = await user.wait_for_message(contains="Pagamento registrado")
    receipt_button = data_of(paid, "📲 Enviar recibo por WhatsApp")
    await user.press("📲 Enviar recibo por WhatsApp")
    queued = await user.wait_for_message(contains="Recibo na fila de envio")
    assert ODD_NAME in queued.text
    assert "R$ 71,80" in queued.text
    assert "não está conectado" in queued.text
    assert "📱 Conectar WhatsApp" in queued.buttons
    link = urlsplit(url_of(queued, "💬 Abrir no WhatsApp"))
    assert (link.netloc, link.path) == ("wa.me", "/5511988887777")
    [message] = await stored_outbox(bot, client)
    assert message.kind is TemplateKind.RECEIPT
    assert message.status is OutboxStatus.QUEUED
    assert parse_qs(link.query)["text"] == [message.text]
    [payment] = await stored_payments(bot, client)
    assert message.dedupe_key == f"receipt:{client.account_id}:{payment.id}"
    await user.wait_for_answer(await user.press_data(receipt_button, message=queued))
    await bot.emulator.wait_idle()
    assert len(await stored_outbox(bot, client)) == 1


async def test_expired_seller_records_payment_but_cannot_send_receipt(bot):
    user = await bot.seller()
    client = await add(bot, user)
    bot.clock.advance(days=11)  # 7 days of trial + 3 of grace, and then some
    await open_card(bot, user, client)
    await user.press("💰 Registrar pagamento")
    await user.wait_for_message(contains="Quantos períodos")
    await user.press("1 × R$ 35,90 · vence 10/04/2026")
    await user.wait_for_message(contains="Confirme")
    await user.press("✅ PIX")
    await user.wait_for_message(contains="Pagamento registrado")
    assert len(await stored_payments(bot, client)) == 1
    await user.press("📲 Enviar recibo por WhatsApp")
    refused = await user.wait_for_message(contains="assinatura venceu")
    assert "💳 Renovar assinatura" in refused.buttons
    assert await stored_outbox(bot, client) == []
    await open_card(bot, user, client)
    await user.press("✏️ Editar")  # refused before anything is typed
    await user.wait_for_message(contains="assinatura venceu")


# --- remind now ----------------------------------------------------------------------------


async def test_remind_now_previews_then_queues_once(bot):
    user = await bot.seller()
    client = await add(bot, user, name=ODD_NAME)
    await open_card(bot, user, client)
    await user.press("📲 Enviar lembrete agora")
    preview = await user.wait_for_message(contains="Esta é a mensagem que vai sair")
    shown = await reminders.preview_reminder(
        bot.uow_factory, bot.clock, client.account_id, client.id
    )
    assert shown.text in preview.text
    assert "Ficou vazio na mensagem: {pix}" in preview.text  # no PIX key saved in onboarding
    assert "não está conectado" in preview.text
    assert "📱 Conectar WhatsApp" in preview.buttons
    assert url_of(preview, "💬 Abrir no WhatsApp") == shown.whatsapp_link
    send = data_of(preview, "✅ Enviar")
    await user.press("✅ Enviar")
    queued = await user.wait_for_message(contains="Lembrete na fila de envio")
    assert "📤 Lembrete na fila de envio" in queued.text
    await user.wait_for_answer(await user.press_data(send, message=preview))  # double tap
    await bot.emulator.wait_idle()
    assert "Lembrete na fila de envio" in user.last_message.text
    [message] = await stored_outbox(bot, client)
    assert message.kind is TemplateKind.BEFORE_DUE
    assert message.text == shown.text


async def test_remind_now_with_whatsapp_connected_says_nothing_about_it(bot):
    user = await bot.seller()
    await connect_whatsapp(bot, user)
    client = await add(bot, user, due_date=TODAY)
    await open_card(bot, user, client)
    await user.press("📲 Enviar lembrete agora")
    preview = await user.wait_for_message(contains="cobrança do dia")
    assert "não está conectado" not in preview.text
    assert "📱 Conectar WhatsApp" not in preview.buttons
    await user.press("✅ Enviar")
    queued = await user.wait_for_message(contains="Lembrete na fila de envio")
    assert "não está conectado" not in queued.text
    [message] = await stored_outbox(bot, client)
    assert message.kind is TemplateKind.DUE_TODAY


async def test_opted_out_and_paused_clients_are_refused(bot):
    user = await bot.seller()
    opted = await add(bot, user, name="Sem Mensagens")
    paused = await add(bot, user, name="Em Pausa", phone="+5511977776666")
    await set_flags(bot, opted, opted_out=True)
    await set_flags(bot, paused, paused=True)
    await open_card(bot, user, opted)
    await user.press("📲 Enviar lembrete agora")
    await user.wait_for_message(contains="Esta é a mensagem")
    await user.press("✅ Enviar")
    refused = await user.wait_for_message(contains="pediu para não receber mensagens")
    assert "Sem Mensagens" in refused.text
    assert "⬅️ Voltar ao cliente" in refused.buttons
    await open_card(bot, user, paused)
    await user.press("📲 Enviar lembrete agora")
    await user.wait_for_message(contains="Esta é a mensagem")
    await user.press("✅ Enviar")
    await user.wait_for_message(contains="está pausado")
    assert await stored_outbox(bot, opted) == []
    assert await stored_outbox(bot, paused) == []


# --- edit ----------------------------------------------------------------------------------


async def edit(user, field: str) -> None:
    await user.press("✏️ Editar")
    await user.wait_for_message(contains="O que você quer mudar?")
    await user.press(field)
    await user.wait_for_message(contains="Exemplo")


async def test_edit_name_and_phone(bot):
    user = await bot.seller()
    client = await add(bot, user)
    await add(bot, user, name="Outra", phone="+5521999998888")
    await open_card(bot, user, client)

    await edit(user, "Nome")
    await user.send(ODD_NAME)
    saved = await user.wait_for_message(contains="Alteração salva")
    assert ODD_NAME in saved.text

    await edit(user, "Telefone")
    await user.send("123")
    wrong = await user.wait_for_message(contains="⚠️")
    assert "Exemplo" in wrong.text
    await user.send("(21) 99999-8888")  # another client's number
    taken = await user.wait_for_message(contains="já é de outro cliente")
    assert "👤 Abrir o outro cliente" in taken.buttons
    await user.send("+55 31 9 8765-4321")
    saved = await user.wait_for_message(contains="Alteração salva")
    assert "(31) 98765-4321" in saved.text
    after = await stored(bot, client)
    assert (after.name, after.phone) == (ODD_NAME, "+5531987654321")


async def test_edit_plan_and_notes(bot):
    user = await bot.seller()
    client = await add(bot, user, notes="antiga")
    await open_card(bot, user, client)

    await edit(user, "Plano")
    await user.send("x" * 61)
    wrong = await user.wait_for_message(contains="até 60 letras")
    assert "IPTV Completo" in wrong.text
    await user.send("-")
    saved = await user.wait_for_message(contains="Alteração salva")
    assert "sem plano" in saved.text

    await edit(user, "Observações")
    await user.send("Prefere PIX\nCliente desde 2020")
    saved = await user.wait_for_message(contains="Alteração salva")
    assert "Cliente desde 2020" in saved.text
    after = await stored(bot, client)
    assert (after.plan, after.notes) == ("", "Prefere PIX\nCliente desde 2020")


async def test_edit_price_and_cycle(bot):
    user = await bot.seller()
    client = await add(bot, user)
    await open_card(bot, user, client)

    await edit(user, "Valor")
    await user.send("muito")
    wrong = await user.wait_for_message(contains="⚠️")
    assert "Exemplo" in wrong.text
    await user.send("49,9")
    saved = await user.wait_for_message(contains="Alteração salva")
    assert "R$ 49,90" in saved.text

    await edit(user, "Ciclo")
    await user.send("de vez em quando")
    await user.wait_for_message(contains="Não entendi o ciclo")
    await user.send("trimestral")
    saved = await user.wait_for_message(contains="Alteração salva")
    assert "trimestral" in saved.text
    after = await stored(bot, client)
    assert (after.price, after.cycle) == (Decimal("49.90"), BillingCycle.monthly(3))


async def test_edit_due_date(bot):
    user = await bot.seller()
    client = await add(bot, user)
    await open_card(bot, user, client)
    await edit(user, "Vencimento")
    await user.send("31/02")
    wrong = await user.wait_for_message(contains="⚠️")
    assert "Exemplo" in wrong.text
    await user.send("dia 15")
    saved = await user.wait_for_message(contains="Alteração salva")
    assert "15/03/2026" in saved.text
    after = await stored(bot, client)
    assert (after.due_date, after.anchor_day) == (date(2026, 3, 15), 15)


async def test_edit_survives_a_restart_and_cancel_changes_nothing(bot):
    user = await bot.seller()
    client = await add(bot, user)
    await open_card(bot, user, client)
    await edit(user, "Valor")
    await bot.restart()
    await user.send("50")
    saved = await user.wait_for_message(contains="Alteração salva")
    assert "R$ 50,00" in saved.text

    await edit(user, "Nome")
    await user.send("/cancelar")
    await user.wait_for_message(contains="cancelei")
    await user.send("Nome que não vale")
    await user.wait_for_message(contains="Não entendi")
    after = await stored(bot, client)
    assert (after.name, after.price) == ("Maria Silva", Decimal("50.00"))


# --- pause, history, archive ---------------------------------------------------------------


async def test_pause_and_resume_update_the_card_in_place(bot):
    user = await bot.seller()
    client = await add(bot, user)
    card = await open_card(bot, user, client)
    await user.press("⏸️ Pausar")
    paused = await user.wait_for_message(contains="Pausado")
    assert paused.message_id == card.message_id
    assert "▶️ Reativar" in paused.buttons
    assert (await stored(bot, client)).paused
    await user.press("▶️ Reativar")
    resumed = await user.wait_for_message(
        contains="em dia", where=lambda m: "Pausado" not in m.text
    )
    assert "⏸️ Pausar" in resumed.buttons
    assert not (await stored(bot, client)).paused


async def test_history_shows_payments_and_messages_with_ticks(bot):
    user = await bot.seller()
    client = await add(bot, user)
    aid = client.account_id
    empty = await open_card(bot, user, client)
    await user.press("🧾 Histórico", message=empty)
    await user.wait_for_message(contains="Ainda não há pagamentos nem mensagens")

    await payments.record_payment(
        bot.uow_factory, bot.clock, aid, payments.RecordPayment(client_id=client.id, periods=2)
    )
    bot.clock.advance(hours=1)
    delivered = await reminders.queue_reminder_now(bot.uow_factory, bot.clock, aid, client.id, "a")
    bot.clock.advance(hours=1)
    failed = await reminders.queue_reminder_now(bot.uow_factory, bot.clock, aid, client.id, "b")
    bot.clock.advance(hours=1)
    await reminders.queue_reminder_now(bot.uow_factory, bot.clock, aid, client.id, "c")
    async with bot.uow_factory() as uow:
        await uow.outbox.set_status(aid, delivered.id, OutboxStatus.DELIVERED)
        await uow.outbox.set_status(
            aid, failed.id, OutboxStatus.FAILED, error="O número não tem WhatsApp."
        )
        await uow.commit()

    await open_card(bot, user, client)
    await user.press("🧾 Histórico")
    hist = await user.wait_for_message(contains="Histórico de")
    lines = [line for line in hist.text.splitlines() if line.startswith(("💰", "💬"))]
    assert len(lines) == 4
    assert "🕓 na fila" in lines[0]
    assert "13:00" in lines[0]
    assert "❌ falhou: O número não tem WhatsApp." in lines[1]
    assert "✔️✔️ entregue" in lines[2]
    assert lines[3].startswith("💰 04/03/2026 10:00")
    assert "R$ 71,80" in lines[3]
    assert "PIX" in lines[3]
    assert "2 períodos" in lines[3]
    assert "⬅️ Voltar ao cliente" in hist.buttons


async def test_archive_asks_first_and_old_buttons_then_answer_gracefully(bot):
    user = await bot.seller()
    client = await add(bot, user)
    card = await open_card(bot, user, client)
    pay_button = data_of(card, "💰 Registrar pagamento")
    await user.press("🗄️ Arquivar")
    ask = await user.wait_for_message(contains="Tem certeza? O histórico fica guardado.")
    await user.press("⬅️ Não, voltar", message=ask)
    await user.wait_for_message(contains="📅 Vencimento")
    assert not (await stored(bot, client)).archived
    await user.press("🗄️ Arquivar")
    await user.wait_for_message(contains="Tem certeza?")
    await user.press("🗄️ Sim, arquivar")
    done = await user.wait_for_message(contains="foi arquivado")
    assert "⬅️ Clientes" in done.buttons
    assert (await stored(bot, client)).archived

    await user.press_data(pay_button)
    old = await user.wait_for_message(contains="Esse cliente foi arquivado")
    assert "🧾 Histórico" in old.buttons
    assert await stored_payments(bot, client) == []
    card = await open_card(bot, user, client)  # still readable, with its history only
    assert "Arquivado" in card.text
    assert "💰 Registrar pagamento" not in card.buttons


async def test_a_forged_card_button_reveals_nothing(bot):
    ana = await bot.seller()
    secret = await add(bot, ana, name="Cliente Secreta")
    bia = await bot.seller(id=1002, first_name="Bia")
    warnings: list[str] = []
    sink = logger.add(lambda m: warnings.append(str(m)), level="WARNING")
    try:
        query = await bia.press_data(bot.services.signer.sign(bia.id, f"cc:card:{secret.id}"))
        answer = await bia.wait_for_answer(query)
        menu = await bia.wait_for_message(contains="Menu principal")
    finally:
        logger.remove(sink)
    assert answer.answer_text
    assert "antigo" in answer.answer_text
    assert "Cliente Secreta" not in menu.text
    assert all("Cliente Secreta" not in (m.text or "") for m in bia.bot_messages)
    assert any("not in their account" in w and f"cc:card:{secret.id}" in w for w in warnings)

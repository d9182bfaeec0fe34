"""Novo cliente as a seller has it: every step, mistakes, restart, cancel, duplicate phones."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from clientmgr.core.cycles import BillingCycle
from clientmgr.services import clients
from clientmgr.services.clients import AddClient

WEIRD = "<b>_*[x] 😀"


async def _account_id(bot, user) -> int:
    return (await bot.services.account_for(user.id)).id


async def _stored(bot, user):
    page = await clients.list_clients(
        bot.uow_factory, await _account_id(bot, user), today=date(2026, 3, 4), per_page=100
    )
    return list(page.clients)


async def _add(bot, user, name: str, phone: str, due: date = date(2026, 3, 20)):
    cmd = AddClient(name=name, phone=phone, price=Decimal("50.00"), due_date=due)
    return await clients.add_client(bot.uow_factory, bot.clock, await _account_id(bot, user), cmd)


def _payload(message, label: str) -> str:
    data = next(b["callback_data"] for row in message.keyboard for b in row if b["text"] == label)
    return data.rpartition("~")[0]


async def _say(user, text: str, expect: str):
    await user.send(text)
    return await user.wait_for_message(contains=expect)


async def _start(user):
    await user.send("/novo")
    return await user.wait_for_message(contains="Qual é o nome")


async def test_add_a_client_through_the_whole_flow_and_see_it_in_the_list(bot):
    user = await bot.seller()
    await user.press("👥 Clientes")
    await user.wait_for_message(contains="ainda não tem clientes")
    await user.press("➕ Novo cliente")
    ask = await user.wait_for_message(contains="Qual é o nome")
    assert "Maria Silva" in ask.text
    assert "✖️ Cancelar" in ask.buttons
    phone_q = await _say(user, "Maria Silva", "WhatsApp de Maria Silva")
    assert "(11) 98888-7777" in phone_q.text
    plan_q = await _say(user, "(11) 98888-7777", "plano")
    assert "IPTV Completo" in plan_q.text
    assert "⏭️ Sem plano" in plan_q.buttons
    price_q = await _say(user, "IPTV Completo", "Quanto")
    assert "35,90" in price_q.text
    due_q = await _say(user, "35,90", "Quando vence")
    assert "dia 10" in due_q.text
    assert "amanhã" in due_q.text
    cycle_q = await _say(user, "10/12", "De quanto em quanto tempo")
    assert {"Mensal", "Trimestral", "Semestral", "Anual", "Semanal"} <= set(cycle_q.buttons)
    await user.press("Mensal")
    confirm = await user.wait_for_message(contains="Confira os dados")
    for shown in ("Maria Silva", "(11) 98888-7777", "IPTV Completo", "R$ 35,90", "10/12/2026"):
        assert shown in confirm.text
    assert "mensal" in confirm.text
    assert {"✅ Salvar", "✏️ Corrigir", "✖️ Cancelar"} <= set(confirm.buttons)
    await user.press("✅ Salvar")
    saved = await user.wait_for_message(contains="Cliente salvo")
    assert "Maria Silva" in saved.text
    assert "R$ 35,90" in saved.text
    [client] = await _stored(bot, user)
    assert (client.name, client.phone, client.plan) == (
        "Maria Silva",
        "+5511988887777",
        "IPTV Completo",
    )
    assert (client.price, client.due_date, client.cycle) == (
        Decimal("35.90"),
        date(2026, 12, 10),
        BillingCycle.monthly(),
    )
    assert _payload(saved, "👤 Abrir cliente") == f"cc:card:{client.id}"
    assert _payload(saved, "➕ Outro cliente") == "nc:new"
    await user.press("🏠 Menu")
    await user.wait_for_message(contains="Menu principal")
    await user.press("👥 Clientes")
    listed = await user.wait_for_message(contains="Seus clientes")
    assert "🟢 Maria Silva · 10/12 · R$ 35,90" in listed.buttons


async def test_bad_phone_and_price_are_explained_and_nothing_typed_is_lost(bot):
    user = await bot.seller()
    await _start(user)
    await _say(user, "Maria Silva", "WhatsApp de Maria Silva")
    error = await _say(user, "98888-7777", "Faltou o DDD")
    assert "Exemplo" in error.text
    assert "(11) 98888-7777" in error.text
    assert "✖️ Cancelar" in error.buttons
    error = await _say(user, "11 9888 abc", "letras")
    assert "⚠️" in error.text
    await _say(user, "11988887777", "plano")
    await _say(user, "-", "Quanto")
    error = await _say(user, "trinta reais", "letras")
    assert "35,90" in error.text
    await _say(user, "35,999", "2 números depois da vírgula")
    due_q = await _say(user, "35.9", "Quando vence")
    assert "Maria Silva" in due_q.text
    await _say(user, "dia 10", "De quanto em quanto tempo")
    await user.press("Mensal")
    confirm = await user.wait_for_message(contains="Confira os dados")
    for shown in ("Maria Silva", "(11) 98888-7777", "sem plano", "R$ 35,90", "10/03/2026"):
        assert shown in confirm.text


async def test_bad_date_and_cycle_are_explained_and_nothing_typed_is_lost(bot):
    user = await bot.seller()
    await _start(user)
    await _say(user, "Maria Silva", "WhatsApp")
    await _say(user, "(11) 98888-7777", "plano")
    await _say(user, "IPTV Completo", "Quanto")
    await _say(user, "35,90", "Quando vence")
    error = await _say(user, "32/13", "mês precisa ser de 1 a 12")
    assert "10/12" in error.text
    await _say(user, "30/02", "Fevereiro não tem dia 30")
    await _say(user, "amanhã", "De quanto em quanto tempo")
    error = await _say(user, "quinzenal", "Não entendi o ciclo")
    assert "mensal" in error.text
    confirm = await _say(user, "a cada 2 meses", "Confira os dados")
    for shown in ("Maria Silva", "(11) 98888-7777", "IPTV Completo", "R$ 35,90", "05/03/2026"):
        assert shown in confirm.text
    assert "bimestral" in confirm.text
    await user.press("✅ Salvar")
    await user.wait_for_message(contains="Cliente salvo")
    [client] = await _stored(bot, user)
    assert client.due_date == date(2026, 3, 5)
    assert client.cycle == BillingCycle.monthly(2)


async def test_the_flow_survives_a_restart(bot):
    user = await bot.seller()
    await _start(user)
    await _say(user, "Maria Silva", "WhatsApp")
    await _say(user, "(21) 97777-6666", "plano")
    await bot.restart()
    await _say(user, "Mensal", "Quanto")
    await bot.restart()
    await _say(user, "20", "Quando vence")
    await _say(user, "amanhã", "De quanto em quanto tempo")
    await user.press("Semanal")
    confirm = await user.wait_for_message(contains="Confira os dados")
    assert "(21) 97777-6666" in confirm.text
    assert "05/03/2026" in confirm.text
    await bot.restart()
    await user.press("✅ Salvar")
    await user.wait_for_message(contains="Cliente salvo")
    [client] = await _stored(bot, user)
    assert (client.name, client.phone, client.price) == (
        "Maria Silva",
        "+5521977776666",
        Decimal("20.00"),
    )
    assert client.cycle == BillingCycle.weekly()


async def test_cancel_in_the_middle_saves_nothing(bot):
    user = await bot.seller()
    await _start(user)
    await _say(user, "Maria Silva", "WhatsApp")
    await _say(user, "(11) 98888-7777", "plano")
    await user.send("/cancelar")
    await user.wait_for_message(contains="cancelei")
    await _say(user, "35,90", "Não entendi")  # no longer in the flow
    await _start(user)
    await _say(user, "Bia", "WhatsApp de Bia")
    await user.press("✖️ Cancelar")
    await user.wait_for_message(contains="cancelei")
    assert await _stored(bot, user) == []


async def test_cancel_on_the_confirm_screen_and_old_buttons_afterwards(bot):
    user = await bot.seller()
    await _start(user)
    await _say(user, "Maria Silva", "WhatsApp")
    await _say(user, "(11) 98888-7777", "plano")
    await _say(user, "-", "Quanto")
    await _say(user, "35,90", "Quando vence")
    await _say(user, "10/12", "De quanto")
    await user.press("Anual")
    confirm = await user.wait_for_message(contains="Confira os dados")
    save_data = next(
        b["callback_data"] for row in confirm.keyboard for b in row if "Salvar" in b["text"]
    )
    await user.press("✖️ Cancelar")
    await user.wait_for_message(contains="cancelei")
    await user.press_data(save_data, message=confirm)
    gone = await user.wait_for_message(contains="já foi encerrado")
    assert "➕ Novo cliente" in gone.buttons
    assert await _stored(bot, user) == []


async def test_correct_one_field_on_the_confirm_screen(bot):
    user = await bot.seller()
    await _start(user)
    await _say(user, "Maria Silva", "WhatsApp")
    await _say(user, "(11) 98888-7777", "plano")
    await _say(user, "IPTV", "Quanto")
    await _say(user, "35,90", "Quando vence")
    await _say(user, "10/12", "De quanto")
    await user.press("Mensal")
    await user.wait_for_message(contains="Confira os dados")
    await user.press("✏️ Corrigir")
    picker = await user.wait_for_message(contains="O que você quer corrigir")
    assert {"Nome", "Telefone", "Plano", "Valor", "Vencimento", "Ciclo"} <= set(picker.buttons)
    await user.press("Valor")
    ask = await user.wait_for_message(contains="Quanto")
    assert "Agora está: R$ 35,90" in ask.text
    await _say(user, "abc", "letras")
    confirm = await _say(user, "40", "Confira os dados")
    assert "R$ 40,00" in confirm.text
    assert "Maria Silva" in confirm.text
    assert "IPTV" in confirm.text
    await user.press("✅ Salvar")
    await user.wait_for_message(contains="Cliente salvo")
    [client] = await _stored(bot, user)
    assert client.price == Decimal("40.00")
    assert client.plan == "IPTV"


async def test_typing_on_the_confirm_screen_and_correcting_the_cycle(bot):
    user = await bot.seller()
    await _start(user)
    await _say(user, "Maria Silva", "WhatsApp")
    await _say(user, "(11) 98888-7777", "plano")
    await _say(user, "-", "Quanto")
    await _say(user, "35,90", "Quando vence")
    await _say(user, "10/12", "De quanto")
    await user.press("Anual")
    await user.wait_for_message(contains="Confira os dados")
    again = await _say(user, "ok", "Use os botões")
    assert "Confira os dados" in again.text
    assert "✅ Salvar" in again.buttons
    await user.press("✏️ Corrigir")
    await user.wait_for_message(contains="O que você quer corrigir")
    await user.press("Ciclo")
    await user.wait_for_message(contains="Agora está: anual")
    await user.press("Trimestral")
    confirm = await user.wait_for_message(contains="Confira os dados")
    assert "trimestral" in confirm.text
    await user.press("✅ Salvar")
    await user.wait_for_message(contains="Cliente salvo")
    [client] = await _stored(bot, user)
    assert client.cycle == BillingCycle.monthly(3)


async def test_a_phone_already_used_offers_the_existing_client(bot):
    user = await bot.seller()
    joao = await _add(bot, user, "João Souza", "+5511988887777")
    await _start(user)
    await _say(user, "Maria Silva", "WhatsApp")
    dup = await _say(user, "11 98888-7777", "já é do cliente")
    assert "João Souza" in dup.text
    assert "(11) 98888-7777" in dup.text
    assert _payload(dup, "👤 Abrir cliente existente") == f"cc:card:{joao.id}"
    await _say(user, "(11) 97777-6666", "plano")
    await _say(user, "-", "Quanto")
    await _say(user, "10", "Quando vence")
    await _say(user, "dia 20", "De quanto")
    await user.press("Mensal")
    await user.wait_for_message(contains="Confira os dados")
    # Someone else took that number while the seller was confirming (another device, an import).
    bia = await _add(bot, user, "Bia", "+5511977776666")
    await user.press("✅ Salvar")
    dup = await user.wait_for_message(contains="já é do cliente")
    assert "Bia" in dup.text
    assert _payload(dup, "👤 Abrir cliente existente") == f"cc:card:{bia.id}"
    confirm = await _say(user, "(11) 96666-5555", "Confira os dados")
    assert "Maria Silva" in confirm.text
    assert "(11) 96666-5555" in confirm.text
    await user.press("✅ Salvar")
    await user.wait_for_message(contains="Cliente salvo")
    names = sorted(c.name for c in await _stored(bot, user))
    assert names == ["Bia", "João Souza", "Maria Silva"]


async def test_a_name_with_html_and_emoji_shows_as_typed(bot):
    user = await bot.seller()
    await _start(user)
    phone_q = await _say(user, WEIRD, "WhatsApp de")
    assert WEIRD in phone_q.text
    await _say(user, "(11) 98888-7777", "plano")
    await _say(user, "<i>Plano</i> & cia", "Quanto")
    await _say(user, "35,90", "Quando vence")
    await _say(user, "10/03", "De quanto")
    await user.press("Mensal")
    confirm = await user.wait_for_message(contains="Confira os dados")
    assert WEIRD in confirm.text
    assert "<i>Plano</i> & cia" in confirm.text
    await user.press("✅ Salvar")
    saved = await user.wait_for_message(contains="Cliente salvo")
    assert WEIRD in saved.text
    await user.send("/clientes")
    listed = await user.wait_for_message(contains="Seus clientes")
    assert f"🟡 {WEIRD} · 10/03 · R$ 35,90" in listed.buttons
    [client] = await _stored(bot, user)
    assert client.name == WEIRD


async def test_an_expired_seller_cannot_add_but_still_sees_the_list(bot):
    user = await bot.seller()
    await _add(bot, user, "Maria Silva", "+5511988887777")
    bot.clock.advance(days=15)
    await user.send("/clientes")
    listed = await user.wait_for_message(contains="Seus clientes")
    assert any("Maria Silva" in label for label in listed.buttons)
    await user.press("➕ Novo cliente")
    expired = await user.wait_for_message(contains="assinatura venceu")
    assert "💳 Renovar assinatura" in expired.buttons
    assert any("Maria Silva" in label for label in listed.buttons)
    assert (
        "Seus clientes"
        in next(m for m in user.bot_messages if m.message_id == listed.message_id).text
    )
    await user.send("/novo")
    await user.wait_for_message(contains="assinatura venceu")
    await _say(user, "Bia", "Não entendi")  # no flow was started
    assert [c.name for c in await _stored(bot, user)] == ["Maria Silva"]

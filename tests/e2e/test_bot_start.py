"""/start, onboarding, menu, help, cancel, forged buttons, flood — as a seller sees them."""

from __future__ import annotations

from clientmgr.adapters.telegram.application import COMMANDS


async def test_start_registers_a_trial_and_onboards(bot):
    user = bot.user()
    await user.send("/start")
    welcome = await user.wait_for_message(contains="7 dias grátis")
    assert "Ana" in welcome.text
    await user.wait_for_message(contains="nome do seu negócio")
    await user.send("Ana Fitness")
    await user.wait_for_message(contains="chave PIX")
    await user.send("ana@")  # a bad key is explained, and asked again
    error = await user.wait_for_message(contains="Chave PIX inválida")
    assert "⚠️" in error.text
    await user.send("ana@example.com")
    await user.wait_for_message(contains="cidade")
    await user.send("São Paulo")
    menu = await user.wait_for_message(contains="Menu principal")
    assert "teste grátis, 7 dia(s)" in menu.text
    assert "👥 Clientes" in menu.buttons
    account = await bot.services.account_for(user.id)
    assert (account.business_name, account.pix_key, account.pix_city) == (
        "Ana Fitness",
        "ana@example.com",
        "São Paulo",
    )
    [announced] = bot.emulator.bot.commands.values()
    commands = [c["command"] for c in announced]
    assert commands == list(COMMANDS)


async def test_second_start_shows_the_menu_without_onboarding(bot):
    user = await bot.seller()
    await user.send("/start")
    msg = await user.wait_for_message(contains="Olá de novo")
    assert "Menu principal" in msg.text


async def test_onboarding_survives_a_restart(bot):
    user = bot.user()
    await user.send("/start")
    await user.wait_for_message(contains="nome do seu negócio")
    await bot.restart()
    await user.send("Ana Fitness")
    await user.wait_for_message(contains="chave PIX")
    account = await bot.services.account_for(user.id)
    assert account.business_name == "Ana Fitness"


async def test_help_and_back_to_menu(bot):
    user = await bot.seller()
    await user.press("❓ Ajuda")
    helped = await user.wait_for_message(contains="Como usar")
    assert "(11) 98888-7777" in helped.text
    await user.press("🏠 Menu")
    await user.wait_for_message(contains="Menu principal")


async def test_cancel_leaves_the_flow(bot):
    user = bot.user()
    await user.send("/start")
    await user.wait_for_message(contains="nome do seu negócio")
    await user.send("/cancelar")
    await user.wait_for_message(contains="cancelei")
    await user.send("isto não é um nome de negócio")
    await user.wait_for_message(contains="Não entendi")
    account = await bot.services.account_for(user.id)
    assert account.business_name is None


async def test_unknown_user_pressing_buttons_is_asked_to_start(bot):
    user = bot.user(id=4242)
    await user.send("oi")
    await user.wait_for_message(contains="/start")


async def test_a_button_signed_for_someone_else_is_refused(bot):
    ana = await bot.seller()
    bia = await bot.seller(id=1002, first_name="Bia")
    menu = ana.last_message
    data = next(b["callback_data"] for row in menu.keyboard for b in row if "Ajuda" in b["text"])
    query = await bia.press_data(data)
    answer = await bia.wait_for_answer(query)
    assert answer.answer_text == "Botão inválido."
    assert answer.show_alert
    assert "Como usar" not in (bia.last_message.text or "")


async def test_flood_gets_a_friendly_answer(bot):
    user = await bot.seller()
    for _ in range(25):
        await user.send("oi")
    msg = await user.wait_for_message(contains="Calma!")
    assert "Espere alguns segundos" in msg.text


async def test_telegram_flood_errors_are_retried_not_shown(bot):
    """Telegram answers 429 when a chat gets too many messages: the rate limiter waits and
    retries, so the seller still gets every message and no error reaches a handler."""
    from clientmgr.fakes.telegram import FloodControl

    user = bot.user()
    bot.emulator.bot.flood = FloodControl(limit=1, per=1.0, retry_after=1)
    await user.send("/start")  # welcome + question: the second one is refused once with 429
    await user.wait_for_message(contains="nome do seu negócio", timeout=10)
    refused = [c for c in bot.emulator.failed_calls if c.status == 429]
    assert refused, "the emulator never refused a message: the test proves nothing"
    assert not [m for m in user.bot_messages if "Ops, algo deu errado" in m.content]

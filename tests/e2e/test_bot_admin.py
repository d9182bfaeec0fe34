"""The operator's commands (/admin, /conceder, /avisar): for ADMIN_ID only, invisible to sellers."""

from __future__ import annotations

import time
from datetime import timedelta

from bot_harness import ADMIN_ID

CSV = (
    "nome;telefone;plano;valor;vencimento\r\n"
    "Maria Silva;(11) 98888-7777;Mensal;35,90;10/12\r\n"
    "João;(11) 97777-6666;Mensal;50;15/03\r\n"
).encode()


def _operator(bot):
    """The operator never ran /start: admin commands must not need a seller account."""
    return bot.user(ADMIN_ID, "Operador")


async def _replies_to(bot, user, text):
    """The bot's messages that answer ``text`` (none when it stays silent)."""
    before = len(user.bot_messages)
    await user.send(text)
    await bot.emulator.wait_idle()
    return [m.text for m in user.bot_messages[before:]]


async def test_admin_shows_stats_to_the_operator(bot):
    ana = await bot.seller()
    await bot.seller(id=1002, first_name="Bia")
    await ana.upload("clientes.csv", CSV, "text/csv")
    await ana.wait_for_message(contains="✅ 2 novos")
    operator = _operator(bot)
    await operator.send("/admin")
    stats = await operator.wait_for_message(contains="Painel do operador")
    assert "04/03/2026" in stats.text
    assert "Contas: 2" in stats.text
    assert "em teste grátis: 2" in stats.text
    assert "vencidas: 0" in stats.text
    assert "Clientes: 2" in stats.text
    assert "Receita do mês: R$ 0,00" in stats.text
    assert "/conceder 12 30" in stats.text


async def test_admin_commands_reveal_nothing_to_a_seller(bot):
    seller = await bot.seller()
    unknown = await _replies_to(bot, seller, "/naoexiste")
    assert not any("Painel" in text or "/conceder" in text for text in unknown)
    for command in ("/admin", "/conceder 1 30", "/avisar Oi pessoal", "/conceder"):
        assert await _replies_to(bot, seller, command) == unknown, command
    account = await bot.services.account_for(seller.id)
    assert account.paid_until is None
    # A confirm button is not reachable either (even correctly signed for this seller).
    before = len(seller.bot_messages)
    query = await seller.press_data(bot.services.signer.sign(seller.id, "adm:bc:yes"))
    await seller.wait_for_answer(query)
    await bot.emulator.wait_idle()
    assert len(seller.bot_messages) == before
    assert "Aviso" not in (seller.last_message.text or "")


async def test_grant_days_by_account_id_and_by_telegram_id(bot):
    seller = await bot.seller()
    account = await bot.services.account_for(seller.id)
    operator = _operator(bot)
    await operator.send(f"/conceder {account.id} 30")
    granted = await operator.wait_for_message(contains="✅")
    assert "+30 dia(s)" in granted.text
    assert "Ana Fitness" in granted.text
    assert "10/04/2026" in granted.text  # trial end 11/03 + 30 days
    after = await bot.services.account_for(seller.id)
    assert after.paid_until == account.trial_ends_at + timedelta(days=30)

    await operator.send(f"/conceder @{seller.id} 7")
    await operator.wait_for_message(contains="+7 dia(s)")
    after = await bot.services.account_for(seller.id)
    assert after.paid_until == account.trial_ends_at + timedelta(days=37)

    # The seller sees it in the menu.
    await seller.send("/menu")
    menu = await seller.wait_for_message(contains="Menu principal")
    assert "assinatura ativa" in menu.text


async def test_grant_days_bad_usage_is_explained(bot):
    seller = await bot.seller()
    operator = _operator(bot)
    bad_usage = (
        "/conceder",
        "/conceder 12",
        "/conceder doze 30",
        "/conceder 12 0",
        "/conceder 12 trinta",
    )
    for bad in bad_usage:
        await operator.send(bad)
        usage = await operator.wait_for_message(contains="Use assim")
        assert "/conceder 12 30" in usage.text, bad
    await operator.send("/conceder 999 30")
    missing = await operator.wait_for_message(contains="Não encontrei a conta 999")
    assert "@123456789" in missing.text
    await operator.send("/conceder @777 30")
    await operator.wait_for_message(contains="Não encontrei a conta @777")
    account = await bot.services.account_for(seller.id)
    assert account.paid_until is None


async def test_broadcast_is_paced_and_skips_who_blocked_the_bot(bot):
    bot.application.bot_data["broadcast_interval"] = 0.2
    ana = await bot.seller()
    bia = await bot.seller(id=1002, first_name="Bia")
    caio = await bot.seller(id=1003, first_name="Caio")
    await caio.block()
    operator = _operator(bot)
    await operator.send("/avisar Manutenção hoje às 23h <b>não</b> & amanhã\nvolta em 10 min")
    preview = await operator.wait_for_message(contains="Prévia")
    assert "3 conta(s)" in preview.text
    assert "<b>não</b> & amanhã\nvolta em 10 min" in preview.text  # shown as typed
    started = time.monotonic()
    await operator.press("✅ Enviar para todos")
    report = await operator.wait_for_message(contains="Aviso concluído")
    assert time.monotonic() - started >= 0.4  # two gaps of 0.2 s between three messages
    assert "Enviado para 2; falhou para 1" in report.text
    for seller in (ana, bia):
        got = await seller.wait_for_message(contains="Aviso")
        assert "Manutenção hoje às 23h <b>não</b> & amanhã" in got.text
    assert "Manutenção" not in (caio.last_message.text or "")


async def test_broadcast_confirmation_survives_a_restart_and_sends_once(bot):
    ana = await bot.seller()
    operator = _operator(bot)
    await operator.send("/avisar Novidade: agora dá para importar planilhas!")
    await operator.wait_for_message(contains="Prévia")
    await bot.restart()
    bot.application.bot_data["broadcast_interval"] = 0
    await operator.press("✅ Enviar para todos")
    report = await operator.wait_for_message(contains="Aviso concluído")
    assert "Enviado para 1; falhou para 0" in report.text
    await ana.wait_for_message(contains="Novidade")
    # The same button again (e.g. a double tap) sends nothing more.
    count = sum("Novidade" in (m.text or "") for m in ana.bot_messages)
    await operator.press_data(bot.services.signer.sign(ADMIN_ID, "adm:bc:yes"))
    await operator.wait_for_message(contains="já foi enviado")
    await bot.emulator.wait_idle()
    assert sum("Novidade" in (m.text or "") for m in ana.bot_messages) == count


async def test_broadcast_cancel_and_usage(bot):
    ana = await bot.seller()
    operator = _operator(bot)
    await operator.send("/avisar")
    usage = await operator.wait_for_message(contains="Use assim")
    assert "/avisar Hoje às 23h" in usage.text
    await operator.send("/avisar " + "x" * 3501)
    await operator.wait_for_message(contains="o máximo é 3500")
    await operator.send("/avisar Isto não vai sair")
    await operator.wait_for_message(contains="Prévia")
    await operator.press("✖️ Cancelar")
    await operator.wait_for_message(contains="Aviso cancelado")
    await bot.emulator.wait_idle()
    assert all("não vai sair" not in (m.text or "") for m in ana.bot_messages)

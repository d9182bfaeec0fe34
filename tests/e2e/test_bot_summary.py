"""📊 Resumo as a seller sees it: the month's figures after payments, and the account status."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from clientmgr.services import clients, payments
from clientmgr.services.clients import AddClient
from clientmgr.services.payments import RecordPayment


async def add(bot, account, name: str, days: int, price: str, n: int):
    today = account.local_now(bot.clock.now()).date()
    return await clients.add_client(
        bot.uow_factory,
        bot.clock,
        account.id,
        AddClient(
            name=name,
            phone=f"+55119777{n:05d}",
            price=Decimal(price),
            due_date=today + timedelta(days=days),
        ),
    )


async def test_summary_figures_after_payments(bot):
    user = await bot.seller()
    account = await bot.services.account_for(user.id)
    bruno = await add(bot, account, "Bruno", -5, "50.00", 1)
    await add(bot, account, "Carla", -1, "30.00", 2)
    paused = await add(bot, account, "Pausado", -3, "99.00", 3)
    await add(bot, account, "Diana", 3, "20.00", 4)
    await add(bot, account, "Eva", 20, "70.00", 5)
    await clients.set_paused(bot.uow_factory, bot.clock, account.id, paused.id, True)
    await payments.record_payment(
        bot.uow_factory, bot.clock, account.id, RecordPayment(client_id=bruno.id)
    )
    await payments.record_payment(
        bot.uow_factory,
        bot.clock,
        account.id,
        RecordPayment(client_id=paused.id, amount=Decimal("15.50")),
    )

    await user.press("📊 Resumo")
    msg = await user.wait_for_message(contains="Resumo")
    text = msg.text
    assert "Resumo — 04/03/2026" in text
    assert "Sua conta: teste grátis, 7 dia(s) restante(s)" in text
    assert "Clientes ativos: 4" in text
    assert "Vencidos: 1 — R$ 30,00" in text  # Bruno paid: his due date moved a month on
    assert "Pausados: 1" in text
    assert "Recebido em março: R$ 65,50" in text
    assert "Previsto nos próximos 7 dias: 1 — R$ 20,00" in text
    assert "ainda não tem clientes" not in text
    assert {"📅 Vencimentos", "👥 Clientes", "🏠 Menu"} <= set(msg.buttons)

    await user.press("📅 Vencimentos")
    dues = await user.wait_for_message(contains="Vencidos")
    assert "Carla" in dues.text
    assert "Bruno" not in dues.text


async def test_summary_command_on_an_empty_book_and_a_new_month(bot):
    user = await bot.seller()
    await user.send("/resumo")
    msg = await user.wait_for_message(contains="Resumo")
    assert "Clientes ativos: 0" in msg.text
    assert "Recebido em março: R$ 0,00" in msg.text
    assert "Você ainda não tem clientes" in msg.text

    account = await bot.services.account_for(user.id)
    carla = await add(bot, account, "Carla", 0, "30.00", 1)
    await payments.record_payment(
        bot.uow_factory, bot.clock, account.id, RecordPayment(client_id=carla.id)
    )
    bot.clock.advance(days=30)  # 03/04: last month's payment no longer counts, trial is over
    await user.send("/resumo")
    later = await user.wait_for_message(contains="Resumo")
    assert "Recebido em abril: R$ 0,00" in later.text
    assert "Vencidos: 0 — R$ 0,00" in later.text
    assert "Previsto nos próximos 7 dias: 1 — R$ 30,00" in later.text  # due 04/04
    assert "assinatura vencida" in later.text

"""📅 Vencimentos as a seller sees it: sections, totals, one-tap payment buttons, odd names."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from clientmgr.services import clients
from clientmgr.services.clients import AddClient

WEIRD = "<b>_*[x] 😀"


async def add(bot, user, name: str, days: int, price: str, n: int):
    """A client of ``user`` due ``days`` from the seller's today (negative = overdue)."""
    account = await bot.services.account_for(user.id)
    today = account.local_now(bot.clock.now()).date()
    return await clients.add_client(
        bot.uow_factory,
        bot.clock,
        account.id,
        AddClient(
            name=name,
            phone=f"+55119888{n:05d}",
            price=Decimal(price),
            due_date=today + timedelta(days=days),
        ),
    )


def section(text: str, header: str) -> str:
    """The lines of one section (from its header up to the next blank line)."""
    start = text.index(header)
    end = text.find("\n\n", start)
    return text[start : end if end != -1 else None]


async def test_dues_shows_three_sections_with_counts_and_totals(bot):
    user = await bot.seller()
    await add(bot, user, "Bruno Atrasado", -5, "50.00", 1)
    await add(bot, user, "Carla Atrasada", -1, "30.50", 2)
    await add(bot, user, "Diana Hoje", 0, "35.90", 3)
    await add(bot, user, "Eduardo Tres Dias", 3, "20.00", 4)
    await add(bot, user, "Fabio Vinte Dias", 20, "99.00", 5)
    await user.press("📅 Vencimentos")
    msg = await user.wait_for_message(contains="Vencimentos")
    text = msg.text
    assert "hoje é 04/03/2026" in text
    overdue = section(text, "🔴 Vencidos")
    assert "2 clientes, total R$ 80,50" in overdue
    assert "Bruno Atrasado — R$ 50,00 — venceu em 27/02/2026 (há 5 dias)" in overdue
    assert "Carla Atrasada — R$ 30,50 — venceu em 03/03/2026 (há 1 dia)" in overdue
    today = section(text, "🟠 Vencem hoje")
    assert "1 cliente, total R$ 35,90" in today
    assert "Diana Hoje — R$ 35,90" in today
    upcoming = section(text, "🟡 Próximos 7 dias")
    assert "1 cliente, total R$ 20,00" in upcoming
    assert "Eduardo Tres Dias — R$ 20,00 — vence em 07/03/2026 (em 3 dias)" in upcoming
    assert "Fabio" not in text
    assert text.index("Bruno") < text.index("Carla")  # oldest debt first
    assert msg.buttons[:3] == ["💰 Bruno Atrasado", "💰 Carla Atrasada", "💰 Diana Hoje"]
    assert "💰 Eduardo Tres Dias" not in msg.buttons
    assert "🏠 Menu" in msg.buttons
    assert "🔴 Todos os vencidos" not in msg.buttons
    await user.press("🏠 Menu")
    await user.wait_for_message(contains="Menu principal")


async def test_pay_button_opens_the_clients_payment(bot):
    user = await bot.seller()
    client = await add(bot, user, "Bruno Atrasado", -2, "50.00", 1)
    await user.send("/vencimentos")
    msg = await user.wait_for_message(contains="Vencidos")
    data = msg.button("💰 Bruno Atrasado")["callback_data"]
    assert data.startswith(f"cc:pay:{client.id}~")
    query = await user.press("💰 Bruno Atrasado")
    await user.wait_for_answer(query)
    pay = await user.wait_for_message(contains="Bruno Atrasado")  # the card's payment step
    assert "Vencidos" not in pay.text
    assert not any(b.startswith("💰") for b in pay.buttons)


async def test_nobody_due_says_so(bot):
    user = await bot.seller()
    await add(bot, user, "Fabio Vinte Dias", 20, "99.00", 1)
    await user.send("/vencimentos")
    msg = await user.wait_for_message(contains="Ninguém vencendo nos próximos 7 dias 🎉")
    assert not any(b.startswith("💰") for b in msg.buttons)
    assert "🏠 Menu" in msg.buttons


async def test_paused_clients_are_left_out(bot):
    user = await bot.seller()
    paused = await add(bot, user, "Pausada", -3, "10.00", 1)
    account = await bot.services.account_for(user.id)
    await clients.set_paused(bot.uow_factory, bot.clock, account.id, paused.id, True)
    await user.send("/vencimentos")
    await user.wait_for_message(contains="Ninguém vencendo")


async def test_long_lists_are_capped_and_say_how_many_more(bot):
    user = await bot.seller()
    for n in range(13):
        await add(bot, user, f"Cliente {n:02d}", -1 - n, "10.00", n)
    await add(bot, user, "Hoje Também", 0, "10.00", 99)
    await user.send("/vencimentos")
    msg = await user.wait_for_message(contains="Vencidos")
    assert "13 clientes, total R$ 130,00" in msg.text
    assert "…e mais 1 (veja em 👥 Clientes)" in msg.text
    pay = [b for b in msg.buttons if b.startswith("💰")]
    assert len(pay) == 10
    assert "os 10 primeiros. Os outros 4" in msg.text
    assert msg.button("🔴 Todos os vencidos")["callback_data"].startswith("cl:list:overdue:0~")
    await user.press("🔄 Atualizar")
    await bot.emulator.wait_idle()
    assert not bot.emulator.failed_calls or all(
        "not modified" in (c.description or "") for c in bot.emulator.failed_calls
    )


async def test_a_client_with_markup_and_emoji_in_the_name_renders(bot):
    user = await bot.seller()
    await add(bot, user, WEIRD, -2, "12.34", 1)
    await user.press("📅 Vencimentos")
    msg = await user.wait_for_message(contains="Vencidos")
    assert f"{WEIRD} — R$ 12,34" in msg.text
    assert "&lt;b&gt;" in msg.html
    assert f"💰 {WEIRD}" in msg.buttons

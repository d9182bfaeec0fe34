"""The client list as a seller uses it: empty state, pages, filters, search, odd names."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from clientmgr.services import clients
from clientmgr.services.clients import AddClient

TODAY = date(2026, 3, 4)  # the harness clock: 10:00 in São Paulo
WEIRD = "<b>_*[x] 😀"


async def _add(bot, user, name: str, phone: str, due: date, price: str = "35.90", paused=False):
    account_id = (await bot.services.account_for(user.id)).id
    cmd = AddClient(name=name, phone=phone, price=Decimal(price), due_date=due)
    client = await clients.add_client(bot.uow_factory, bot.clock, account_id, cmd)
    if paused:
        client = await clients.set_paused(bot.uow_factory, bot.clock, account_id, client.id, True)
    return client


def _clients_on(message) -> list[str]:
    """The client buttons (they carry the middle dot), in order."""
    return [label for label in message.buttons if " · " in label]


def _payload(message, label: str) -> str:
    data = next(b["callback_data"] for row in message.keyboard for b in row if b["text"] == label)
    return data.rpartition("~")[0]


async def test_an_empty_list_offers_new_client_and_import(bot):
    user = await bot.seller()
    await user.press("👥 Clientes")
    empty = await user.wait_for_message(contains="ainda não tem clientes")
    assert {"➕ Novo cliente", "📥 Importar", "🏠 Menu"} <= set(empty.buttons)
    assert _payload(empty, "📥 Importar") == "csv:import"
    await user.press("➕ Novo cliente")
    await user.wait_for_message(contains="Qual é o nome")


async def test_clients_are_buttons_that_open_their_card(bot):
    user = await bot.seller()
    maria = await _add(bot, user, "Maria Silva", "+5511988887777", date(2026, 12, 10))
    await _add(bot, user, WEIRD, "+5511977776666", TODAY)
    await user.send("/clientes")
    listed = await user.wait_for_message(contains="Seus clientes")
    assert "Seus clientes: 2" in listed.text
    assert "🔴 vencido" in listed.text  # the legend explains the colours
    assert _clients_on(listed) == [
        f"🟠 {WEIRD} · 04/03 · R$ 35,90",
        "🟢 Maria Silva · 10/12 · R$ 35,90",
    ]
    assert _payload(listed, "🟢 Maria Silva · 10/12 · R$ 35,90") == f"cc:card:{maria.id}"
    assert {"🔎 Buscar", "➕ Novo cliente", "🏠 Menu", "🔴 Vencidos"} <= set(listed.buttons)
    assert "◀️ Anterior" not in listed.buttons
    assert "Próxima ▶️" not in listed.buttons


async def test_long_names_are_cut_to_fit_a_button(bot):
    user = await bot.seller()
    long_name = "Maria Aparecida dos Santos Oliveira Pereira"
    await _add(bot, user, long_name, "+5511988887777", date(2026, 3, 20))
    await user.send("/clientes")
    listed = await user.wait_for_message(contains="Seus clientes")
    [label] = _clients_on(listed)
    assert label.startswith("🟢 Maria Aparecida dos")
    assert "… · 20/03 · R$ 35,90" in label
    assert long_name not in label


async def test_paging_through_25_clients(bot):
    user = await bot.seller()
    for n in range(25):
        await _add(
            bot, user, f"Cliente {n:02d}", f"+55119{n + 10:02d}887777", TODAY + timedelta(days=n)
        )
    await user.press("👥 Clientes")
    first = await user.wait_for_message(contains="Seus clientes: 25")
    assert "Página 1 de 4" in first.text
    assert [label.split(" · ")[0] for label in _clients_on(first)] == [
        "🟠 Cliente 00",
        *(f"🟡 Cliente {n:02d}" for n in range(1, 8)),
    ]
    assert "◀️ Anterior" not in first.buttons
    await user.press("Próxima ▶️")
    second = await user.wait_for_message(contains="Página 2 de 4")
    assert _clients_on(second)[0].startswith("🟢 Cliente 08")
    assert {"◀️ Anterior", "Próxima ▶️"} <= set(second.buttons)
    await user.press("Próxima ▶️")
    await user.wait_for_message(contains="Página 3 de 4")
    await user.press("Próxima ▶️")
    last = await user.wait_for_message(contains="Página 4 de 4")
    assert [label.split(" · ")[0] for label in _clients_on(last)] == ["🟢 Cliente 24"]
    assert "Próxima ▶️" not in last.buttons
    await user.press("◀️ Anterior")
    back = await user.wait_for_message(contains="Página 3 de 4")
    assert len(_clients_on(back)) == 8


async def test_filters_overdue_due_soon_and_paused(bot):
    user = await bot.seller()
    await _add(bot, user, "Atrasada", "+5511911111111", TODAY - timedelta(days=2))
    await _add(bot, user, "Hoje", "+5511922222222", TODAY)
    await _add(bot, user, "Semana", "+5511933333333", TODAY + timedelta(days=5))
    await _add(bot, user, "Longe", "+5511944444444", TODAY + timedelta(days=30))
    await _add(bot, user, "Parada", "+5511955555555", TODAY - timedelta(days=10), paused=True)
    await user.send("/clientes")
    everyone = await user.wait_for_message(contains="Seus clientes: 5")
    assert [label.split(" · ")[0] for label in _clients_on(everyone)] == [
        "⏸️ Parada",
        "🔴 Atrasada",
        "🟠 Hoje",
        "🟡 Semana",
        "🟢 Longe",
    ]
    await user.press("🔴 Vencidos")
    overdue = await user.wait_for_message(contains="Vencidos")
    assert [label.split(" · ")[0] for label in _clients_on(overdue)] == ["🔴 Atrasada"]
    assert "🔴 Vencidos" not in overdue.buttons  # the header names the filter shown
    await user.press("🟡 Vencendo em 7 dias")
    soon = await user.wait_for_message(contains="Vencendo em 7 dias")
    assert [label.split(" · ")[0] for label in _clients_on(soon)] == ["🟠 Hoje", "🟡 Semana"]
    await user.press("⏸️ Pausados")
    paused = await user.wait_for_message(contains="Pausados")
    assert [label.split(" · ")[0] for label in _clients_on(paused)] == ["⏸️ Parada"]
    bot.clock.advance(days=6)  # "Hoje" and "Semana" are now late
    await user.press("🔴 Vencidos")
    later = await user.wait_for_message(contains="Vencidos")
    assert "3 cliente(s)" in later.text
    assert [label.split(" · ")[0] for label in _clients_on(later)] == [
        "🔴 Atrasada",
        "🔴 Hoje",
        "🔴 Semana",
    ]
    await user.press("👥 Todos")
    await user.wait_for_message(contains="Seus clientes: 5")


async def test_an_empty_filter_says_so_and_offers_the_others(bot):
    user = await bot.seller()
    await _add(bot, user, "Longe", "+5511944444444", TODAY + timedelta(days=30))
    await user.send("/clientes")
    await user.wait_for_message(contains="Seus clientes: 1")
    await user.press("🔴 Vencidos")
    none = await user.wait_for_message(contains="Nenhum cliente vencido")
    assert {"👥 Todos", "🟡 Vencendo em 7 dias", "⏸️ Pausados", "🏠 Menu"} <= set(none.buttons)
    await user.press("⏸️ Pausados")
    await user.wait_for_message(contains="Nenhum cliente pausado")


async def test_search_by_name_and_by_phone_digits(bot):
    user = await bot.seller()
    joao = await _add(bot, user, "João Souza", "+5511988887777", TODAY + timedelta(days=3))
    await _add(bot, user, "Joana Lima", "+5521977776666", TODAY + timedelta(days=20))
    await _add(bot, user, WEIRD, "+5531966665555", TODAY + timedelta(days=1))
    await user.send("/clientes")
    await user.wait_for_message(contains="Seus clientes: 3")
    await user.press("🔎 Buscar")
    ask = await user.wait_for_message(contains="parte do nome ou do telefone")
    assert "Maria" in ask.text
    await user.send("JOAO")
    found = await user.wait_for_message(contains="Busca por")
    assert "“JOAO”: 1 cliente(s)" in found.text
    assert _clients_on(found) == ["🟡 João Souza · 07/03 · R$ 35,90"]
    assert _payload(found, "🟡 João Souza · 07/03 · R$ 35,90") == f"cc:card:{joao.id}"
    await user.press("🔎 Buscar de novo")
    await user.wait_for_message(contains="parte do nome ou do telefone")
    await user.send("7777")
    found = await user.wait_for_message(contains="Busca por")
    assert [label.split(" · ")[0] for label in _clients_on(found)] == [
        "🟡 João Souza",
        "🟢 Joana Lima",
    ]
    await user.press("🔎 Buscar de novo")
    await user.wait_for_message(contains="parte do nome ou do telefone")
    await user.send("(31) 96666")
    found = await user.wait_for_message(contains="Busca por")
    assert _clients_on(found) == [f"🟡 {WEIRD} · 05/03 · R$ 35,90"]


async def test_search_with_no_results_explains_and_lets_the_seller_try_again(bot):
    user = await bot.seller()
    await _add(bot, user, "Maria Silva", "+5511988887777", TODAY + timedelta(days=3))
    await user.send("/clientes")
    await user.wait_for_message(contains="Seus clientes")
    await user.press("🔎 Buscar")
    await user.wait_for_message(contains="parte do nome")
    await user.send("<b>Zé</b>")
    none = await user.wait_for_message(contains="Não encontrei nenhum cliente")
    assert "“<b>Zé</b>”" in none.text
    assert "Maria" in none.text  # examples of what to type
    assert "98888" in none.text
    assert {"🔎 Buscar de novo", "⬅️ Voltar", "🏠 Menu"} <= set(none.buttons)
    await user.send("silva")  # still searching: typing again tries again
    found = await user.wait_for_message(contains="Busca por")
    assert [label.split(" · ")[0] for label in _clients_on(found)] == ["🟡 Maria Silva"]
    await user.send("maria")  # the search ended with results; text is not a search anymore
    await user.wait_for_message(contains="Não entendi")


async def test_search_results_are_paged_and_survive_a_restart(bot):
    user = await bot.seller()
    for n in range(10):
        await _add(bot, user, f"Ana {n}", f"+55119{n + 10:02d}887777", TODAY + timedelta(days=n))
    await _add(bot, user, "Bruno", "+5511977776666", TODAY)
    await user.send("/clientes")
    await user.wait_for_message(contains="Seus clientes: 11")
    await user.press("🔎 Buscar")
    await user.wait_for_message(contains="parte do nome")
    await bot.restart()
    await user.send("ana")
    first = await user.wait_for_message(contains="Busca por")
    assert "10 cliente(s)" in first.text
    assert "Página 1 de 2" in first.text
    assert len(_clients_on(first)) == 8
    await user.press("Próxima ▶️")
    second = await user.wait_for_message(contains="Página 2 de 2")
    assert [label.split(" · ")[0] for label in _clients_on(second)] == ["🟢 Ana 8", "🟢 Ana 9"]
    await user.press("⬅️ Voltar")
    await user.wait_for_message(contains="Seus clientes: 11")


async def test_bad_search_text_is_explained(bot):
    user = await bot.seller()
    await _add(bot, user, "Maria Silva", "+5511988887777", TODAY + timedelta(days=3))
    await user.send("/clientes")
    await user.wait_for_message(contains="Seus clientes")
    await user.press("🔎 Buscar")
    await user.wait_for_message(contains="parte do nome")
    await user.send("x" * 61)
    error = await user.wait_for_message(contains="até 60 letras")
    assert "Maria" in error.text
    await user.send("/cancelar")
    await user.wait_for_message(contains="cancelei")

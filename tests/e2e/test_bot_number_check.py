"""A client's number is checked on WhatsApp when saved, edited or imported, as a seller sees it.

The harness WhatsApp knows only the numbers added to it (and the seller's own, once the
QR is "scanned"), so any other number plays one that has no WhatsApp.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from clientmgr.services import clients
from clientmgr.services.whatsapp import session_id_for

GOOD = "+5511988887777"
GOOD_JID = "5511988887777@s.whatsapp.net"
NO_WHATSAPP = "+5511977776666"
WARNING = "Esse número não tem WhatsApp"
NOT_CHECKED = "Não conferi"


async def _account_id(bot, user) -> int:
    return (await bot.services.account_for(user.id)).id


async def _connect_whatsapp(bot, user) -> None:
    session = await bot.whatsapp.start_session(session_id_for(await _account_id(bot, user)))
    bot.whatsapp.scan(session.id, "+5531999990000")


async def _by_name(bot, user) -> dict:
    async with bot.uow_factory() as uow:
        stored = await uow.clients.list(await _account_id(bot, user), archived=None)
    return {c.name: c for c in stored}


async def _new_client(user, name: str, phone: str):
    """/novo through to ✅ Salvar; returns the "saved" answer."""
    steps = [
        ("/novo", "Qual é o nome"),
        (name, "WhatsApp de"),
        (phone, "plano"),
        ("IPTV", "Quanto"),
        ("35,90", "Quando vence"),
        ("20/03", "De quanto em quanto tempo"),
    ]
    for text, expect in steps:
        await user.send(text)
        await user.wait_for_message(contains=expect)
    await user.press("Mensal")
    await user.wait_for_message(contains="Confira os dados")
    await user.press("✅ Salvar")
    return await user.wait_for_message(contains="Cliente salvo")


async def test_new_client_without_whatsapp_is_saved_with_a_warning(bot):
    user = await bot.seller()
    await _connect_whatsapp(bot, user)
    saved = await _new_client(user, "Maria Silva", "(11) 97777-6666")
    assert WARNING in saved.text
    assert "os lembretes não vão chegar" in saved.text
    assert "Editar → Telefone" in saved.text
    assert "👤 Abrir cliente" in saved.buttons
    maria = (await _by_name(bot, user))["Maria Silva"]
    assert (maria.phone, maria.wa_jid) == (NO_WHATSAPP, None)


async def test_new_client_on_whatsapp_is_saved_with_its_jid_and_no_warning(bot):
    user = await bot.seller()
    await _connect_whatsapp(bot, user)
    bot.whatsapp.add_number(GOOD, lid="123456789@lid")
    saved = await _new_client(user, "Maria Silva", "(11) 98888-7777")
    assert WARNING not in saved.text
    assert NOT_CHECKED not in saved.text
    maria = (await _by_name(bot, user))["Maria Silva"]
    assert (maria.wa_jid, maria.wa_lid) == (GOOD_JID, "123456789@lid")


async def test_new_client_while_whatsapp_is_not_connected_is_saved_without_alarm(bot):
    user = await bot.seller()
    saved = await _new_client(user, "Maria Silva", "(11) 98888-7777")
    assert WARNING not in saved.text
    assert "não está conectado" in saved.text
    assert "Maria Silva" in await _by_name(bot, user)


async def test_editing_the_phone_checks_the_new_number(bot):
    user = await bot.seller()
    await _connect_whatsapp(bot, user)
    bot.whatsapp.add_number(GOOD)
    await _new_client(user, "Maria Silva", "(11) 98888-7777")
    await user.press("👤 Abrir cliente")
    await user.wait_for_message(contains="📅 Vencimento")
    await user.press("✏️ Editar")
    await user.wait_for_message(contains="O que você quer mudar?")
    await user.press("Telefone")
    await user.wait_for_message(contains="Exemplo")
    await user.send("(11) 97777-6666")
    saved = await user.wait_for_message(contains="Alteração salva")
    assert WARNING in saved.text
    assert "(11) 97777-6666" in saved.text
    maria = (await _by_name(bot, user))["Maria Silva"]
    assert (maria.phone, maria.wa_jid, maria.wa_lid) == (NO_WHATSAPP, None, None)


async def test_import_report_names_the_client_without_whatsapp(bot):
    user = await bot.seller()
    await _connect_whatsapp(bot, user)
    bot.whatsapp.set_on_whatsapp([GOOD, "+5521966665555"])
    sheet = (
        b"nome;telefone;valor;vencimento\n"
        b"Ana Lima;(11) 98888-7777;35,90;10/03\n"
        b"Bia Costa;(11) 97777-6666;35,90;10/03\n"
        b"Caio Reis;(21) 96666-5555;35,90;10/03\n"
    )
    await user.press("📥 Importar")
    await user.wait_for_message(contains="Importar clientes")
    await user.upload("clientes.csv", sheet, "text/csv")
    summary = await user.wait_for_message(contains="✅")
    assert "✅ 3 novos, 0 atualizados" in summary.text
    assert "Conferi 3 números no WhatsApp" in summary.text
    assert "1 número não tem WhatsApp" in summary.text
    assert "Bia Costa: (11) 97777-6666" in summary.text
    assert "Ana Lima" not in summary.text
    stored = await _by_name(bot, user)
    assert stored["Ana Lima"].wa_jid == GOOD_JID
    assert stored["Bia Costa"].wa_jid is None


async def test_import_while_whatsapp_is_not_connected_still_imports(bot):
    user = await bot.seller()
    account_id = await _account_id(bot, user)
    await clients.add_client(
        bot.uow_factory,
        bot.clock,
        account_id,
        clients.AddClient(
            name="Ana Lima", phone=GOOD, price=Decimal("10"), due_date=date(2026, 3, 10)
        ),
    )
    sheet = b"nome;telefone;valor;vencimento\nAna Lima;(11) 98888-7777;35,90;10/03\n"
    await user.upload("clientes.csv", sheet, "text/csv")
    summary = await user.wait_for_message(contains="✅")
    assert "✅ 0 novos, 1 atualizado" in summary.text
    assert "Não conferi os números no WhatsApp" in summary.text
    assert "não tem WhatsApp" not in summary.text
    assert (await _by_name(bot, user))["Ana Lima"].price == Decimal("35.90")


async def test_linking_whatsapp_checks_the_clients_saved_before(bot):
    bot.application.bot_data["wa_poll_interval"] = 0.02
    user = await bot.seller()
    account_id = await _account_id(bot, user)
    for name, phone in (("Maria Silva", GOOD), ("Joana Lima", NO_WHATSAPP)):
        await clients.add_client(
            bot.uow_factory,
            bot.clock,
            account_id,
            clients.AddClient(
                name=name, phone=phone, price=Decimal(30), due_date=date(2026, 3, 20)
            ),
        )
    bot.whatsapp.add_number(GOOD)
    await user.press("📱 WhatsApp")
    await user.wait_for_message(contains="📱 WhatsApp")
    await user.press("🔗 Conectar")
    await user.wait_for_message(where=lambda m: m.photo is not None)
    bot.whatsapp.scan(session_id_for(account_id), "+5531999990000")
    await user.wait_for_message(contains="✅ WhatsApp conectado")
    note = await user.wait_for_message(contains="conferi os números")
    assert "Joana Lima: (11) 97777-6666" in note.text
    assert "Maria Silva" not in note.text
    assert note.buttons == ["👥 Clientes"]
    stored = await _by_name(bot, user)
    assert stored["Maria Silva"].wa_jid == GOOD_JID
    assert stored["Joana Lima"].wa_jid is None

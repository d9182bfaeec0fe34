"""An expired seller (7 days of trial + 3 of grace, then one more) reads, exports and pays, but
cannot add or import clients. Screens are opened by payload, so the test does not depend on
other screens' button labels."""

from __future__ import annotations

from clientmgr.core.csvio import parse_csv

CSV = (
    "nome;telefone;plano;valor;vencimento\r\n"
    "Maria <b>_*[x]</b> 🎉;(11) 98888-7777;Mensal;35,90;10/03\r\n"
).encode()
NAME = "Maria <b>_*[x]</b> 🎉"
LOCKED = "Sua assinatura venceu"
RENEW = "💳 Renovar assinatura"


async def _expired_seller_with_a_client(bot):
    user = await bot.seller()
    await user.upload("clientes.csv", CSV, "text/csv")
    await user.wait_for_message(contains="✅ 1 novo")
    account = await bot.services.account_for(user.id)
    async with bot.uow_factory() as uow:
        [client] = await uow.clients.list(account.id)
    bot.clock.advance(days=11)
    account = await bot.services.account_for(user.id)
    assert not account.status(bot.clock.now()).can_write
    return user, client


async def _open(bot, user, payload):
    query = await user.press_data(bot.services.signer.sign(user.id, payload))
    await user.wait_for_answer(query)
    return await user.wait_for_message()


async def test_expired_seller_still_reads_the_list_card_and_dues(bot):
    user, client = await _expired_seller_with_a_client(bot)
    await user.send("/menu")
    menu = await user.wait_for_message(contains="Menu principal")
    assert "🔒 assinatura vencida" in menu.text

    listed = await _open(bot, user, "cl:list:all:0")
    assert LOCKED not in listed.text
    assert any("Maria" in label for label in listed.buttons)

    card = await _open(bot, user, f"cc:card:{client.id}")
    assert NAME in card.text  # escaped on the way, shown as typed
    assert LOCKED not in card.text

    dues = await _open(bot, user, "due:show")
    assert NAME in dues.text
    assert LOCKED not in dues.text


async def test_expired_seller_can_export_and_open_the_subscription(bot):
    user, _client = await _expired_seller_with_a_client(bot)
    await _open(bot, user, "csv:export")
    sent = user.last_message
    if sent.document is None:
        sent = await user.wait_for_message(where=lambda m: m.document is not None)
    assert sent.document.file_name == "clientes-15-03-2026.csv"
    data = await user.download(sent)
    parsed = parse_csv(data, bot.clock.now().date())
    assert [d.name for d in parsed.drafts] == [NAME]

    subscription = await _open(bot, user, "sub:menu")
    assert LOCKED not in subscription.text
    assert RENEW not in subscription.buttons


async def test_expired_seller_cannot_add_a_client(bot):
    user, _client = await _expired_seller_with_a_client(bot)
    locked = await _open(bot, user, "nc:new")
    assert LOCKED in locked.text
    assert RENEW in locked.buttons
    # What they type next is not taken as a client name.
    await user.send("Novo Cliente")
    await user.wait_for_message(contains="Não entendi")


async def test_expired_seller_cannot_import(bot):
    user, _client = await _expired_seller_with_a_client(bot)
    locked = await _open(bot, user, "csv:import")
    assert LOCKED in locked.text
    assert RENEW in locked.buttons
    assert "nome;telefone" not in locked.text
    # A file dropped in the chat is refused the same way, and nothing changes.
    other = CSV.replace(b"(11) 98888-7777", b"(11) 95555-4444")
    await user.upload("clientes.csv", other, "text/csv")
    refused = await user.wait_for_message(contains=LOCKED)
    assert RENEW in refused.buttons
    # Even a wrong file: the lock is said first, before any advice on converting it.
    await user.upload("clientes.xlsx", b"PK\x03\x04" + b"\x00" * 64, "application/zip")
    refused = await user.wait_for_message(contains=LOCKED)
    assert "Salvar como" not in refused.text
    await user.press(RENEW, message=refused)
    renew = await user.wait_for_message()
    assert LOCKED not in renew.text
    account = await bot.services.account_for(user.id)
    async with bot.uow_factory() as uow:
        assert len(await uow.clients.list(account.id)) == 1

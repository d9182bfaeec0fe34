"""WhatsApp use cases: connect by QR (writable accounts only), status, unlink, number checks."""

from __future__ import annotations

import pytest

from clientmgr.adapters.memory import InMemoryWhatsAppGateway
from clientmgr.errors import AccountExpiredError, AccountNotFoundError, WhatsAppUnavailableError
from clientmgr.ports.whatsapp import WaLookup, WaState
from clientmgr.services import accounts, whatsapp

SELLER = "+5521977776666"
ANA = "+5511988887777"


@pytest.fixture
def gateway() -> InMemoryWhatsAppGateway:
    return InMemoryWhatsAppGateway()


async def new_account(uow_factory, clock) -> int:
    account, _ = await accounts.register_account(uow_factory, clock, 1, "Ana")
    assert account.id is not None
    return account.id


async def actions(uow_factory, account_id: int) -> list[str]:
    async with uow_factory() as uow:
        return [e.action for e in await uow.audit.list(account_id)]


def test_session_id_for_an_account():
    assert whatsapp.session_id_for(42) == "acc-42"


async def test_connect_shows_a_qr_then_opens(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    session = await whatsapp.connect(uow_factory, clock, gateway, account_id)
    assert session.id == f"acc-{account_id}"
    assert session.state is WaState.QR
    assert session.qr
    gateway.scan(session.id, SELLER)
    again = await whatsapp.connect(uow_factory, clock, gateway, account_id)
    assert again.state is WaState.OPEN
    assert again.phone == SELLER
    assert (await actions(uow_factory, account_id))[:2] == ["whatsapp.connect"] * 2


async def test_connect_refuses_an_expired_account(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    clock.advance(days=11)
    with pytest.raises(AccountExpiredError):
        await whatsapp.connect(uow_factory, clock, gateway, account_id)
    assert await gateway.get_session(whatsapp.session_id_for(account_id)) is None


async def test_connect_in_grace_is_allowed(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    clock.advance(days=8)
    session = await whatsapp.connect(uow_factory, clock, gateway, account_id)
    assert session.state is WaState.QR


async def test_connect_for_an_unknown_account(uow_factory, clock, gateway):
    with pytest.raises(AccountNotFoundError):
        await whatsapp.connect(uow_factory, clock, gateway, 404)


async def test_connect_with_the_sidecar_down(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    gateway.down = True
    with pytest.raises(WhatsAppUnavailableError):
        await whatsapp.connect(uow_factory, clock, gateway, account_id)
    assert "whatsapp.connect" not in await actions(uow_factory, account_id)


async def test_status_of_a_never_connected_seller(gateway):
    assert await whatsapp.status(gateway, 1) is None


async def test_status_follows_the_session(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    await whatsapp.connect(uow_factory, clock, gateway, account_id)
    gateway.scan(whatsapp.session_id_for(account_id), SELLER)
    gateway.drop(whatsapp.session_id_for(account_id))
    session = await whatsapp.status(gateway, account_id)
    assert session is not None
    assert (session.state, session.reason) == (WaState.CLOSED, "connection_lost")


async def test_status_works_for_an_expired_account(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    await whatsapp.connect(uow_factory, clock, gateway, account_id)
    clock.advance(days=30)
    session = await whatsapp.status(gateway, account_id)
    assert session is not None


async def test_disconnect_forgets_the_session_and_can_repeat(uow_factory, clock, gateway):
    account_id = await new_account(uow_factory, clock)
    await whatsapp.connect(uow_factory, clock, gateway, account_id)
    gateway.scan(whatsapp.session_id_for(account_id), SELLER)
    clock.advance(days=30)  # expired sellers may still take their phone back
    await whatsapp.disconnect(uow_factory, clock, gateway, account_id)
    await whatsapp.disconnect(uow_factory, clock, gateway, account_id)
    assert await whatsapp.status(gateway, account_id) is None
    assert (await actions(uow_factory, account_id)).count("whatsapp.disconnect") == 2


async def test_disconnect_for_an_unknown_account(uow_factory, clock, gateway):
    with pytest.raises(AccountNotFoundError):
        await whatsapp.disconnect(uow_factory, clock, gateway, 404)


async def test_check_number_finds_the_real_jid(gateway):
    await gateway.start_session("acc-1")
    gateway.scan("acc-1", SELLER)
    gateway.set_on_whatsapp(["+551188887777"])  # an old account, without the 9th digit
    found = await whatsapp.check_number(gateway, "acc-1", ANA)
    assert found == WaLookup(ANA, True, "551188887777@s.whatsapp.net", None)
    gateway.set_on_whatsapp([])
    missing = await whatsapp.check_number(gateway, "acc-1", ANA)
    assert missing == WaLookup(ANA, False)


async def test_check_number_cannot_tell_without_a_session(gateway):
    assert await whatsapp.check_number(gateway, "acc-1", ANA) is None
    await gateway.start_session("acc-1")
    assert await whatsapp.check_number(gateway, "acc-1", ANA) is None


async def test_check_number_cannot_tell_with_the_sidecar_down(gateway):
    await gateway.start_session("acc-1")
    gateway.scan("acc-1", SELLER)
    gateway.down = True
    assert await whatsapp.check_number(gateway, "acc-1", ANA) is None

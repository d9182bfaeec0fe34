"""A client's WhatsApp JID/LID through every backend: kept when found, dropped with the phone.

The import upsert keeps known ids when the sheet brings none; these tests hold that a
phone edit's cleared ids stay cleared through it on SQLite and PostgreSQL too.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from clientmgr.adapters.memory import InMemoryWhatsAppGateway
from clientmgr.ports.clock import ManualClock
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services import accounts, clients, importing
from clientmgr.services.clients import AddClient
from clientmgr.services.number_check import verify_clients
from clientmgr.services.whatsapp import session_id_for

from .factories import NOW

ANA = "+5511988887777"
NEW_PHONE = "+5521977776666"
SHEET = "nome;telefone;valor;vencimento\nAna;{phone};35,90;20/03\n"


async def _setup(uow_factory: UnitOfWorkFactory) -> tuple[ManualClock, int, int]:
    clock = ManualClock(NOW)
    account, _ = await accounts.register_account(uow_factory, clock, 1001, "Ana")
    assert account.id is not None
    cmd = AddClient(name="Ana", phone=ANA, price=Decimal("35.90"), due_date=date(2026, 3, 20))
    ana = await clients.add_client(uow_factory, clock, account.id, cmd)
    assert ana.id is not None
    return clock, account.id, ana.id


async def _checked(uow_factory: UnitOfWorkFactory, account_id: int, client_id: int) -> None:
    gateway = InMemoryWhatsAppGateway()
    session = await gateway.start_session(session_id_for(account_id))
    gateway.scan(session.id, "+5531999990000")
    gateway.add_number(ANA, lid="123456789@lid")
    await verify_clients(uow_factory, gateway, account_id, [client_id])


async def test_found_ids_are_stored_and_survive_a_reimport(uow_factory: UnitOfWorkFactory) -> None:
    clock, account_id, ana_id = await _setup(uow_factory)
    await _checked(uow_factory, account_id, ana_id)
    sheet = SHEET.format(phone=ANA).encode()
    await importing.import_clients(uow_factory, clock, account_id, sheet)
    stored = await clients.get_client(uow_factory, account_id, ana_id)
    assert (stored.wa_jid, stored.wa_lid) == ("5511988887777@s.whatsapp.net", "123456789@lid")


async def test_a_new_phone_drops_the_ids_and_a_reimport_does_not_bring_them_back(
    uow_factory: UnitOfWorkFactory,
) -> None:
    clock, account_id, ana_id = await _setup(uow_factory)
    await _checked(uow_factory, account_id, ana_id)
    await clients.edit_client(uow_factory, clock, account_id, ana_id, phone=NEW_PHONE)
    sheet = SHEET.format(phone=NEW_PHONE).encode()
    report = await importing.import_clients(uow_factory, clock, account_id, sheet)
    assert report.client_ids == (ana_id,)
    stored = await clients.get_client(uow_factory, account_id, ana_id)
    assert (stored.phone, stored.wa_jid, stored.wa_lid) == (NEW_PHONE, None, None)

"""verify_clients: a saved or imported client's number checked on WhatsApp, JID/LID kept.

Runs on the in-memory store and the in-memory WhatsApp (numbers exist only when added).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import pytest

from clientmgr.adapters.memory import InMemoryWhatsAppGateway
from clientmgr.core.clients import Client
from clientmgr.ports.whatsapp import WaLookup
from clientmgr.services import accounts, clients, importing
from clientmgr.services.clients import AddClient
from clientmgr.services.number_check import LOOKUP_BATCH, MAX_CHECKED, verify_clients
from clientmgr.services.whatsapp import session_id_for

ANA = "+5511988887777"
ANA_JID = "5511988887777@s.whatsapp.net"
BIA = "+5521977776666"
SELLER = "+5531999990000"


class CountingGateway(InMemoryWhatsAppGateway):
    """The in-memory WhatsApp, remembering how many phones each lookup asked."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups: list[int] = []

    async def lookup(self, session_id: str, phones: Sequence[str]) -> list[WaLookup]:
        self.lookups.append(len(phones))
        return await super().lookup(session_id, phones)


@pytest.fixture
def gateway() -> CountingGateway:
    return CountingGateway()


@pytest.fixture
async def account_id(uow_factory, clock) -> int:
    account, _ = await accounts.register_account(uow_factory, clock, 1, "Ana")
    assert account.id is not None
    return account.id


async def open_session(gateway: InMemoryWhatsAppGateway, account_id: int) -> None:
    session = await gateway.start_session(session_id_for(account_id))
    gateway.scan(session.id, SELLER)


async def add(uow_factory, clock, account_id: int, phone: str, name: str = "Ana") -> Client:
    cmd = AddClient(name=name, phone=phone, price=Decimal("35.90"), due_date=date(2026, 3, 20))
    return await clients.add_client(uow_factory, clock, account_id, cmd)


async def add_many(uow_factory, clock, account_id: int, count: int) -> list[int]:
    """``count`` clients with phones +55119880xxxxx, their ids in phone order."""
    now = clock.now()
    book = [
        Client(
            account_id=account_id,
            name=f"Cliente {n}",
            phone=f"+55119880{n:05d}",
            price=Decimal("10.00"),
            due_date=date(2026, 3, 20),
            created_at=now,
            updated_at=now,
        )
        for n in range(count)
    ]
    async with uow_factory() as uow:
        await uow.clients.upsert_many(account_id, book)
        stored = await uow.clients.list(account_id)
        await uow.commit()
    return [c.id for c in sorted(stored, key=lambda c: c.phone)]


async def load(uow_factory, account_id: int, client_id: int) -> Client:
    return await clients.get_client(uow_factory, account_id, client_id)


async def test_a_number_on_whatsapp_keeps_its_jid_and_lid(uow_factory, clock, gateway, account_id):
    await open_session(gateway, account_id)
    gateway.add_number(ANA, lid="123456789@lid")
    ana = await add(uow_factory, clock, account_id, ANA)
    result = await verify_clients(uow_factory, gateway, account_id, [ana.id])
    assert (result.checked, result.unchecked, result.reachable) == (1, 0, True)
    assert result.not_on_whatsapp == ()
    stored = await load(uow_factory, account_id, ana.id)
    assert (stored.wa_jid, stored.wa_lid) == (ANA_JID, "123456789@lid")
    assert stored.updated_at == ana.updated_at  # not an edit by the seller


async def test_an_old_brazilian_account_keeps_the_jid_without_the_9th_digit(
    uow_factory, clock, gateway, account_id
):
    await open_session(gateway, account_id)
    gateway.add_number("+551188887777")  # registered before the 9th digit
    ana = await add(uow_factory, clock, account_id, ANA)
    await verify_clients(uow_factory, gateway, account_id, [ana.id])
    assert (await load(uow_factory, account_id, ana.id)).wa_jid == "551188887777@s.whatsapp.net"


async def test_a_number_not_on_whatsapp_is_listed_and_stays_saved(
    uow_factory, clock, gateway, account_id
):
    await open_session(gateway, account_id)
    gateway.add_number(ANA)
    ana = await add(uow_factory, clock, account_id, ANA, "Ana")
    bia = await add(uow_factory, clock, account_id, BIA, "Bia")
    result = await verify_clients(uow_factory, gateway, account_id, [ana.id, bia.id])
    assert result.checked == 2
    assert [c.name for c in result.not_on_whatsapp] == ["Bia"]
    stored = await load(uow_factory, account_id, bia.id)
    assert (stored.phone, stored.wa_jid, stored.wa_lid) == (BIA, None, None)


async def test_whatsapp_not_connected_means_not_checked_and_the_client_is_kept(
    uow_factory, clock, gateway, account_id
):
    ana = await add(uow_factory, clock, account_id, ANA)
    never_started = await verify_clients(uow_factory, gateway, account_id, [ana.id])
    assert (never_started.checked, never_started.unchecked) == (0, 1)
    assert not never_started.reachable
    assert never_started.not_on_whatsapp == ()
    await gateway.start_session(session_id_for(account_id))  # QR shown, not scanned
    showing_qr = await verify_clients(uow_factory, gateway, account_id, [ana.id])
    assert (showing_qr.unchecked, showing_qr.reachable) == (1, False)
    assert (await load(uow_factory, account_id, ana.id)).wa_jid is None


async def test_sidecar_down_means_not_checked(uow_factory, clock, gateway, account_id):
    await open_session(gateway, account_id)
    gateway.add_number(ANA)
    ana = await add(uow_factory, clock, account_id, ANA)
    gateway.down = True
    result = await verify_clients(uow_factory, gateway, account_id, [ana.id])
    assert (result.checked, result.unchecked, result.reachable) == (0, 1, False)


async def test_a_slow_whatsapp_runs_out_of_time_instead_of_holding_the_seller(
    uow_factory, clock, account_id
):
    class SlowGateway(InMemoryWhatsAppGateway):
        async def lookup(self, session_id: str, phones: Sequence[str]) -> list[WaLookup]:
            await asyncio.sleep(1)
            return await super().lookup(session_id, phones)

    gateway = SlowGateway()
    await open_session(gateway, account_id)
    ana = await add(uow_factory, clock, account_id, ANA)
    result = await verify_clients(uow_factory, gateway, account_id, [ana.id], budget=0.01)
    assert (result.checked, result.unchecked, result.reachable) == (0, 1, False)


async def test_phones_are_asked_in_batches_the_sidecar_accepts(
    uow_factory, clock, gateway, account_id
):
    await open_session(gateway, account_id)
    ids = await add_many(uow_factory, clock, account_id, 120)
    result = await verify_clients(uow_factory, gateway, account_id, ids)
    assert gateway.lookups == [LOOKUP_BATCH, LOOKUP_BATCH, 20]
    assert (result.checked, len(result.not_on_whatsapp)) == (120, 120)
    assert [c.id for c in result.not_on_whatsapp] == ids  # in the order asked


async def test_a_huge_import_is_checked_500_at_a_time(uow_factory, clock, gateway, account_id):
    await open_session(gateway, account_id)
    gateway.everyone_on_whatsapp = True
    ids = await add_many(uow_factory, clock, account_id, MAX_CHECKED + 30)
    first = await verify_clients(uow_factory, gateway, account_id, ids)
    assert (first.checked, first.unchecked, first.reachable) == (MAX_CHECKED, 30, True)
    assert sum(gateway.lookups) == MAX_CHECKED
    gateway.lookups.clear()
    again = await verify_clients(uow_factory, gateway, account_id, ids)
    # Known numbers are not asked again: the second call goes on with the rest.
    assert gateway.lookups == [30]
    assert (again.checked, again.unchecked) == (MAX_CHECKED + 30, 0)


async def test_a_known_number_is_not_asked_again(uow_factory, clock, gateway, account_id):
    await open_session(gateway, account_id)
    gateway.add_number(ANA)
    ana = await add(uow_factory, clock, account_id, ANA)
    await verify_clients(uow_factory, gateway, account_id, [ana.id])
    gateway.down = True  # not even needed
    result = await verify_clients(uow_factory, gateway, account_id, [ana.id])
    assert (result.checked, result.unchecked, result.reachable) == (1, 0, True)
    assert gateway.lookups == [1]


async def test_another_accounts_client_is_skipped(uow_factory, clock, gateway, account_id):
    other, _ = await accounts.register_account(uow_factory, clock, 2, "Bruno")
    await open_session(gateway, account_id)
    theirs = await add(uow_factory, clock, other.id, ANA)
    result = await verify_clients(uow_factory, gateway, account_id, [theirs.id, 9999])
    assert (result.checked, result.unchecked) == (0, 0)
    assert gateway.lookups == []


async def test_changing_the_phone_forgets_the_old_numbers_jid(
    uow_factory, clock, gateway, account_id
):
    await open_session(gateway, account_id)
    gateway.add_number(ANA, lid="111@lid")
    ana = await add(uow_factory, clock, account_id, ANA)
    await verify_clients(uow_factory, gateway, account_id, [ana.id])
    renamed = await clients.edit_client(uow_factory, clock, account_id, ana.id, name="Ana Souza")
    assert renamed.wa_jid == ANA_JID  # same phone: still the same WhatsApp
    moved = await clients.edit_client(uow_factory, clock, account_id, ana.id, phone=BIA)
    assert (moved.wa_jid, moved.wa_lid) == (None, None)
    assert (await load(uow_factory, account_id, ana.id)).wa_jid is None
    result = await verify_clients(uow_factory, gateway, account_id, [ana.id])
    assert [c.phone for c in result.not_on_whatsapp] == [BIA]


async def test_reimporting_never_brings_back_the_old_numbers_jid(
    uow_factory, clock, gateway, account_id
):
    await open_session(gateway, account_id)
    gateway.add_number(ANA)
    ana = await add(uow_factory, clock, account_id, ANA, "Ana")
    await verify_clients(uow_factory, gateway, account_id, [ana.id])
    await clients.edit_client(uow_factory, clock, account_id, ana.id, phone=BIA)
    sheet = "nome;telefone;valor;vencimento\nAna;(21) 97777-6666;35,90;20/03\n"
    report = await importing.import_clients(uow_factory, clock, account_id, sheet.encode())
    assert (report.inserted, report.updated, report.client_ids) == (0, 1, (ana.id,))
    assert (await load(uow_factory, account_id, ana.id)).wa_jid is None


async def test_an_answer_for_a_number_edited_meanwhile_is_not_kept(uow_factory, clock, account_id):
    class EditingGateway(InMemoryWhatsAppGateway):
        """The seller changes the phone while WhatsApp is answering about the old one."""

        async def lookup(self, session_id: str, phones: Sequence[str]) -> list[WaLookup]:
            found = await super().lookup(session_id, phones)
            await clients.edit_client(uow_factory, clock, account_id, ana.id, phone=BIA)
            return found

    gateway = EditingGateway()
    await open_session(gateway, account_id)
    gateway.add_number(ANA)
    ana = await add(uow_factory, clock, account_id, ANA)
    result = await verify_clients(uow_factory, gateway, account_id, [ana.id])
    assert result.not_on_whatsapp == ()
    stored = await load(uow_factory, account_id, ana.id)
    assert (stored.phone, stored.wa_jid) == (BIA, None)


async def test_an_import_reports_the_clients_it_wrote_in_sheet_order(
    uow_factory, clock, account_id
):
    bia = await add(uow_factory, clock, account_id, BIA, "Bia")
    sheet = (
        "nome;telefone;valor;vencimento\n"
        "Ana;(11) 98888-7777;35,90;20/03\n"
        "Bia;(21) 97777-6666;35,90;20/03\n"
        "Ana de novo;(11) 98888-7777;35,90;20/03\n"
        "Errada;123;35,90;20/03\n"
    )
    report = await importing.import_clients(uow_factory, clock, account_id, sheet.encode())
    ana = await clients.list_clients(uow_factory, account_id, today=date(2026, 3, 4), search="Ana")
    [ana_id] = [c.id for c in ana.clients]
    assert report.client_ids == (ana_id, bia.id)

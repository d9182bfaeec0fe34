"""import_clients / export_clients over the in-memory store: upsert by phone, errors by line."""

from __future__ import annotations

import codecs
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from attrs import evolve

from clientmgr.core.cycles import BillingCycle
from clientmgr.errors import AccountExpiredError, AccountNotFoundError, InvalidCsvError
from clientmgr.services import accounts, clients
from clientmgr.services.importing import ImportReport, export_clients, import_clients

HEADER = "nome;telefone;plano;valor;vencimento;ciclo;observacoes"
SHEET = (
    f"{HEADER}\n"
    "João;(11) 98888-7777;Premium;35,90;10/03/2026;mensal;paga no pix\n"
    "Maria;11977776666;Básico;20;15/03/2026;trimestral;\n"
    "Bia;+55 21 9 6666-5555;;50;31/03/2026;;\n"
)


@pytest.fixture
async def account(uow_factory, clock):
    acc, _ = await accounts.register_account(uow_factory, clock, 42, "Ana")
    return acc


async def all_clients(uow_factory, account_id, archived=False):
    async with uow_factory() as uow:
        return list(await uow.clients.list(account_id, archived=archived))


async def by_phone(uow_factory, account_id, phone):
    async with uow_factory() as uow:
        return await uow.clients.get_by_phone(account_id, phone)


def fields(c) -> tuple:
    return (c.name, c.phone, c.plan, c.price, c.due_date, c.cycle, c.notes, c.anchor_day)


async def test_import_creates_every_client(uow_factory, clock, account):
    report = await import_clients(uow_factory, clock, account.id, SHEET.encode())
    assert report == ImportReport(inserted=3, updated=0, errors=(), total=3)
    assert report.imported == 3
    joao = await by_phone(uow_factory, account.id, "+5511988887777")
    assert joao.name == "João"
    assert joao.plan == "Premium"
    assert joao.price == Decimal("35.90")
    assert joao.due_date == date(2026, 3, 10)
    assert joao.anchor_day == 10
    assert joao.notes == "paga no pix"
    assert joao.created_at == clock.now()
    maria = await by_phone(uow_factory, account.id, "+5511977776666")
    assert maria.cycle == BillingCycle.monthly(3)


async def test_reimport_updates_by_phone_without_duplicates(uow_factory, clock, account):
    await import_clients(uow_factory, clock, account.id, SHEET.encode())
    before = {c.phone: c for c in await all_clients(uow_factory, account.id)}
    clock.advance(hours=1)
    changed = SHEET.replace("35,90", "39,90") + "Caio;11955554444;;10;5;;\n"

    report = await import_clients(uow_factory, clock, account.id, changed.encode())

    assert (report.inserted, report.updated, report.total) == (1, 3, 4)
    after = {c.phone: c for c in await all_clients(uow_factory, account.id)}
    assert len(after) == 4
    joao = after["+5511988887777"]
    assert joao.price == Decimal("39.90")
    assert joao.id == before["+5511988887777"].id
    assert joao.created_at == before["+5511988887777"].created_at
    assert joao.updated_at == clock.now()


async def test_same_file_twice_changes_nothing_but_counts_updates(uow_factory, clock, account):
    await import_clients(uow_factory, clock, account.id, SHEET.encode())
    first = sorted(map(fields, await all_clients(uow_factory, account.id)))
    report = await import_clients(uow_factory, clock, account.id, SHEET.encode())
    assert (report.inserted, report.updated) == (0, 3)
    assert sorted(map(fields, await all_clients(uow_factory, account.id))) == first


async def test_reimport_keeps_what_a_sheet_cannot_say(uow_factory, clock, account):
    await import_clients(uow_factory, clock, account.id, SHEET.encode())
    joao = await by_phone(uow_factory, account.id, "+5511988887777")
    async with uow_factory() as uow:
        await uow.clients.update(
            evolve(joao, paused=True, opted_out=True, wa_jid="5511988887777@s.whatsapp.net")
        )
        await uow.commit()
    # A sheet without plano/ciclo/observações columns must not wipe them either.
    short = "nome;telefone;valor;vencimento\nJoão Silva;11988887777;35,90;10/03/2026\n"

    report = await import_clients(uow_factory, clock, account.id, short.encode())

    assert (report.inserted, report.updated) == (0, 1)
    again = await by_phone(uow_factory, account.id, "+5511988887777")
    assert again.name == "João Silva"
    assert (again.plan, again.notes) == ("Premium", "paga no pix")
    assert again.paused
    assert again.opted_out
    assert again.wa_jid == "5511988887777@s.whatsapp.net"


async def test_broken_rows_are_reported_and_the_rest_imported(uow_factory, clock, account):
    sheet = SHEET + "Caio;9888-7777;;10;5;;\n\nDuda;11944443333;;abc;5;;\nEva;11933332222;;10;5;;\n"

    report = await import_clients(uow_factory, clock, account.id, sheet.encode())

    assert (report.inserted, report.total) == (4, 6)
    assert [(e.line, e.reason.split(":")[0]) for e in report.errors] == [
        (5, 'Telefone "9888-7777"'),
        (7, 'Valor "abc"'),
    ]
    assert len(await all_clients(uow_factory, account.id)) == 4


async def test_duplicate_phone_in_the_file_imports_one_client(uow_factory, clock, account):
    sheet = SHEET + "Outro João;+5511988887777;;99;5;;\n"

    report = await import_clients(uow_factory, clock, account.id, sheet.encode())

    assert (report.inserted, report.total) == (3, 4)
    assert report.errors[0].line == 5
    assert "linha 2" in report.errors[0].reason
    joao = await by_phone(uow_factory, account.id, "+5511988887777")
    assert joao.name == "João"


async def test_all_valid_rows_go_in_one_upsert(uow_factory, clock, account, monkeypatch):
    calls: list[int] = []
    async with uow_factory() as uow:
        repo_type = type(uow.clients)
    real = repo_type.upsert_many

    async def spy(self, account_id, batch):
        calls.append(len(batch))
        return await real(self, account_id, batch)

    monkeypatch.setattr(repo_type, "upsert_many", spy)
    sheet = f"{HEADER}\n" + "".join(f"C{i};119{60000000 + i};;10;5;;\n" for i in range(500))

    report = await import_clients(uow_factory, clock, account.id, sheet.encode())

    assert calls == [500]
    assert report.inserted == 500


async def test_expired_account_is_refused_and_nothing_written(uow_factory, clock, account):
    clock.advance(days=30)
    with pytest.raises(AccountExpiredError):
        await import_clients(uow_factory, clock, account.id, SHEET.encode())
    assert await all_clients(uow_factory, account.id) == []


async def test_unknown_account_is_refused(uow_factory, clock):
    with pytest.raises(AccountNotFoundError):
        await import_clients(uow_factory, clock, 999, SHEET.encode())


async def test_unusable_file_writes_nothing(uow_factory, clock, account):
    with pytest.raises(InvalidCsvError):
        await import_clients(uow_factory, clock, account.id, b"nome;valor\nJo\xe3o;10\n")
    assert await all_clients(uow_factory, account.id) == []


async def test_header_only_and_all_broken_rows_write_nothing(uow_factory, clock, account):
    empty = await import_clients(uow_factory, clock, account.id, HEADER.encode())
    assert empty == ImportReport(inserted=0, updated=0, errors=(), total=0)
    broken = await import_clients(uow_factory, clock, account.id, f"{HEADER}\nX;1;;;;;\n".encode())
    assert (broken.imported, broken.total, len(broken.errors)) == (0, 1, 1)
    assert await all_clients(uow_factory, account.id) == []


async def test_dates_are_read_in_the_sellers_timezone(uow_factory, clock, account):
    # 02:00 UTC on 1 April is still 31 March in São Paulo: "dia 31" is today, not 31 May.
    clock.advance(seconds=(datetime(2026, 4, 1, 2, 0, tzinfo=UTC) - clock.now()).total_seconds())
    sheet = "nome;telefone;valor;vencimento\nMaria;11977776666;10;dia 31\n"
    acc, _ = await accounts.register_account(uow_factory, clock, 77, "Tz")

    await import_clients(uow_factory, clock, acc.id, sheet.encode())

    maria = await by_phone(uow_factory, acc.id, "+5511977776666")
    assert maria.due_date == date(2026, 3, 31)


async def test_unknown_columns_are_reported(uow_factory, clock, account):
    sheet = "nome;email;telefone;valor;vencimento\nMaria;m@x.com;11977776666;10;5\n"
    report = await import_clients(uow_factory, clock, account.id, sheet.encode())
    assert report.ignored_columns == ("email",)


# --- export ---------------------------------------------------------------------------------


async def test_export_then_import_elsewhere_gives_the_same_book(uow_factory, clock, account):
    sheet = SHEET + '\'=Zé;+1 650 253 0000;VIP;1.234,56;10/12/2026;a cada 2 semanas;"a;b\nc"\n'
    await import_clients(uow_factory, clock, account.id, sheet.encode())
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")

    data = await export_clients(uow_factory, account.id)
    report = await import_clients(uow_factory, clock, other.id, data)

    assert (report.inserted, report.errors) == (4, ())
    original = sorted(map(fields, await all_clients(uow_factory, account.id)))
    copied = sorted(map(fields, await all_clients(uow_factory, other.id)))
    assert copied == original
    assert ("=Zé", "+16502530000") in {(c[0], c[1]) for c in copied}


async def test_export_reimport_keeps_the_anchor_day(uow_factory, clock, account):
    added = await clients.add_client(
        uow_factory,
        clock,
        account.id,
        clients.AddClient("Maria", "+5511977776666", Decimal(10), date(2026, 3, 31)),
    )
    async with uow_factory() as uow:  # a month later the due date is clamped to 30 April
        await uow.clients.update(evolve(added, due_date=date(2026, 4, 30)))
        await uow.commit()

    data = await export_clients(uow_factory, account.id)
    await import_clients(uow_factory, clock, account.id, data)

    maria = await by_phone(uow_factory, account.id, "+5511977776666")
    assert (maria.due_date, maria.anchor_day) == (date(2026, 4, 30), 31)


async def test_export_hides_archived_unless_asked(uow_factory, clock, account):
    await import_clients(uow_factory, clock, account.id, SHEET.encode())
    bia = await by_phone(uow_factory, account.id, "+5521966665555")
    await clients.archive_client(uow_factory, clock, account.id, bia.id)

    visible = (await export_clients(uow_factory, account.id)).decode("utf-8-sig")
    everything = (await export_clients(uow_factory, account.id, include_archived=True)).decode(
        "utf-8-sig"
    )

    assert "Bia" not in visible
    assert "João" in visible
    assert "Bia" in everything


async def test_expired_account_can_still_export(uow_factory, clock, account):
    await import_clients(uow_factory, clock, account.id, SHEET.encode())
    clock.advance(days=30)
    data = await export_clients(uow_factory, account.id)
    assert data.startswith(codecs.BOM_UTF8)
    assert data.count(b"\r\n") == 4


async def test_export_of_unknown_account_is_refused(uow_factory):
    with pytest.raises(AccountNotFoundError):
        await export_clients(uow_factory, 999)

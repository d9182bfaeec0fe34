"""ClientRepository contract: round trip, account scoping, phone uniqueness, list, bulk upsert."""

from __future__ import annotations

from datetime import date, timedelta, timezone
from decimal import Decimal

import pytest
from attrs import evolve

from clientmgr.core.clients import Client
from clientmgr.core.cycles import BillingCycle
from clientmgr.errors import (
    AccountNotFoundError,
    ClientNotFoundError,
    DuplicatePhoneError,
    InvalidMoneyError,
)
from clientmgr.ports.repositories import ClientTally, Tally, UnitOfWorkFactory

from .factories import NOW, make_client, seed_accounts, seed_client

BRT = timezone(timedelta(hours=-3))


@pytest.mark.parametrize(
    "cycle",
    [
        BillingCycle.monthly(),
        BillingCycle.monthly(3),
        BillingCycle.weekly(2),
        BillingCycle.yearly(),
    ],
    ids=lambda c: c.code,
)
async def test_round_trip_every_field(uow_factory: UnitOfWorkFactory, cycle: BillingCycle) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    client = make_client(
        account_id,
        name="João da Silva",
        price=Decimal("1234567890.99"),
        due_date=date(2026, 2, 28),
        anchor_day=31,
        cycle=cycle,
        plan="IPTV família",
        notes="paga sempre no PIX\nsegunda linha",
        paused=True,
        opted_out=True,
        wa_jid="5511988887777@s.whatsapp.net",
        wa_lid="123456789@lid",
        created_at=NOW.astimezone(BRT),
        updated_at=NOW + timedelta(seconds=1),
    )
    async with uow_factory() as uow:
        added = await uow.clients.add(client)
        await uow.commit()
    assert added.id is not None
    async with uow_factory() as uow:
        loaded = await uow.clients.get(account_id, added.id)
    assert loaded == added
    assert str(loaded.price) == "1234567890.99"
    assert loaded.cycle == cycle
    assert loaded.anchor_day == 31
    assert loaded.created_at == NOW
    assert loaded.created_at.utcoffset() == timedelta(0)


async def test_price_is_an_exact_decimal(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    for n, price in enumerate(["0.10", "0.01", "35.90", "0.30", "99999.99"]):
        client = await seed_client(
            uow_factory, account_id, phone=f"+551190000000{n}", price=Decimal(price)
        )
        async with uow_factory() as uow:
            assert client.id is not None
            loaded = await uow.clients.get(account_id, client.id)
        assert isinstance(loaded.price, Decimal)
        assert loaded.price == Decimal(price)


async def test_ten_thousand_character_name_and_notes(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    name = "Maria " + "ç" * 9_994
    notes = "nota " * 2_000
    client = await seed_client(uow_factory, account_id, name=name, notes=notes)
    async with uow_factory() as uow:
        assert client.id is not None
        loaded = await uow.clients.get(account_id, client.id)
    assert (loaded.name, loaded.notes) == (name, notes)


async def test_get_unknown_client_raises(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(ClientNotFoundError):
            await uow.clients.get(account_id, 987_654)


async def test_client_of_another_account_is_not_found(uow_factory: UnitOfWorkFactory) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, mine)
    assert client.id is not None
    async with uow_factory() as uow:
        with pytest.raises(ClientNotFoundError):
            await uow.clients.get(theirs, client.id)
        assert await uow.clients.get_by_phone(theirs, client.phone) is None
        assert await uow.clients.list(theirs) == []
        assert await uow.clients.count(theirs) == 0


async def test_update_through_another_account_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, mine)
    assert client.id is not None
    async with uow_factory() as uow:
        with pytest.raises(ClientNotFoundError):
            await uow.clients.update(evolve(client, account_id=theirs, name="Roubado"))
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.clients.get(mine, client.id)).name == client.name


async def test_same_phone_in_two_accounts_is_fine(uow_factory: UnitOfWorkFactory) -> None:
    (first, second) = await seed_accounts(uow_factory)
    a = await seed_client(uow_factory, first, name="Ana")
    b = await seed_client(uow_factory, second, name="Bia")
    async with uow_factory() as uow:
        assert await uow.clients.get_by_phone(first, a.phone) == a
        assert await uow.clients.get_by_phone(second, b.phone) == b


async def test_duplicate_phone_names_the_existing_client(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    existing = await seed_client(uow_factory, account_id)
    async with uow_factory() as uow:
        with pytest.raises(DuplicatePhoneError) as raised:
            await uow.clients.add(make_client(account_id, name="Outra"))
    assert raised.value.existing_client_id == existing.id
    assert raised.value.phone == existing.phone


async def test_update_persists(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    changed = evolve(
        client,
        name="Ana Maria",
        phone="+5521977776666",
        price=Decimal("49.90"),
        due_date=date(2026, 4, 15),
        cycle=BillingCycle.monthly(6),
        archived=True,
        wa_lid="999@lid",
        updated_at=NOW + timedelta(days=1),
    )
    async with uow_factory() as uow:
        await uow.clients.update(changed)
        await uow.commit()
    async with uow_factory() as uow:
        assert changed.id is not None
        assert await uow.clients.get(account_id, changed.id) == changed
        assert await uow.clients.get_by_phone(account_id, client.phone) is None


async def test_update_to_a_phone_in_use_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    ana = await seed_client(uow_factory, account_id, phone="+5511911111111")
    bia = await seed_client(uow_factory, account_id, phone="+5511922222222", name="Bia")
    async with uow_factory() as uow:
        with pytest.raises(DuplicatePhoneError) as raised:
            await uow.clients.update(evolve(bia, phone=ana.phone))
    assert raised.value.existing_client_id == ana.id


async def test_update_unknown_client_raises(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(ClientNotFoundError):
            await uow.clients.update(evolve(make_client(account_id), id=555_555))


async def _add_all(uow_factory: UnitOfWorkFactory, clients: list[Client]) -> list[Client]:
    async with uow_factory() as uow:
        added = [await uow.clients.add(c) for c in clients]
        await uow.commit()
    return added


def _names(clients: object) -> list[str]:
    return [c.name for c in clients]  # type: ignore[attr-defined]


async def test_list_orders_by_due_date_then_name_then_id(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    d1, d2 = date(2026, 3, 1), date(2026, 3, 2)
    await _add_all(
        uow_factory,
        [
            make_client(account_id, "+5511900000001", name="carla", due_date=d2),
            make_client(account_id, "+5511900000002", name="Bruno", due_date=d1),
            make_client(account_id, "+5511900000003", name="Ana Maria", due_date=d2),
            make_client(account_id, "+5511900000004", name="Álvaro", due_date=d2),
            make_client(account_id, "+5511900000005", name="Anabela", due_date=d2),
            make_client(account_id, "+5511900000006", name="bruno", due_date=d1),
        ],
    )
    async with uow_factory() as uow:
        listed = await uow.clients.list(account_id)
    # Names compare without case or accents ("Álvaro" sorts as "alvaro"); equal names by id.
    assert _names(listed) == ["Bruno", "bruno", "Álvaro", "Ana Maria", "Anabela", "carla"]


async def test_list_hides_archived_by_default(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    await _add_all(
        uow_factory,
        [
            make_client(account_id, "+5511900000001", name="Ativo"),
            make_client(account_id, "+5511900000002", name="Arquivado", archived=True),
        ],
    )
    async with uow_factory() as uow:
        assert _names(await uow.clients.list(account_id)) == ["Ativo"]
        assert _names(await uow.clients.list(account_id, archived=True)) == ["Arquivado"]
        assert sorted(_names(await uow.clients.list(account_id, archived=None))) == [
            "Arquivado",
            "Ativo",
        ]
        assert await uow.clients.count(account_id) == 1
        assert await uow.clients.count(account_id, archived=True) == 1
        assert await uow.clients.count(account_id, archived=None) == 2


async def test_list_filters_paused(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    await _add_all(
        uow_factory,
        [
            make_client(account_id, "+5511900000001", name="Ativo"),
            make_client(account_id, "+5511900000002", name="Pausado", paused=True),
        ],
    )
    async with uow_factory() as uow:
        assert _names(await uow.clients.list(account_id, paused=True)) == ["Pausado"]
        assert _names(await uow.clients.list(account_id, paused=False)) == ["Ativo"]
        assert len(await uow.clients.list(account_id, paused=None)) == 2


async def test_list_due_bounds_are_inclusive(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    await _add_all(
        uow_factory,
        [
            make_client(
                account_id, f"+551190000000{day}", name=f"Dia {day}", due_date=date(2026, 3, day)
            )
            for day in range(1, 6)
        ],
    )
    async with uow_factory() as uow:
        found = await uow.clients.list(
            account_id, due_from=date(2026, 3, 2), due_to=date(2026, 3, 4)
        )
        assert _names(found) == ["Dia 2", "Dia 3", "Dia 4"]
        assert _names(await uow.clients.list(account_id, due_to=date(2026, 3, 1))) == ["Dia 1"]
        assert _names(await uow.clients.list(account_id, due_from=date(2026, 3, 5))) == ["Dia 5"]


@pytest.mark.parametrize(
    ("search", "expected"),
    [
        ("ana", ["Ana Paula", "Mariana"]),
        ("ANA", ["Ana Paula", "Mariana"]),
        ("joão", ["João Pedro"]),
        ("JOAO", ["João Pedro"]),
        ("  pedro ", ["João Pedro"]),
        ("98888", ["Ana Paula"]),
        ("(11) 98888-7777", ["Ana Paula"]),
        ("+55 21", ["João Pedro"]),
        ("100%", ["Desconto 100%"]),
        ("_", []),
        ("ninguém", []),
    ],
)
async def test_search_by_name_part_or_phone_digits(
    uow_factory: UnitOfWorkFactory, search: str, expected: list[str]
) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    await _add_all(
        uow_factory,
        [
            make_client(account_id, "+5511988887777", name="Ana Paula"),
            make_client(account_id, "+5521955554444", name="João Pedro"),
            make_client(account_id, "+5531933332222", name="Mariana"),
            make_client(account_id, "+5541911110000", name="Desconto 100%"),
        ],
    )
    async with uow_factory() as uow:
        found = await uow.clients.list(account_id, search=search)
    assert _names(found) == expected


async def test_offset_and_limit_page_through_the_ordered_list(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    await _add_all(
        uow_factory,
        [
            make_client(account_id, f"+55119000000{n:02d}", name=f"Cliente {n:02d}")
            for n in range(12)
        ],
    )
    async with uow_factory() as uow:
        pages = [
            _names(await uow.clients.list(account_id, offset=offset, limit=5))
            for offset in (0, 5, 10)
        ]
    assert pages == [
        [f"Cliente {n:02d}" for n in range(5)],
        [f"Cliente {n:02d}" for n in range(5, 10)],
        ["Cliente 10", "Cliente 11"],
    ]


async def test_upsert_many_inserts_then_updates_by_phone(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    batch = [make_client(account_id, f"+5511{n:09d}", name=f"C{n}") for n in range(30)]
    async with uow_factory() as uow:
        assert await uow.clients.upsert_many(account_id, batch) == (30, 0)
        await uow.commit()
    second = [evolve(c, price=Decimal("50.00")) for c in batch[:10]]
    second += [make_client(account_id, f"+5521{n:09d}", name=f"Novo {n}") for n in range(5)]
    async with uow_factory() as uow:
        assert await uow.clients.upsert_many(account_id, second) == (5, 10)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.clients.count(account_id) == 35
        updated = await uow.clients.get_by_phone(account_id, batch[0].phone)
        assert updated is not None
        assert updated.price == Decimal("50.00")


async def test_upsert_many_updates_the_book_fields_and_keeps_id_and_flags(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    existing = await seed_client(
        uow_factory, account_id, archived=True, opted_out=True, wa_jid="old@s.whatsapp.net"
    )
    imported = make_client(
        account_id,
        existing.phone,
        name="Ana Importada",
        plan="Novo plano",
        price=Decimal("12.34"),
        cycle=BillingCycle.weekly(),
        due_date=date(2026, 5, 31),
        notes="da planilha",
        updated_at=NOW + timedelta(days=2),
        created_at=NOW + timedelta(days=2),
    )
    async with uow_factory() as uow:
        assert await uow.clients.upsert_many(account_id, [imported]) == (0, 1)
        await uow.commit()
    async with uow_factory() as uow:
        assert existing.id is not None
        loaded = await uow.clients.get(account_id, existing.id)
    assert loaded == evolve(
        existing,
        name="Ana Importada",
        plan="Novo plano",
        price=Decimal("12.34"),
        cycle=BillingCycle.weekly(),
        due_date=date(2026, 5, 31),
        anchor_day=31,
        notes="da planilha",
        updated_at=NOW + timedelta(days=2),
    )


async def test_upsert_many_writes_to_the_given_account_only(uow_factory: UnitOfWorkFactory) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    theirs_client = await seed_client(uow_factory, theirs, name="Deles")
    forged = make_client(theirs, theirs_client.phone, name="Forjado")
    async with uow_factory() as uow:
        assert await uow.clients.upsert_many(mine, [forged]) == (1, 0)
        await uow.commit()
    async with uow_factory() as uow:
        assert theirs_client.id is not None
        assert (await uow.clients.get(theirs, theirs_client.id)).name == "Deles"
        mine_client = await uow.clients.get_by_phone(mine, forged.phone)
        assert mine_client is not None
        assert mine_client.account_id == mine
        assert mine_client.name == "Forjado"


async def test_upsert_many_counts_a_repeated_phone_once_and_keeps_the_last(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    rows = [
        make_client(account_id, name="Primeira"),
        make_client(account_id, name="Segunda"),
    ]
    async with uow_factory() as uow:
        assert await uow.clients.upsert_many(account_id, rows) == (1, 0)
        assert _names(await uow.clients.list(account_id)) == ["Segunda"]


async def test_upsert_many_of_nothing(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        assert await uow.clients.upsert_many(account_id, []) == (0, 0)


async def test_upsert_many_in_several_batches(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    first = [make_client(account_id, f"+5511{n:09d}", name=f"C{n}") for n in range(3_000)]
    async with uow_factory() as uow:
        assert await uow.clients.upsert_many(account_id, first) == (3_000, 0)
        await uow.commit()
    second = [make_client(account_id, f"+5511{n:09d}", name=f"D{n}") for n in range(1_500, 5_000)]
    async with uow_factory() as uow:
        assert await uow.clients.upsert_many(account_id, second) == (2_000, 1_500)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.clients.count(account_id) == 5_000
        assert len(await uow.clients.list(account_id, search="D")) == 3_500


async def test_unknown_account_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(AccountNotFoundError):
            await uow.clients.add(make_client(31_337))
        with pytest.raises(AccountNotFoundError):
            await uow.clients.upsert_many(31_337, [make_client(31_337)])


async def test_negative_price_is_refused(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(InvalidMoneyError):
            await uow.clients.add(make_client(account_id, price=Decimal("-0.01")))
        with pytest.raises(InvalidMoneyError):
            await uow.clients.upsert_many(
                account_id, [make_client(account_id, price=Decimal("-1"))]
            )
        assert await uow.clients.count(account_id) == 0


async def test_naive_datetimes_are_refused(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        with pytest.raises(ValueError, match="naive"):
            await uow.clients.add(make_client(account_id, created_at=NOW.replace(tzinfo=None)))


async def test_tally_counts_and_sums_one_account_without_archived(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (account_id, other_id) = await seed_accounts(uow_factory)
    today = date(2026, 3, 10)
    rows = [
        ("+5511900000001", "0.10", today - timedelta(days=30), {}),  # overdue
        ("+5511900000002", "0.20", today - timedelta(days=1), {}),  # overdue
        ("+5511900000003", "0.30", today, {}),  # due soon (today)
        ("+5511900000004", "35.90", today + timedelta(days=7), {}),  # due soon (last day)
        ("+5511900000005", "9.99", today + timedelta(days=8), {}),  # later
        ("+5511900000006", "50.00", today - timedelta(days=2), {"paused": True}),
        ("+5511900000007", "60.00", today, {"paused": True}),
        ("+5511900000008", "70.00", today - timedelta(days=2), {"archived": True}),
        ("+5511900000009", "80.00", today, {"archived": True, "paused": True}),
        ("+5511900000010", "1.00", today, {"opted_out": True}),  # still owes: counted
    ]
    for phone, price, due, flags in rows:
        await seed_client(
            uow_factory, account_id, phone=phone, price=Decimal(price), due_date=due, **flags
        )
    await seed_client(uow_factory, other_id, price=Decimal("500.00"), due_date=today)
    async with uow_factory() as uow:
        tally = await uow.clients.tally(account_id, today=today, until=today + timedelta(days=7))
        empty = await uow.clients.tally(999_999, today=today, until=today)
    assert tally == ClientTally(
        active=6,
        paused=2,
        overdue=Tally(2, Decimal("0.30")),
        due_soon=Tally(3, Decimal("37.20")),
    )
    assert isinstance(tally.due_soon.total, Decimal)
    assert str(tally.overdue.total) == "0.30"
    assert empty == ClientTally(0, 0, Tally(0, Decimal("0.00")), Tally(0, Decimal("0.00")))


async def test_count_all_spans_accounts(uow_factory: UnitOfWorkFactory) -> None:
    (first, second) = await seed_accounts(uow_factory)
    await seed_client(uow_factory, first, phone="+5511900000001")
    await seed_client(uow_factory, first, phone="+5511900000002", archived=True)
    await seed_client(uow_factory, second, phone="+5511900000001", paused=True)
    async with uow_factory() as uow:
        assert await uow.clients.count_all() == 2
        assert await uow.clients.count_all(archived=True) == 1
        assert await uow.clients.count_all(archived=None) == 3

"""AuditRepository contract: append, newest first, limit, scoped by account, JSON data."""

from __future__ import annotations

from datetime import timedelta

from clientmgr.ports.repositories import UnitOfWorkFactory

from .factories import NOW, make_event, seed_accounts


async def test_add_and_list_round_trip(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    data = {"campos": ["preço", "vencimento"], "antes": {"valor": "35,90"}, "n": 3, "ok": True}
    event = make_event(
        account_id,
        entity_id="17",
        actor="telegram:1001",
        correlation_id="c0ffee",
        data=data,
    )
    async with uow_factory() as uow:
        await uow.audit.add(event)
        await uow.commit()
    async with uow_factory() as uow:
        (loaded,) = await uow.audit.list(account_id)
    assert loaded.id is not None
    assert loaded.data == data
    assert (
        loaded.action,
        loaded.entity,
        loaded.entity_id,
        loaded.actor,
        loaded.correlation_id,
    ) == (
        "client.added",
        "client",
        "17",
        "telegram:1001",
        "c0ffee",
    )
    assert loaded.created_at == NOW
    assert loaded.created_at.utcoffset() == timedelta(0)


async def test_list_is_newest_first_limited_and_scoped(uow_factory: UnitOfWorkFactory) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        for minute in (5, 1, 9, 3):
            await uow.audit.add(
                make_event(mine, action=f"m{minute}", created_at=NOW + timedelta(minutes=minute))
            )
        await uow.audit.add(make_event(theirs, action="theirs"))
        await uow.audit.add(make_event(None, action="system"))
        await uow.commit()
    async with uow_factory() as uow:
        assert [e.action for e in await uow.audit.list(mine)] == ["m9", "m5", "m3", "m1"]
        assert [e.action for e in await uow.audit.list(mine, limit=2)] == ["m9", "m5"]
        assert [e.action for e in await uow.audit.list(theirs)] == ["theirs"]


async def test_events_at_the_same_instant_list_latest_added_first(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        for n in range(3):
            await uow.audit.add(make_event(account_id, action=f"a{n}"))
        await uow.commit()
    async with uow_factory() as uow:
        assert [e.action for e in await uow.audit.list(account_id)] == ["a2", "a1", "a0"]


async def test_latest_finds_the_newest_matching_event(uow_factory: UnitOfWorkFactory) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    rows = [
        (mine, "wa.dropped", "session", "acc-1", 1),
        (mine, "wa.qr_sent", "session", "acc-1", 2),
        (mine, "wa.dropped", "session", "acc-1", 3),
        (mine, "wa.qr_sent", "session", "acc-2", 4),
        (mine, "wa.dropped", "client", "acc-1", 5),
        (theirs, "wa.dropped", "session", "acc-1", 6),
    ]
    async with uow_factory() as uow:
        for account_id, action, entity, entity_id, minute in rows:
            await uow.audit.add(
                make_event(
                    account_id,
                    action=action,
                    entity=entity,
                    entity_id=entity_id,
                    created_at=NOW + timedelta(minutes=minute),
                    data={"minute": minute},
                )
            )
        await uow.commit()
    both = {"wa.dropped", "wa.qr_sent"}
    async with uow_factory() as uow:
        latest = uow.audit.latest
        found = await latest(mine, entity="session", actions=both)
        assert (found.action, found.data) == ("wa.qr_sent", {"minute": 4})
        found = await latest(mine, entity="session", actions=both, entity_id="acc-1")
        assert (found.action, found.data) == ("wa.dropped", {"minute": 3})
        found = await latest(mine, entity="session", actions={"wa.qr_sent"}, entity_id="acc-1")
        assert found.data == {"minute": 2}
        assert await latest(mine, entity="session", actions=set()) is None
        assert await latest(mine, entity="session", actions={"other"}) is None
        found = await latest(theirs, entity="session", actions=both)
        assert found.data == {"minute": 6}

"""ReminderPlanner and ReminderReports contract: candidates, dedupe, stale reminders, reports.

Runs on every backend (memory, SQLite, PostgreSQL) through the contract fixtures; the
PostgreSQL-only test runs a payment and a planning insert at the same time.
"""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest
from attrs import evolve
from sqlalchemy import text

from clientmgr.adapters.memory.planning import InMemoryReminderPlanner
from clientmgr.adapters.sql.planning import SqlReminderPlanner
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.templates import TemplateKind
from clientmgr.ports.planning import (
    DeliveryStats,
    PlannedReminder,
    ReasonCount,
)
from clientmgr.ports.repositories import UnitOfWorkFactory

from .factories import NOW, make_client, make_message, seed_accounts, seed_client

DUE = date(2026, 3, 15)


@pytest.fixture
def planner(backend, uow_factory, session_factory) -> InMemoryReminderPlanner | SqlReminderPlanner:
    if backend.name == "memory":
        return InMemoryReminderPlanner(uow_factory.__self__)  # the store behind the factory
    return SqlReminderPlanner(session_factory)


def reminder(account_id: int, client, *, due: date = DUE, key: str | None = None, **fields):
    message = make_message(
        account_id,
        client.id,
        to=client.phone,
        dedupe_key=key or f"{account_id}:{client.id}:due_today:{due.isoformat()}:0",
        next_attempt_at=NOW,
        **fields,
    )
    return PlannedReminder(message=message, due_date=due)


async def stored(uow_factory: UnitOfWorkFactory, account_id: int, key: str) -> OutboxMessage | None:
    async with uow_factory() as uow:
        return await uow.outbox.get_by_dedupe_key(account_id, key)


async def test_candidates_are_the_reachable_clients_due_on_the_dates(uow_factory, planner):
    account_id, other_id = await seed_accounts(uow_factory)
    later = await seed_client(uow_factory, account_id, phone="+5511988880001", due_date=DUE)
    sooner = await seed_client(
        uow_factory, account_id, phone="+5511988880002", due_date=DUE - timedelta(days=3)
    )
    same_day = await seed_client(uow_factory, account_id, phone="+5511988880003", due_date=DUE)
    for phone, flag in (("+5511988880004", "paused"), ("+5511988880005", "archived")):
        await seed_client(uow_factory, account_id, phone=phone, due_date=DUE, **{flag: True})
    await seed_client(uow_factory, account_id, phone="+5511988880006", opted_out=True)
    await seed_client(uow_factory, account_id, phone="+5511988880007", due_date=DUE + timedelta(1))
    await seed_client(uow_factory, other_id, phone="+5511988880001", due_date=DUE)

    found = await planner.candidates(account_id, {DUE, DUE - timedelta(days=3)})

    assert [c.id for c in found] == [sooner.id, later.id, same_day.id]
    assert found[1] == later
    assert await planner.candidates(account_id, []) == []


async def test_existing_keys_are_scoped_to_the_account(uow_factory, planner):
    account_id, other_id = await seed_accounts(uow_factory)
    mine = await seed_client(uow_factory, account_id)
    theirs = await seed_client(uow_factory, other_id)
    async with uow_factory() as uow:
        await uow.outbox.add(make_message(account_id, mine.id, status=OutboxStatus.CANCELLED))
        await uow.outbox.add(make_message(other_id, theirs.id))
        await uow.commit()
    my_key = make_message(account_id, mine.id).dedupe_key
    their_key = make_message(other_id, theirs.id).dedupe_key
    assert await planner.existing_keys(account_id, [my_key, their_key, "nope"]) == {my_key}
    assert await planner.existing_keys(account_id, []) == set()


async def test_enqueue_inserts_once_per_dedupe_key(uow_factory, planner):
    (account_id, _) = await seed_accounts(uow_factory)
    ana = await seed_client(uow_factory, account_id, phone="+5511988880001")
    bia = await seed_client(uow_factory, account_id, phone="+5511988880002", name="Bia")
    batch = [
        reminder(account_id, ana, kind=TemplateKind.DUE_TODAY, text="Oi Ana"),
        reminder(account_id, bia, text="Oi Bia"),
    ]

    assert await planner.enqueue(account_id, batch) == 2
    assert await planner.enqueue(account_id, batch) == 0
    assert await planner.enqueue(account_id, []) == 0

    for item in batch:
        message = await stored(uow_factory, account_id, item.message.dedupe_key)
        assert message is not None
        assert message == evolve(item.message, id=message.id)
        assert message.status is OutboxStatus.QUEUED


async def test_enqueue_skips_keys_held_in_any_status(uow_factory, planner):
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    item = reminder(account_id, client, text="new text")
    async with uow_factory() as uow:
        await uow.outbox.add(evolve(item.message, text="old", status=OutboxStatus.CANCELLED))
        await uow.commit()
    assert await planner.enqueue(account_id, [item]) == 0
    message = await stored(uow_factory, account_id, item.message.dedupe_key)
    assert message is not None
    assert (message.text, message.status) == ("old", OutboxStatus.CANCELLED)


async def test_enqueue_drops_stale_and_foreign_reminders(uow_factory, planner):
    account_id, other_id = await seed_accounts(uow_factory)
    paid = await seed_client(uow_factory, account_id, phone="+5511988880001")
    paused = await seed_client(uow_factory, account_id, phone="+5511988880002", paused=True)
    opted = await seed_client(uow_factory, account_id, phone="+5511988880003", opted_out=True)
    fine = await seed_client(uow_factory, account_id, phone="+5511988880004")
    theirs = await seed_client(uow_factory, other_id, phone="+5511988880005")
    batch = [
        # rendered for the old due date; the client has paid and is due a month later
        reminder(account_id, paid, due=DUE - timedelta(days=31)),
        reminder(account_id, paused),
        reminder(account_id, opted),
        reminder(account_id, fine),
        # another account's client, or a message claiming another account
        reminder(account_id, theirs, key="forged-1"),
        PlannedReminder(message=reminder(other_id, theirs, key="forged-2").message, due_date=DUE),
    ]
    assert await planner.enqueue(account_id, batch) == 1
    assert await stored(uow_factory, account_id, batch[3].message.dedupe_key) is not None
    for item in batch[:3]:
        assert await stored(uow_factory, account_id, item.message.dedupe_key) is None
    assert await stored(uow_factory, other_id, "forged-1") is None
    assert await stored(uow_factory, other_id, "forged-2") is None


async def test_enqueue_handles_a_large_batch(uow_factory, planner):
    (account_id, _) = await seed_accounts(uow_factory)
    clients = []
    async with uow_factory() as uow:
        for i in range(300):
            clients.append(await uow.clients.add(make_client(account_id, f"+55119880{i:05d}")))
        await uow.commit()
    batch = [reminder(account_id, c, text=f"Oi {i}") for i, c in enumerate(clients)]
    assert await planner.enqueue(account_id, batch) == 300
    assert await planner.enqueue(account_id, batch) == 0


async def test_delivery_stats_count_the_window(uow_factory, planner):
    account_id, other_id = await seed_accounts(uow_factory)
    ana = await seed_client(uow_factory, account_id, name="Ana", phone="+5511988880001")
    bia = await seed_client(uow_factory, account_id, name="Bia", phone="+5511988880002")
    theirs = await seed_client(uow_factory, other_id)
    start, end = NOW - timedelta(days=1), NOW
    hour = timedelta(hours=1)
    rows = [
        # sent in the window: 4 here + 1 below (end - 7h), 3 delivered (one of them read)
        (ana, OutboxStatus.SENT, {"sent_at": end - 2 * hour}),
        (ana, OutboxStatus.DELIVERED, {"sent_at": start}),
        (bia, OutboxStatus.DELIVERED, {"sent_at": end - hour}),
        (bia, OutboxStatus.READ, {"sent_at": end - 3 * hour}),
        # sent before or after the window
        (ana, OutboxStatus.READ, {"sent_at": start - hour}),
        (ana, OutboxStatus.SENT, {"sent_at": end}),
        # failed: three in the window, two reasons, one before it
        (bia, OutboxStatus.FAILED, {"next_attempt_at": start + hour, "last_error": "Sem WA"}),
        (ana, OutboxStatus.FAILED, {"next_attempt_at": start + 2 * hour, "last_error": "Sem WA"}),
        (ana, OutboxStatus.FAILED, {"next_attempt_at": end - hour, "last_error": "Deslogado"}),
        (ana, OutboxStatus.FAILED, {"next_attempt_at": start - hour, "last_error": "Velho"}),
        # waiting now
        (ana, OutboxStatus.QUEUED, {"next_attempt_at": end + hour}),
        (bia, OutboxStatus.SENDING, {"next_attempt_at": end - hour}),
        (ana, OutboxStatus.CANCELLED, {"next_attempt_at": end - hour}),
        # undelivered window: [start - 6h, end - 6h)
        (bia, OutboxStatus.SENT, {"sent_at": start - 5 * hour}),
        (ana, OutboxStatus.SENT, {"sent_at": end - 7 * hour}),
        (ana, OutboxStatus.SENT, {"sent_at": start - 7 * hour}),  # flagged yesterday
        # another account's message
        (theirs, OutboxStatus.FAILED, {"next_attempt_at": start + hour, "last_error": "X"}),
    ]
    async with uow_factory() as uow:
        for n, (client, status, fields) in enumerate(rows):
            await uow.outbox.add(
                make_message(
                    client.account_id,
                    client.id,
                    dedupe_key=f"k{n}",
                    status=status,
                    kind=TemplateKind.OVERDUE if n % 2 else TemplateKind.DUE_TODAY,
                    **fields,
                )
            )
        await uow.commit()

    stats = await planner.delivery_stats(
        account_id,
        start,
        end,
        undelivered_start=start - 6 * hour,
        undelivered_end=end - 6 * hour,
        limit=1,
    )

    assert (stats.sent, stats.delivered, stats.read, stats.failed) == (5, 3, 1, 3)
    assert stats.reasons == (ReasonCount("Sem WA", 2), ReasonCount("Deslogado", 1))
    [failure] = stats.failures
    assert (failure.client_id, failure.client_name, failure.reason) == (bia.id, "Bia", "Sem WA")
    assert failure.at == start + hour
    assert failure.status is OutboxStatus.FAILED
    assert failure.kind is TemplateKind.DUE_TODAY
    assert stats.undelivered_count == 2
    [late] = stats.undelivered
    assert (late.client_name, late.at, late.status) == ("Bia", start - 5 * hour, OutboxStatus.SENT)
    assert stats.pending == 2

    everything = await planner.delivery_stats(
        account_id, start, end, undelivered_start=start, undelivered_end=start, limit=10
    )
    assert [f.client_name for f in everything.failures] == ["Bia", "Ana", "Ana"]
    assert everything.undelivered == ()


async def test_delivery_stats_of_a_quiet_account_are_zero(uow_factory, planner):
    (account_id, _) = await seed_accounts(uow_factory)
    stats = await planner.delivery_stats(
        account_id, NOW - timedelta(days=1), NOW, undelivered_start=NOW, undelivered_end=NOW
    )
    assert stats == DeliveryStats()


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_a_payment_racing_the_insert_never_leaves_a_stale_reminder(
    uow_factory, planner, session_factory
):
    """PostgreSQL: the client row is locked by a payment that has not committed; the planning
    insert waits for it and then drops the reminder, since the due date moved."""
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    async with session_factory() as payment:
        await payment.execute(
            text("UPDATE clients SET due_date = :due WHERE id = :id"),
            {"due": DUE + timedelta(days=31), "id": client.id},
        )
        insert = asyncio.create_task(planner.enqueue(account_id, [reminder(account_id, client)]))
        await asyncio.sleep(0.3)
        assert not insert.done()  # waiting on the payment's row lock
        await payment.commit()
    assert await asyncio.wait_for(insert, 10) == 0

"""OutboxRepository contract: dedupe, scoping, order, status changes, cancelling a queue."""

from __future__ import annotations

from datetime import timedelta

import pytest
from attrs import evolve

from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import ClientNotFoundError, NotFoundError
from clientmgr.ports.repositories import OutboxActivity, UnitOfWorkFactory

from .factories import NOW, make_message, seed_accounts, seed_client


async def test_add_round_trips(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    message = make_message(
        account_id,
        client.id,
        kind=TemplateKind.OVERDUE,
        text="Olá " * 2_500,
        attempts=2,
        lease_until=NOW + timedelta(seconds=30),
        last_error="timeout",
    )
    async with uow_factory() as uow:
        added = await uow.outbox.add(message)
        await uow.commit()
    assert added is not None
    assert added.id is not None
    async with uow_factory() as uow:
        loaded = await uow.outbox.get(account_id, added.id)
    assert loaded == added
    assert loaded.status is OutboxStatus.QUEUED
    assert loaded.next_attempt_at.utcoffset() == timedelta(0)


async def test_same_dedupe_key_is_stored_once(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    async with uow_factory() as uow:
        first = await uow.outbox.add(make_message(account_id, client.id))
        await uow.commit()
    async with uow_factory() as uow:
        again = await uow.outbox.add(make_message(account_id, client.id, text="outro texto"))
        assert again is None
        listed = await uow.outbox.list_for_client(account_id, client.id)
    assert listed == [first]


async def test_message_without_client(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        added = await uow.outbox.add(make_message(account_id, None, dedupe_key="seller:notice:1"))
        await uow.commit()
    assert added is not None
    assert added.id is not None
    async with uow_factory() as uow:
        assert (await uow.outbox.get(account_id, added.id)).client_id is None


async def test_message_for_another_accounts_client_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    their_client = await seed_client(uow_factory, theirs)
    assert their_client.id is not None
    async with uow_factory() as uow:
        with pytest.raises(ClientNotFoundError):
            await uow.outbox.add(make_message(mine, their_client.id))


async def test_get_is_scoped_by_account(uow_factory: UnitOfWorkFactory) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, mine)
    assert client.id is not None
    async with uow_factory() as uow:
        added = await uow.outbox.add(make_message(mine, client.id))
        await uow.commit()
    assert added is not None
    assert added.id is not None
    async with uow_factory() as uow:
        with pytest.raises(NotFoundError):
            await uow.outbox.get(theirs, added.id)
        with pytest.raises(NotFoundError):
            await uow.outbox.get(mine, added.id + 1000)
        assert await uow.outbox.list_for_client(theirs, client.id) == []


async def test_list_for_client_is_newest_first(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    other = await seed_client(uow_factory, account_id, phone="+5511900000001")
    assert client.id is not None
    assert other.id is not None
    async with uow_factory() as uow:
        older = await uow.outbox.add(
            make_message(account_id, client.id, -3, created_at=NOW - timedelta(days=3))
        )
        newer = await uow.outbox.add(
            make_message(account_id, client.id, 1, created_at=NOW + timedelta(days=1))
        )
        same_time_later_id = await uow.outbox.add(make_message(account_id, client.id, 0))
        same_time_first = await uow.outbox.add(make_message(account_id, client.id, 3))
        await uow.outbox.add(make_message(account_id, other.id))
        await uow.commit()
    assert None not in (older, newer, same_time_later_id, same_time_first)
    async with uow_factory() as uow:
        listed = await uow.outbox.list_for_client(account_id, client.id)
    assert [m.id for m in listed] == [
        newer.id,  # type: ignore[union-attr]
        same_time_first.id,  # type: ignore[union-attr]
        same_time_later_id.id,  # type: ignore[union-attr]
        older.id,  # type: ignore[union-attr]
    ]


async def test_set_status_records_what_is_given(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    async with uow_factory() as uow:
        added = await uow.outbox.add(make_message(account_id, client.id))
        await uow.commit()
    assert added is not None
    assert added.id is not None
    sent_at = NOW + timedelta(minutes=7)
    async with uow_factory() as uow:
        await uow.outbox.set_status(
            account_id, added.id, OutboxStatus.SENT, provider_message_id="3EB0ABC", at=sent_at
        )
        await uow.commit()
    async with uow_factory() as uow:
        sent = await uow.outbox.get(account_id, added.id)
        assert (sent.status, sent.provider_message_id, sent.sent_at) == (
            OutboxStatus.SENT,
            "3EB0ABC",
            sent_at,
        )
        await uow.outbox.set_status(account_id, added.id, OutboxStatus.DELIVERED, at=NOW)
        await uow.outbox.set_status(
            account_id, added.id, OutboxStatus.FAILED, error="número inválido"
        )
        await uow.commit()
    async with uow_factory() as uow:
        failed = await uow.outbox.get(account_id, added.id)
    assert failed.status is OutboxStatus.FAILED
    assert failed.last_error == "número inválido"
    assert failed.provider_message_id == "3EB0ABC"
    assert failed.sent_at == sent_at


async def test_set_status_through_another_account_is_refused(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, mine)
    assert client.id is not None
    async with uow_factory() as uow:
        added = await uow.outbox.add(make_message(mine, client.id))
        await uow.commit()
    assert added is not None
    assert added.id is not None
    async with uow_factory() as uow:
        with pytest.raises(NotFoundError):
            await uow.outbox.set_status(theirs, added.id, OutboxStatus.CANCELLED)
        await uow.commit()
    async with uow_factory() as uow:
        assert (await uow.outbox.get(mine, added.id)).status is OutboxStatus.QUEUED


async def test_cancel_queued_for_client_touches_only_that_clients_queued_messages(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, mine)
    other = await seed_client(uow_factory, mine, phone="+5511900000001")
    assert client.id is not None
    assert other.id is not None
    async with uow_factory() as uow:
        queued = [await uow.outbox.add(make_message(mine, client.id, n)) for n in (-3, 0, 1)]
        sent = await uow.outbox.add(make_message(mine, client.id, 3))
        other_queued = await uow.outbox.add(make_message(mine, other.id))
        assert sent is not None
        assert sent.id is not None
        await uow.outbox.set_status(mine, sent.id, OutboxStatus.SENT)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.cancel_queued_for_client(theirs, client.id) == 0
        assert await uow.outbox.cancel_queued_for_client(mine, client.id) == 3
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.cancel_queued_for_client(mine, client.id) == 0
        statuses = {m.id: m.status for m in await uow.outbox.list_for_client(mine, client.id)}
        assert other_queued is not None
        assert other_queued.id is not None
        assert (await uow.outbox.get(mine, other_queued.id)).status is OutboxStatus.QUEUED
    assert statuses == {
        **{m.id: OutboxStatus.CANCELLED for m in queued},  # type: ignore[union-attr]
        sent.id: OutboxStatus.SENT,
    }


async def test_cancelling_a_clients_queue_drops_the_waiting_note(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """A note such as "waiting for WhatsApp" described the queue; cancelled, it no longer
    applies and must not read as the reason."""
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    async with uow_factory() as uow:
        added = await uow.outbox.add(
            make_message(account_id, client.id, last_error="Aguardando seu WhatsApp")
        )
        await uow.outbox.cancel_queued_for_client(account_id, client.id)
        await uow.commit()
    assert added is not None
    assert added.id is not None
    async with uow_factory() as uow:
        cancelled = await uow.outbox.get(account_id, added.id)
    assert (cancelled.status, cancelled.last_error) == (OutboxStatus.CANCELLED, None)


# --- the seller's queue, for sending by hand ---------------------------------------------------


async def _queue_for(
    uow_factory: UnitOfWorkFactory, account_id: int, client_id: int | None, due: list[int]
) -> list[OutboxMessage]:
    """Queued messages due at NOW + ``due[i]`` minutes, added in that order."""
    added = []
    async with uow_factory() as uow:
        for n, minutes in enumerate(due):
            message = await uow.outbox.add(
                make_message(
                    account_id,
                    client_id,
                    dedupe_key=f"hand:{account_id}:{client_id}:{n}",
                    next_attempt_at=NOW + timedelta(minutes=minutes),
                )
            )
            assert message is not None
            added.append(message)
        await uow.commit()
    return added


async def test_list_queued_is_oldest_due_first_limited_and_counted(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, mine)
    their_client = await seed_client(uow_factory, theirs)
    assert client.id is not None
    assert their_client.id is not None
    later, oldest, tie_first, tie_second, done = await _queue_for(
        uow_factory, mine, client.id, [30, -60, 0, 0, -90]
    )
    [unrelated] = await _queue_for(uow_factory, mine, None, [10])
    await _queue_for(uow_factory, theirs, their_client.id, [-120])
    async with uow_factory() as uow:
        assert done.id is not None
        await uow.outbox.set_status(mine, done.id, OutboxStatus.SENT)
        await uow.commit()
    async with uow_factory() as uow:
        first_three = await uow.outbox.list_queued(mine, limit=3)
        everything = await uow.outbox.list_queued(mine, limit=50)
        count = await uow.outbox.count_queued(mine)
        assert await uow.outbox.count_queued(theirs) == 1
        assert await uow.outbox.count_queued(theirs + 1000) == 0
        assert await uow.outbox.list_queued(theirs + 1000, limit=5) == []
        with pytest.raises(ValueError, match="limit"):
            await uow.outbox.list_queued(mine, limit=0)
    assert first_three == [oldest, tie_first, tie_second]
    assert everything == [oldest, tie_first, tie_second, unrelated, later]
    assert count == 5


async def test_cancel_if_queued_cancels_one_queued_message_with_its_note(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    target, other = await _queue_for(uow_factory, account_id, client.id, [0, 1])
    assert target.id is not None
    async with uow_factory() as uow:
        assert await uow.outbox.cancel_if_queued(account_id, target.id, error="à mão")
        await uow.commit()
    async with uow_factory() as uow:
        cancelled = await uow.outbox.get(account_id, target.id)
        assert not await uow.outbox.cancel_if_queued(account_id, target.id, error="de novo")
        assert await uow.outbox.list_queued(account_id, limit=5) == [other]
        assert await uow.outbox.count_queued(account_id) == 1
    assert cancelled == evolve(target, status=OutboxStatus.CANCELLED, last_error="à mão")


async def test_cancel_if_queued_without_a_note_keeps_the_old_one(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        added = await uow.outbox.add(make_message(account_id, None, last_error="nota"))
        await uow.commit()
    assert added is not None
    assert added.id is not None
    async with uow_factory() as uow:
        assert await uow.outbox.cancel_if_queued(account_id, added.id)
        await uow.commit()
    async with uow_factory() as uow:
        cancelled = await uow.outbox.get(account_id, added.id)
    assert (cancelled.status, cancelled.last_error) == (OutboxStatus.CANCELLED, "nota")


@pytest.mark.parametrize(
    "status",
    [
        OutboxStatus.SENDING,
        OutboxStatus.SENT,
        OutboxStatus.DELIVERED,
        OutboxStatus.READ,
        OutboxStatus.FAILED,
        OutboxStatus.CANCELLED,
    ],
)
async def test_cancel_if_queued_leaves_a_message_that_left_the_queue(
    uow_factory: UnitOfWorkFactory, status: OutboxStatus
) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    [message] = await _queue_for(uow_factory, account_id, client.id, [0])
    assert message.id is not None
    async with uow_factory() as uow:
        await uow.outbox.set_status(account_id, message.id, status, error="antes")
        await uow.commit()
    async with uow_factory() as uow:
        assert not await uow.outbox.cancel_if_queued(account_id, message.id, error="à mão")
        await uow.commit()
    async with uow_factory() as uow:
        after = await uow.outbox.get(account_id, message.id)
    assert (after.status, after.last_error) == (status, "antes")


async def test_cancel_if_queued_is_scoped_by_account(uow_factory: UnitOfWorkFactory) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, mine)
    assert client.id is not None
    [message] = await _queue_for(uow_factory, mine, client.id, [0])
    assert message.id is not None
    async with uow_factory() as uow:
        assert not await uow.outbox.cancel_if_queued(theirs, message.id, error="x")
        assert not await uow.outbox.cancel_if_queued(mine, message.id + 1000, error="x")
        assert await uow.outbox.list_queued(theirs, limit=5) == []
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.get(mine, message.id) == message


async def test_cancel_if_queued_sees_a_claim_made_after_its_unit_of_work_began(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """The seller's screen was read, then the dispatcher claimed the message: the tap on
    "sent by hand" must not cancel a message that is going out."""
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    [message] = await _queue_for(uow_factory, account_id, client.id, [-1])
    assert message.id is not None
    async with uow_factory() as late:
        assert await late.outbox.list_queued(account_id, limit=5) == [message]
        async with uow_factory() as dispatcher:
            claimed = await dispatcher.outbox.claim_due(
                NOW, owner="w1", lease=timedelta(minutes=1), limit=10
            )
            await dispatcher.commit()
        assert [m.id for m in claimed] == [message.id]
        assert not await late.outbox.cancel_if_queued(account_id, message.id, error="à mão")
        await late.commit()
    async with uow_factory() as uow:
        assert (await uow.outbox.get(account_id, message.id)).status is OutboxStatus.SENDING


async def test_get_by_dedupe_key_is_scoped(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, other_id) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    async with uow_factory() as uow:
        added = await uow.outbox.add(make_message(account_id, client.id, dedupe_key="now:1:2:x"))
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.get_by_dedupe_key(account_id, "now:1:2:x") == added
        assert await uow.outbox.get_by_dedupe_key(other_id, "now:1:2:x") is None
        assert await uow.outbox.get_by_dedupe_key(account_id, "now:1:2:y") is None


async def test_activity_between_counts_created_sent_and_pending(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (first, second) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, first)
    other = await seed_client(uow_factory, second)
    assert client.id is not None
    assert other.id is not None
    start, end = NOW, NOW + timedelta(days=1)
    rows = [
        (first, client.id, start - timedelta(microseconds=1)),  # before the period
        (first, client.id, start),
        (second, other.id, start),
        (second, other.id, start),
        (first, client.id, end),  # after the period, still queued
    ]
    async with uow_factory() as uow:
        ids = []
        for offset, (account_id, client_id, created_at) in enumerate(rows):
            added = await uow.outbox.add(
                make_message(account_id, client_id, offset, created_at=created_at)
            )
            assert added is not None
            assert added.id is not None
            ids.append(added.id)
        before, inside, sending, delivered, _ = ids
        await uow.outbox.set_status(first, before, OutboxStatus.SENT, at=start)
        await uow.outbox.set_status(first, inside, OutboxStatus.SENT, at=end)  # sent after
        await uow.outbox.set_status(second, sending, OutboxStatus.SENDING)
        await uow.outbox.set_status(
            second, delivered, OutboxStatus.SENT, at=start + timedelta(hours=1)
        )
        await uow.outbox.set_status(
            second, delivered, OutboxStatus.DELIVERED, at=start + timedelta(hours=2)
        )
        await uow.commit()
    async with uow_factory() as uow:
        activity = await uow.outbox.activity_between(start, end)
        nothing = await uow.outbox.activity_between(
            end + timedelta(days=1), end + timedelta(days=2)
        )
    assert activity == OutboxActivity(queued=3, sent=2, pending=2)
    assert nothing == OutboxActivity(queued=0, sent=0, pending=2)

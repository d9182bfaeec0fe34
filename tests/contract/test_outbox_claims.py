"""OutboxRepository contract, the dispatcher's part: claims with leases, settling a claim,
and the per-session pacing rows; on memory, SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import pytest

from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.ports.pacing import PauseReason, SessionPacing
from clientmgr.ports.repositories import UnitOfWorkFactory

from .factories import NOW, make_message, seed_accounts, seed_client

LEASE = timedelta(seconds=30)


async def _queue(
    uow_factory: UnitOfWorkFactory,
    account_id: int,
    client_id: int,
    count: int,
    *,
    due: list[timedelta] | None = None,
    prefix: str = "m",
) -> list[OutboxMessage]:
    """``count`` queued messages of one client, due at NOW + ``due[i]`` (default NOW - i s)."""
    added = []
    async with uow_factory() as uow:
        for n in range(count):
            offset = due[n] if due is not None else -timedelta(seconds=n)
            message = await uow.outbox.add(
                make_message(
                    account_id,
                    client_id,
                    dedupe_key=f"{prefix}:{account_id}:{n}",
                    next_attempt_at=NOW + offset,
                )
            )
            assert message is not None
            added.append(message)
        await uow.commit()
    return added


async def _claim(
    uow_factory: UnitOfWorkFactory,
    owner: str,
    *,
    now=NOW,  # type: ignore[no-untyped-def]
    limit: int = 100,
    per_account: int | None = None,
) -> list[OutboxMessage]:
    async with uow_factory() as uow:
        claimed = await uow.outbox.claim_due(
            now, owner=owner, lease=LEASE, limit=limit, per_account=per_account
        )
        await uow.commit()
    return list(claimed)


async def _one_client(uow_factory: UnitOfWorkFactory) -> tuple[int, int]:
    (account_id, _) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, account_id)
    assert client.id is not None
    return account_id, client.id


async def test_claim_takes_due_messages_oldest_first_and_leases_them(
    uow_factory: UnitOfWorkFactory,
) -> None:
    account_id, client_id = await _one_client(uow_factory)
    due = [-timedelta(seconds=1), timedelta(seconds=1), -timedelta(minutes=5), timedelta(0)]
    queued = await _queue(uow_factory, account_id, client_id, 4, due=due)
    claimed = await _claim(uow_factory, "w1", limit=2)
    assert [m.id for m in claimed] == [queued[2].id, queued[0].id]
    for message in claimed:
        assert message.status is OutboxStatus.SENDING
        assert message.lease_until == NOW + LEASE
        assert message.attempts == 1
    # The rest: one due exactly now, one not yet due.
    assert [m.id for m in await _claim(uow_factory, "w2")] == [queued[3].id]
    assert await _claim(uow_factory, "w3") == []
    async with uow_factory() as uow:
        stored = await uow.outbox.get(account_id, queued[2].id)  # type: ignore[arg-type]
        untouched = await uow.outbox.get(account_id, queued[1].id)  # type: ignore[arg-type]
    assert stored == claimed[0]
    assert untouched.status is OutboxStatus.QUEUED
    assert untouched.attempts == 0


async def test_only_queued_messages_and_dead_leases_are_claimed(
    uow_factory: UnitOfWorkFactory,
) -> None:
    account_id, client_id = await _one_client(uow_factory)
    queued = await _queue(uow_factory, account_id, client_id, 4)
    async with uow_factory() as uow:
        assert queued[0].id is not None
        assert queued[1].id is not None
        await uow.outbox.set_status(account_id, queued[0].id, OutboxStatus.FAILED)
        await uow.outbox.set_status(account_id, queued[1].id, OutboxStatus.CANCELLED)
        await uow.commit()
    first = await _claim(uow_factory, "w1")
    assert sorted(m.id for m in first) == sorted([queued[2].id, queued[3].id])
    # Leased: nobody else gets them until the lease ends ...
    assert await _claim(uow_factory, "w2", now=NOW + LEASE - timedelta(microseconds=1)) == []
    # ... then the next worker takes them over, counting another attempt.
    again = await _claim(uow_factory, "w2", now=NOW + LEASE)
    assert sorted(m.id for m in again) == sorted(m.id for m in first)
    assert {m.attempts for m in again} == {2}
    assert {m.lease_until for m in again} == {NOW + 2 * LEASE}


async def test_claim_limits_messages_per_account(uow_factory: UnitOfWorkFactory) -> None:
    (first, second) = await seed_accounts(uow_factory)
    one = await seed_client(uow_factory, first)
    two = await seed_client(uow_factory, second)
    assert one.id is not None
    assert two.id is not None
    await _queue(uow_factory, first, one.id, 5)
    await _queue(uow_factory, second, two.id, 5)
    claimed = await _claim(uow_factory, "w1", limit=10, per_account=2)
    assert sorted(m.account_id for m in claimed) == [first, first, second, second]
    # Each account's oldest due came first.
    for account_id in (first, second):
        mine = [m for m in claimed if m.account_id == account_id]
        assert [m.next_attempt_at for m in mine] == [
            NOW - timedelta(seconds=4),
            NOW - timedelta(seconds=3),
        ]
    assert len(await _claim(uow_factory, "w2", limit=3, per_account=2)) == 3


async def test_claim_skips_sessions_that_may_not_send_yet(uow_factory: UnitOfWorkFactory) -> None:
    (paced, free) = await seed_accounts(uow_factory)
    one = await seed_client(uow_factory, paced)
    two = await seed_client(uow_factory, free)
    assert one.id is not None
    assert two.id is not None
    await _queue(uow_factory, paced, one.id, 2)
    await _queue(uow_factory, free, two.id, 2)
    async with uow_factory() as uow:
        pacing = await uow.outbox.lock_pacing("acc-paced", paced, NOW)
        await uow.outbox.save_pacing(
            SessionPacing(
                session_id=pacing.session_id,
                account_id=paced,
                next_send_at=NOW + timedelta(seconds=10),
                day=date(2026, 3, 10),
                first_seen_at=NOW,
                updated_at=NOW,
            )
        )
        free_pacing = await uow.outbox.lock_pacing("acc-free", free, NOW)
        await uow.outbox.save_pacing(free_pacing)
        await uow.commit()
    claimed = await _claim(uow_factory, "w1")
    assert {m.account_id for m in claimed} == {free}
    later = await _claim(uow_factory, "w2", now=NOW + timedelta(seconds=10))
    assert {m.account_id for m in later} == {paced}


async def test_concurrent_claims_never_share_a_message(uow_factory: UnitOfWorkFactory) -> None:
    accounts = await seed_accounts(uow_factory, 3)
    queued: list[OutboxMessage] = []
    for account_id in accounts:
        client = await seed_client(uow_factory, account_id)
        assert client.id is not None
        queued += await _queue(uow_factory, account_id, client.id, 20)

    async def worker(name: str) -> list[int]:
        taken: list[int] = []
        while batch := await _claim(uow_factory, name, limit=4):
            taken += [m.id for m in batch if m.id is not None]
        return taken

    results = await asyncio.gather(*(worker(f"w{n}") for n in range(6)))
    everything = [message_id for taken in results for message_id in taken]
    assert len(everything) == len(set(everything))
    assert sorted(everything) == sorted(m.id for m in queued if m.id is not None)


async def test_a_claim_does_not_retake_what_another_claimed_since_it_began(
    uow_factory: UnitOfWorkFactory,
) -> None:
    account_id, client_id = await _one_client(uow_factory)
    await _queue(uow_factory, account_id, client_id, 3)
    async with uow_factory() as early:
        assert await early.outbox.get_pacing("acc-none") is None  # its snapshot starts here
        first = await _claim(uow_factory, "w1", limit=2)
        rest = await early.outbox.claim_due(NOW, owner="w2", lease=LEASE, limit=10)
        await early.commit()
    assert len(first) == 2
    assert len(rest) == 1
    assert rest[0].id not in {m.id for m in first}


async def test_release_claim_requeues_only_for_its_owner(uow_factory: UnitOfWorkFactory) -> None:
    account_id, client_id = await _one_client(uow_factory)
    (message,) = await _queue(uow_factory, account_id, client_id, 1)
    assert message.id is not None
    await _claim(uow_factory, "w1")
    later = NOW + timedelta(minutes=3)
    async with uow_factory() as uow:
        assert not await uow.outbox.release_claim(
            account_id, message.id, "someone-else", OutboxStatus.QUEUED, next_attempt_at=later
        )
        assert await uow.outbox.release_claim(
            account_id,
            message.id,
            "w1",
            OutboxStatus.QUEUED,
            next_attempt_at=later,
            error="WhatsApp indisponível",
            refund_attempt=True,
        )
        # Released: the same owner cannot settle it twice.
        assert not await uow.outbox.release_claim(
            account_id, message.id, "w1", OutboxStatus.FAILED, error="x"
        )
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.outbox.get(account_id, message.id)
    assert stored.status is OutboxStatus.QUEUED
    assert stored.next_attempt_at == later
    assert stored.attempts == 0
    assert stored.lease_until is None
    assert stored.last_error == "WhatsApp indisponível"
    assert await _claim(uow_factory, "w2") == []
    assert [m.id for m in await _claim(uow_factory, "w2", now=later)] == [message.id]


async def test_a_worker_whose_lease_ran_out_cannot_settle_its_successors_claim(
    uow_factory: UnitOfWorkFactory,
) -> None:
    account_id, client_id = await _one_client(uow_factory)
    (message,) = await _queue(uow_factory, account_id, client_id, 1)
    assert message.id is not None
    await _claim(uow_factory, "slow")
    await _claim(uow_factory, "next", now=NOW + LEASE)
    async with uow_factory() as uow:
        assert not await uow.outbox.release_claim(
            account_id, message.id, "slow", OutboxStatus.QUEUED, next_attempt_at=NOW
        )
        assert await uow.outbox.release_claim(
            account_id, message.id, "next", OutboxStatus.FAILED, error="O número não tem WhatsApp."
        )
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.outbox.get(account_id, message.id)
    assert stored.status is OutboxStatus.FAILED
    assert stored.attempts == 2
    assert stored.last_error == "O número não tem WhatsApp."


async def test_release_claim_is_scoped_and_checks_its_arguments(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, mine)
    assert client.id is not None
    (message,) = await _queue(uow_factory, mine, client.id, 1)
    assert message.id is not None
    await _claim(uow_factory, "w1")
    async with uow_factory() as uow:
        assert not await uow.outbox.release_claim(
            theirs, message.id, "w1", OutboxStatus.CANCELLED, error="x"
        )
        with pytest.raises(ValueError, match="next_attempt_at"):
            await uow.outbox.release_claim(mine, message.id, "w1", OutboxStatus.QUEUED)
        with pytest.raises(ValueError, match="queued, failed or cancelled"):
            await uow.outbox.release_claim(mine, message.id, "w1", OutboxStatus.SENT)
        assert await uow.outbox.release_claim(
            mine, message.id, "w1", OutboxStatus.CANCELLED, error="Ana está pausada."
        )
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.outbox.get(mine, message.id)
    assert stored.status is OutboxStatus.CANCELLED
    assert stored.attempts == 1


async def test_mark_sent_records_the_send_whoever_holds_the_message(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (mine, theirs) = await seed_accounts(uow_factory)
    client = await seed_client(uow_factory, mine)
    assert client.id is not None
    first, second, third = await _queue(uow_factory, mine, client.id, 3)
    assert first.id is not None
    assert second.id is not None
    assert third.id is not None
    async with uow_factory() as uow:
        await uow.outbox.set_status(mine, third.id, OutboxStatus.DELIVERED)
        await uow.commit()
    claimed = await _claim(uow_factory, "w1", limit=1)
    assert [m.id for m in claimed] == [second.id]  # the older third one is delivered
    sent_at = NOW + timedelta(seconds=5)
    async with uow_factory() as uow:
        assert not await uow.outbox.mark_sent(
            theirs, second.id, provider_message_id="3EB0X", at=sent_at
        )
        # Claimed by w1 (or still queued): the send happened, so it is recorded.
        assert await uow.outbox.mark_sent(mine, second.id, provider_message_id="3EB0A", at=sent_at)
        assert await uow.outbox.mark_sent(mine, first.id, provider_message_id="3EB0B", at=sent_at)
        # Never rolls a later status back.
        assert not await uow.outbox.mark_sent(
            mine, third.id, provider_message_id="3EB0C", at=sent_at
        )
        await uow.commit()
    async with uow_factory() as uow:
        sent = await uow.outbox.get(mine, second.id)
        delivered = await uow.outbox.get(mine, third.id)
    assert sent.status is OutboxStatus.SENT
    assert sent.provider_message_id == "3EB0A"
    assert sent.sent_at == sent_at
    assert sent.lease_until is None
    assert sent.last_error is None
    assert delivered.status is OutboxStatus.DELIVERED
    assert delivered.provider_message_id is None


async def test_mark_sent_clears_an_old_error(uow_factory: UnitOfWorkFactory) -> None:
    account_id, client_id = await _one_client(uow_factory)
    (message,) = await _queue(uow_factory, account_id, client_id, 1)
    assert message.id is not None
    await _claim(uow_factory, "w1")
    async with uow_factory() as uow:
        await uow.outbox.release_claim(
            account_id,
            message.id,
            "w1",
            OutboxStatus.QUEUED,
            next_attempt_at=NOW,
            error="tentativa 1 falhou",
        )
        await uow.commit()
    await _claim(uow_factory, "w2")
    async with uow_factory() as uow:
        assert await uow.outbox.mark_sent(account_id, message.id, provider_message_id="id", at=NOW)
        await uow.commit()
    async with uow_factory() as uow:
        stored = await uow.outbox.get(account_id, message.id)
    assert stored.last_error is None
    assert stored.attempts == 2
    # Sent: not claimable any more, whatever the old lease said.
    assert await _claim(uow_factory, "w3", now=NOW + 10 * LEASE) == []


async def test_pacing_is_created_on_first_lock_and_round_trips(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        assert await uow.outbox.get_pacing("acc-1") is None
        fresh = await uow.outbox.lock_pacing("acc-1", account_id, NOW)
        await uow.commit()
    assert fresh == SessionPacing(
        session_id="acc-1",
        account_id=account_id,
        next_send_at=NOW,
        day=NOW.date(),
        first_seen_at=NOW,
        updated_at=NOW,
    )
    changed = SessionPacing(
        session_id="acc-1",
        account_id=account_id,
        next_send_at=NOW + timedelta(hours=20),
        day=date(2026, 3, 11),
        sent_today=37,
        first_seen_at=NOW - timedelta(days=2),
        updated_at=NOW + timedelta(seconds=1),
        pause_reason=PauseReason.DAILY_CAP,
        phone="+5511977776666",
    )
    async with uow_factory() as uow:
        # A later lock keeps what is stored (no reset of first_seen_at).
        assert await uow.outbox.lock_pacing("acc-1", account_id, NOW + timedelta(days=9)) == fresh
        await uow.outbox.save_pacing(changed)
        await uow.commit()
    async with uow_factory() as uow:
        assert await uow.outbox.get_pacing("acc-1") == changed
        assert await uow.outbox.lock_pacing("acc-1", account_id, NOW) == changed
        assert await uow.outbox.get_pacing("acc-2") is None


async def test_pacing_not_committed_is_not_kept(uow_factory: UnitOfWorkFactory) -> None:
    (account_id, _) = await seed_accounts(uow_factory)
    async with uow_factory() as uow:
        await uow.outbox.lock_pacing("acc-1", account_id, NOW)
    async with uow_factory() as uow:
        assert await uow.outbox.get_pacing("acc-1") is None


async def test_pacing_updates_under_the_lock_are_never_lost(
    uow_factory: UnitOfWorkFactory,
) -> None:
    (account_id, _) = await seed_accounts(uow_factory)

    async def bump() -> None:
        async with uow_factory() as uow:
            pacing = await uow.outbox.lock_pacing("acc-1", account_id, NOW)
            await uow.outbox.save_pacing(
                SessionPacing(
                    session_id=pacing.session_id,
                    account_id=pacing.account_id,
                    next_send_at=pacing.next_send_at,
                    day=pacing.day,
                    sent_today=pacing.sent_today + 1,
                    first_seen_at=pacing.first_seen_at,
                    updated_at=NOW,
                )
            )
            await uow.commit()

    await asyncio.gather(*(bump() for _ in range(12)))
    async with uow_factory() as uow:
        pacing = await uow.outbox.get_pacing("acc-1")
    assert pacing is not None
    assert pacing.sent_today == 12


@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
async def test_postgres_claims_skip_rows_locked_by_an_open_claim(
    uow_factory: UnitOfWorkFactory,
) -> None:
    """A claim still in its transaction holds its rows: another claim takes the others at
    once instead of waiting (SKIP LOCKED). Only PostgreSQL runs two writers at once."""
    account_id, client_id = await _one_client(uow_factory)
    await _queue(uow_factory, account_id, client_id, 6)
    async with uow_factory() as holding:
        held = await holding.outbox.claim_due(NOW, owner="w1", lease=LEASE, limit=4)
        others = await asyncio.wait_for(_claim(uow_factory, "w2", limit=10), timeout=5)
        assert len(held) == 4
        assert len(others) == 2
        assert not {m.id for m in held} & {m.id for m in others}
        await holding.rollback()
    # Rolled back: the first claim's rows are due again.
    assert len(await _claim(uow_factory, "w3")) == 4

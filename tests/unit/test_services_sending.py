"""The outbox dispatcher on the in-memory adapters: send, pace, wait, retry, fail, cancel."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from attrs import evolve

from clientmgr.adapters.memory import InMemoryWhatsAppGateway
from clientmgr.adapters.worker.outbox_loop import DispatchLoop, dispatch_settings_from_env
from clientmgr.core.accounts import Account
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.reminders import ReminderPolicy
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import ConfigError, WhatsAppSendError
from clientmgr.ports.pacing import PauseReason, SessionPacing
from clientmgr.ports.whatsapp import Presence
from clientmgr.services import accounts, clients
from clientmgr.services.sending import (
    NOTE_DAILY_CAP,
    NOTE_SESSION_PAUSED,
    NOTE_UNAVAILABLE,
    REASON_BAD_REQUEST,
    REASON_EXPIRED,
    REASON_LOGGED_OUT,
    Dispatcher,
    DispatchSettings,
    idempotency_key_for,
    next_window_start,
    recipient_of,
    resume_session,
    take_slot,
    take_slots,
)

# The clock fixture: 2026-03-04 13:00 UTC, 10:00 in São Paulo (window 08:00-20:00).
NO_PACE = DispatchSettings(
    min_gap=timedelta(0),
    max_gap=timedelta(0),
    per_session=10,
    warmup_caps=(),
    daily_cap=1000,
    retry_base=timedelta(seconds=10),
    retry_max=timedelta(minutes=5),
    unavailable_delay=timedelta(seconds=30),
    session_recheck=timedelta(minutes=2),
    max_attempts=3,
    typing_min=timedelta(0),
    typing_max=timedelta(0),
)
SELLER_PHONE = "+5511977776666"


@pytest.fixture
def gateway():
    return InMemoryWhatsAppGateway(everyone_on_whatsapp=True)


@pytest.fixture
async def account(uow_factory, clock, gateway):
    acc, _ = await accounts.register_account(uow_factory, clock, 42, "Ana")
    await gateway.start_session(f"acc-{acc.id}")
    gateway.scan(f"acc-{acc.id}", SELLER_PHONE)
    return acc


async def add_client(uow_factory, clock, account_id, phone="+5511988887777", **flags):
    client = await clients.add_client(
        uow_factory,
        clock,
        account_id,
        clients.AddClient(
            name="Maria", phone=phone, price=Decimal("35.90"), due_date=date(2026, 3, 4)
        ),
    )
    if flags:
        client = evolve(client, **flags)
        async with uow_factory() as uow:
            await uow.clients.update(client)
            await uow.commit()
    return client


@pytest.fixture
async def client(uow_factory, clock, account):
    return await add_client(uow_factory, clock, account.id)


async def queue(uow_factory, clock, client, count=1, *, key="r", **fields):
    added = []
    async with uow_factory() as uow:
        for n in range(count):
            values = {
                "account_id": client.account_id,
                "client_id": client.id,
                "to": client.phone,
                "text": f"Olá Maria, lembrete {n}",
                "kind": TemplateKind.DUE_TODAY,
                "dedupe_key": f"{key}:{client.account_id}:{client.id}:{n}",
                "created_at": clock.now(),
                "next_attempt_at": clock.now() - timedelta(seconds=count - n),
            }
            values.update(fields)
            message = await uow.outbox.add(OutboxMessage(**values))
            added.append(message)
        await uow.commit()
    return added


async def reload(uow_factory, message):
    async with uow_factory() as uow:
        return await uow.outbox.get(message.account_id, message.id)


async def pacing_of(uow_factory, account_id):
    async with uow_factory() as uow:
        return await uow.outbox.get_pacing(f"acc-{account_id}")


def dispatcher(uow_factory, clock, gateway, settings=NO_PACE, seed=7):
    return Dispatcher(uow_factory, clock, gateway, settings, rng=random.Random(seed))


async def test_due_messages_are_sent_once_with_their_idempotency_key(
    uow_factory, clock, gateway, client
):
    queued = await queue(uow_factory, clock, client, 3)
    report = await dispatcher(uow_factory, clock, gateway).dispatch_once()
    assert (report.claimed, report.sent) == (3, 3)
    assert [m.idempotency_key for m in gateway.sent] == [m.dedupe_key for m in queued]
    assert {m.to for m in gateway.sent} == {"5511988887777@s.whatsapp.net"}
    for message, sent in zip(queued, gateway.sent, strict=True):
        stored = await reload(uow_factory, message)
        assert stored.status is OutboxStatus.SENT
        assert stored.provider_message_id == sent.message_id
        assert stored.sent_at == clock.now()
        assert stored.attempts == 1
        assert stored.lease_until is None
    again = await dispatcher(uow_factory, clock, gateway).dispatch_once()
    assert again.claimed == 0
    assert len(gateway.sent) == 3


async def test_messages_not_yet_due_stay_queued(uow_factory, clock, gateway, client):
    (later,) = await queue(uow_factory, clock, client, next_attempt_at=clock.now() + timedelta(1))
    assert (await dispatcher(uow_factory, clock, gateway).dispatch_once()).claimed == 0
    assert (await reload(uow_factory, later)).status is OutboxStatus.QUEUED
    assert gateway.sent == []


def test_the_idempotency_key_is_the_dedupe_key_unless_too_long():
    message = OutboxMessage(
        account_id=1,
        to="+5511988887777",
        text="oi",
        kind=TemplateKind.CUSTOM,
        dedupe_key="now:1:2:abc",
        created_at=datetime(2026, 3, 4, tzinfo=UTC),
        next_attempt_at=datetime(2026, 3, 4, tzinfo=UTC),
        id=99,
    )
    assert idempotency_key_for(message) == "now:1:2:abc"
    assert idempotency_key_for(evolve(message, dedupe_key="x" * 201)) == "outbox:99"


async def test_one_session_sends_at_most_one_message_per_interval(
    uow_factory, clock, gateway, client
):
    settings = evolve(NO_PACE, min_gap=timedelta(seconds=8), max_gap=timedelta(seconds=20))
    first, second, third = await queue(uow_factory, clock, client, 3)
    work = dispatcher(uow_factory, clock, gateway, settings)
    report = await work.dispatch_once()
    assert (report.sent, report.deferred) == (1, 2)
    pacing = await pacing_of(uow_factory, client.account_id)
    gap = pacing.next_send_at - clock.now()
    assert timedelta(seconds=8) <= gap <= timedelta(seconds=20)
    for waiting in (second, third):
        stored = await reload(uow_factory, waiting)
        assert stored.status is OutboxStatus.QUEUED
        assert stored.next_attempt_at == pacing.next_send_at
        assert stored.attempts == 0  # waiting spends no attempt
    # Nothing of this session is even claimed before its time.
    clock.advance(seconds=gap.total_seconds() - 1)
    assert (await work.dispatch_once()).claimed == 0
    clock.advance(seconds=1)
    assert (await work.dispatch_once()).sent == 1
    assert [m.idempotency_key for m in gateway.sent] == [first.dedupe_key, second.dedupe_key]


def test_the_interval_is_jittered_between_its_bounds():
    settings = evolve(NO_PACE, min_gap=timedelta(seconds=8), max_gap=timedelta(seconds=20))
    rng = random.Random(1)
    gaps = {settings.gap(rng) for _ in range(200)}
    assert min(gaps) >= timedelta(seconds=8)
    assert max(gaps) <= timedelta(seconds=20)
    assert max(gaps) - min(gaps) > timedelta(seconds=8)


async def test_sessions_are_paced_apart_from_each_other(uow_factory, clock, gateway, client):
    other_account, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    await gateway.start_session(f"acc-{other_account.id}")
    gateway.scan(f"acc-{other_account.id}", "+5511966665555")
    other_client = await add_client(uow_factory, clock, other_account.id)
    settings = evolve(NO_PACE, min_gap=timedelta(seconds=10), max_gap=timedelta(seconds=10))
    await queue(uow_factory, clock, client, 2)
    await queue(uow_factory, clock, other_client, 2)
    report = await dispatcher(uow_factory, clock, gateway, settings).dispatch_once()
    assert report.sent == 2
    assert sorted(m.session_id for m in gateway.sent) == sorted(
        [f"acc-{client.account_id}", f"acc-{other_account.id}"]
    )


async def test_the_daily_cap_holds_the_rest_for_the_next_window(
    uow_factory, clock, gateway, client
):
    settings = evolve(NO_PACE, daily_cap=2)
    queued = await queue(uow_factory, clock, client, 3)
    work = dispatcher(uow_factory, clock, gateway, settings)
    report = await work.dispatch_once()
    assert (report.sent, report.deferred) == (2, 1)
    tomorrow_8am = datetime(2026, 3, 5, 11, 0, tzinfo=UTC)  # 08:00 in São Paulo
    held = await reload(uow_factory, queued[2])
    assert held.status is OutboxStatus.QUEUED
    assert held.next_attempt_at == tomorrow_8am
    assert held.last_error == NOTE_DAILY_CAP
    assert held.attempts == 0
    pacing = await pacing_of(uow_factory, client.account_id)
    assert pacing.pause_reason is PauseReason.DAILY_CAP
    assert pacing.sent_today == 2
    # A message queued meanwhile waits too.
    (late,) = await queue(uow_factory, clock, client, key="late")
    assert (await work.dispatch_once()).claimed == 0
    clock.advance(hours=22)  # 08:00 next day in São Paulo
    report = await work.dispatch_once()
    assert report.sent == 2
    assert (await reload(uow_factory, held)).status is OutboxStatus.SENT
    assert (await reload(uow_factory, late)).last_error is None
    pacing = await pacing_of(uow_factory, client.account_id)
    assert (pacing.day, pacing.sent_today, pacing.pause_reason) == (date(2026, 3, 5), 2, None)


def _pacing(now, first_seen, **fields):
    values = {
        "session_id": "acc-1",
        "account_id": 1,
        "next_send_at": now,
        "day": now.date(),
        "first_seen_at": first_seen,
        "updated_at": now,
    }
    values.update(fields)
    return SessionPacing(**values)


def test_new_numbers_warm_up_with_lower_caps():
    settings = evolve(NO_PACE, warmup_caps=(2, 5), daily_cap=8)
    account = Account.new(1, "Ana", datetime(2026, 3, 1, tzinfo=UTC), id=1)
    first_seen = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)
    rng = random.Random(0)

    def allowed_on(day_number):
        now = first_seen + timedelta(days=day_number)
        pacing = _pacing(now, first_seen)
        count = 0
        while True:
            pacing, wait = take_slot(pacing, account, now, settings, rng)
            if wait is not None:
                return count
            count += 1

    assert [allowed_on(d) for d in range(4)] == [2, 5, 8, 8]
    assert settings.cap_for(0) == 2
    assert evolve(settings, daily_cap=3).cap_for(1) == 3  # never above the daily cap


def test_several_slots_at_once_only_without_an_interval():
    account = Account.new(1, "Ana", datetime(2026, 3, 1, tzinfo=UTC), id=1)
    now = datetime(2026, 3, 4, 13, 0, tzinfo=UTC)
    fresh = _pacing(now, now - timedelta(days=30))
    paced = evolve(NO_PACE, min_gap=timedelta(seconds=8), max_gap=timedelta(seconds=8))
    pacing, granted, wait = take_slots(fresh, account, now, paced, random.Random(0), 5)
    assert (granted, wait, pacing.sent_today) == (1, now + timedelta(seconds=8), 1)
    unpaced = evolve(NO_PACE, daily_cap=3)
    pacing, granted, wait = take_slots(fresh, account, now, unpaced, random.Random(0), 2)
    assert (granted, wait, pacing.sent_today) == (2, None, 2)
    pacing, granted, wait = take_slots(pacing, account, now, unpaced, random.Random(0), 5)
    assert (granted, pacing.sent_today) == (1, 3)
    assert wait == datetime(2026, 3, 5, 11, 0, tzinfo=UTC)
    assert pacing.pause_reason is PauseReason.DAILY_CAP


def test_the_day_count_restarts_on_the_sellers_local_day():
    account = Account.new(1, "Ana", datetime(2026, 3, 1, tzinfo=UTC), id=1)
    settings = evolve(NO_PACE, daily_cap=1)
    # 02:30 UTC on the 5th is still the 4th in São Paulo (23:30): same day, cap reached.
    now = datetime(2026, 3, 5, 2, 30, tzinfo=UTC)
    pacing = _pacing(now, now - timedelta(days=30), day=date(2026, 3, 4), sent_today=1)
    _, wait = take_slot(pacing, account, now, settings, random.Random(0))
    assert wait == datetime(2026, 3, 5, 11, 0, tzinfo=UTC)
    # At 03:00 UTC it is the 5th locally: a new day.
    later = datetime(2026, 3, 5, 3, 0, tzinfo=UTC)
    granted, wait = take_slot(pacing, account, later, settings, random.Random(0))
    assert wait is None
    assert (granted.day, granted.sent_today) == (date(2026, 3, 5), 1)


@pytest.mark.parametrize(
    ("local", "expected_local"),
    [
        (datetime(2026, 3, 4, 6, 0), datetime(2026, 3, 4, 8, 0)),
        (datetime(2026, 3, 4, 20, 0), datetime(2026, 3, 5, 8, 0)),
        (datetime(2026, 3, 4, 23, 59), datetime(2026, 3, 5, 8, 0)),
    ],
)
def test_next_window_start(local, expected_local):
    account = Account.new(1, "Ana", datetime(2026, 3, 1, tzinfo=UTC))
    zone = account.zone
    now = local.replace(tzinfo=zone)
    assert next_window_start(account, now) == expected_local.replace(tzinfo=zone)


def test_next_window_start_across_a_daylight_saving_change():
    account = Account.new(1, "Ann", datetime(2026, 3, 1, tzinfo=UTC), timezone="America/New_York")
    saturday_night = datetime(2026, 3, 7, 23, 0, tzinfo=account.zone)  # EST; DST starts Sunday
    assert next_window_start(account, saturday_night) == datetime(2026, 3, 8, 12, 0, tzinfo=UTC)


async def test_outside_the_send_window_messages_wait_for_it(uow_factory, clock, gateway, client):
    clock.advance(hours=11)  # 21:00 in São Paulo
    (message,) = await queue(uow_factory, clock, client)
    report = await dispatcher(uow_factory, clock, gateway).dispatch_once()
    assert (report.claimed, report.deferred, report.sent) == (1, 1, 0)
    stored = await reload(uow_factory, message)
    assert stored.status is OutboxStatus.QUEUED
    assert stored.next_attempt_at == datetime(2026, 3, 5, 11, 0, tzinfo=UTC)
    assert stored.attempts == 0
    assert gateway.sent == []
    clock.advance(hours=11)
    assert (await dispatcher(uow_factory, clock, gateway).dispatch_once()).sent == 1


async def test_the_account_window_is_its_own(uow_factory, clock, gateway, client):
    async with uow_factory() as uow:
        account = await uow.accounts.get(client.account_id)
        policy = ReminderPolicy(window_start=time(11, 0), window_end=time(12, 0))
        await uow.accounts.update(evolve(account, reminder_policy=policy))
        await uow.commit()
    (message,) = await queue(uow_factory, clock, client)
    await dispatcher(uow_factory, clock, gateway).dispatch_once()
    stored = await reload(uow_factory, message)
    assert stored.next_attempt_at == datetime(2026, 3, 4, 14, 0, tzinfo=UTC)


async def test_an_expired_accounts_messages_are_cancelled_with_a_reason(
    uow_factory, clock, gateway, client
):
    (message,) = await queue(uow_factory, clock, client)
    clock.advance(days=11)  # 7 days of trial, 3 of grace
    report = await dispatcher(uow_factory, clock, gateway).dispatch_once()
    assert report.cancelled == 1
    stored = await reload(uow_factory, message)
    assert stored.status is OutboxStatus.CANCELLED
    assert stored.last_error == REASON_EXPIRED
    assert gateway.sent == []


async def test_grace_days_still_send(uow_factory, clock, gateway, client):
    await queue(uow_factory, clock, client)
    clock.advance(days=8)
    assert (await dispatcher(uow_factory, clock, gateway).dispatch_once()).sent == 1


@pytest.mark.parametrize(
    ("flags", "reason"),
    [
        ({"paused": True}, "pausad"),
        ({"archived": True}, "arquivad"),
        ({"opted_out": True}, "SAIR"),
    ],
)
async def test_clients_who_must_not_get_messages_are_cancelled(
    uow_factory, clock, gateway, account, flags, reason
):
    reachable = await add_client(uow_factory, clock, account.id, phone="+5511911112222")
    unreachable = await add_client(uow_factory, clock, account.id, **flags)
    (kept,) = await queue(uow_factory, clock, reachable, key="ok")
    (dropped,) = await queue(uow_factory, clock, unreachable, key="no")
    report = await dispatcher(uow_factory, clock, gateway).dispatch_once()
    assert (report.sent, report.cancelled) == (1, 1)
    stored = await reload(uow_factory, dropped)
    assert stored.status is OutboxStatus.CANCELLED
    assert reason in stored.last_error
    assert "Maria" in stored.last_error
    assert (await reload(uow_factory, kept)).status is OutboxStatus.SENT


async def test_a_number_not_on_whatsapp_fails_at_once(uow_factory, clock, gateway, client):
    gateway.everyone_on_whatsapp = False
    settings = evolve(NO_PACE, daily_cap=5)
    (message,) = await queue(uow_factory, clock, client)
    report = await dispatcher(uow_factory, clock, gateway, settings).dispatch_once()
    assert report.failed == 1
    stored = await reload(uow_factory, message)
    assert stored.status is OutboxStatus.FAILED
    assert stored.last_error == "O número +5511988887777 não tem WhatsApp."
    assert stored.attempts == 1
    # Nothing went out, so the day's count is given back.
    assert (await pacing_of(uow_factory, client.account_id)).sent_today == 0


async def test_a_logged_out_session_fails_its_messages(uow_factory, clock, gateway, client):
    gateway.log_out(f"acc-{client.account_id}")
    first, second = await queue(uow_factory, clock, client, 2)
    report = await dispatcher(uow_factory, clock, gateway).dispatch_once()
    assert report.failed == 2
    for message in (first, second):
        stored = await reload(uow_factory, message)
        assert stored.status is OutboxStatus.FAILED
        assert stored.last_error == REASON_LOGGED_OUT


async def test_a_dropped_session_pauses_its_queue_and_resumes_without_loss(
    uow_factory, clock, gateway, client
):
    session_id = f"acc-{client.account_id}"
    gateway.drop(session_id)
    queued = await queue(uow_factory, clock, client, 3)
    work = dispatcher(uow_factory, clock, gateway)
    report = await work.dispatch_once()
    assert (report.sent, report.deferred, report.failed) == (0, 3, 0)
    recheck = clock.now() + NO_PACE.session_recheck
    for message in queued:
        stored = await reload(uow_factory, message)
        assert stored.status is OutboxStatus.QUEUED
        assert stored.attempts == 0
        assert stored.next_attempt_at == recheck
        assert stored.last_error == NOTE_SESSION_PAUSED
    pacing = await pacing_of(uow_factory, client.account_id)
    assert pacing.pause_reason is PauseReason.SESSION_NOT_OPEN
    assert pacing.next_send_at == recheck
    assert pacing.sent_today == 0
    # Queued while paused: waits as well.
    (late,) = await queue(uow_factory, clock, client, key="late")
    assert (await work.dispatch_once()).claimed == 0
    # Still down at the recheck: paused again, nothing lost or spent.
    clock.advance(minutes=2)
    assert (await work.dispatch_once()).deferred == 4
    clock.advance(minutes=2)
    await gateway.start_session(session_id)  # reconnects, still linked
    report = await work.dispatch_once()
    assert report.sent == 4
    for message in [*queued, late]:
        stored = await reload(uow_factory, message)
        assert stored.status is OutboxStatus.SENT
        assert stored.attempts == 1
        assert stored.last_error is None
    assert len(gateway.sent) == 4


async def test_resume_session_lifts_the_pause_at_once(uow_factory, clock, gateway, client):
    session_id = f"acc-{client.account_id}"
    gateway.drop(session_id)
    (message,) = await queue(uow_factory, clock, client)
    (other,) = await queue(uow_factory, clock, client, key="other")
    work = dispatcher(uow_factory, clock, gateway, evolve(NO_PACE, per_session=1))
    await work.dispatch_once()  # the first is tried and pauses the session
    await gateway.start_session(session_id)
    pacing = await resume_session(uow_factory, clock, client.account_id)
    assert pacing.pause_reason is None
    assert pacing.next_send_at == clock.now()
    report = await work.dispatch_once()  # the other one, not waiting for the recheck
    assert report.sent == 1
    assert (await reload(uow_factory, other)).status is OutboxStatus.SENT
    assert (await reload(uow_factory, message)).status is OutboxStatus.QUEUED
    # Repeating it, or resuming a session that is not paused, changes nothing.
    assert (await resume_session(uow_factory, clock, client.account_id)).pause_reason is None


async def test_resume_session_starts_the_warm_up_clock(uow_factory, clock, account):
    pacing = await resume_session(uow_factory, clock, account.id)
    assert pacing.first_seen_at == clock.now()
    clock.advance(days=1)
    assert (
        await resume_session(uow_factory, clock, account.id)
    ).first_seen_at == pacing.first_seen_at


async def test_sidecar_down_sends_later_without_spending_attempts(
    uow_factory, clock, gateway, client
):
    gateway.down = True
    queued = await queue(uow_factory, clock, client, 3)
    work = dispatcher(uow_factory, clock, gateway)
    report = await work.dispatch_once()
    assert report.unavailable
    assert (report.sent, report.deferred) == (0, 3)
    for message in queued:
        stored = await reload(uow_factory, message)
        assert stored.status is OutboxStatus.QUEUED
        assert stored.attempts == 0
        assert stored.next_attempt_at == clock.now() + NO_PACE.unavailable_delay
        assert stored.last_error == NOTE_UNAVAILABLE
    for _ in range(5):  # down for a while: still nothing spent
        clock.advance(seconds=30)
        assert (await work.dispatch_once()).unavailable
    gateway.down = False
    clock.advance(seconds=30)
    assert (await work.dispatch_once()).sent == 3
    for message in queued:
        assert (await reload(uow_factory, message)).attempts == 1
    assert (await pacing_of(uow_factory, client.account_id)).sent_today == 3


async def test_send_errors_retry_with_backoff_then_fail_with_a_reason(
    uow_factory, clock, gateway, client
):
    (message,) = await queue(uow_factory, clock, client)
    gateway.fail_next(3)
    work = dispatcher(uow_factory, clock, gateway)
    delays = []
    for attempt in (1, 2):
        report = await work.dispatch_once()
        assert report.retried == 1
        stored = await reload(uow_factory, message)
        assert stored.status is OutboxStatus.QUEUED
        assert stored.attempts == attempt
        assert f"tentativa {attempt} de 3" in stored.last_error
        delays.append(stored.next_attempt_at - clock.now())
        clock.advance(seconds=delays[-1].total_seconds())
    assert timedelta(seconds=5) <= delays[0] <= timedelta(seconds=10)
    assert timedelta(seconds=10) <= delays[1] <= timedelta(seconds=20)
    report = await work.dispatch_once()
    assert report.failed == 1
    stored = await reload(uow_factory, message)
    assert stored.status is OutboxStatus.FAILED
    assert stored.last_error.startswith(
        "Não enviada: o WhatsApp não aceitou a mensagem depois de 3"
    )
    assert gateway.sent == []


def test_retry_delays_grow_exponentially_up_to_the_cap():
    settings = evolve(NO_PACE, retry_base=timedelta(minutes=1), retry_max=timedelta(minutes=10))

    class Top(random.Random):
        def uniform(self, a, b):
            return b

    delays = [settings.retry_delay(n, Top()) for n in range(1, 7)]
    assert delays == [timedelta(minutes=m) for m in (1, 2, 4, 8, 10, 10)]
    low = settings.retry_delay(3, random.Random(3))
    assert timedelta(minutes=2) <= low <= timedelta(minutes=4)


async def test_a_send_that_worked_on_retry_is_sent(uow_factory, clock, gateway, client):
    (message,) = await queue(uow_factory, clock, client)
    gateway.fail_next(1, WhatsAppSendError("timeout"))
    work = dispatcher(uow_factory, clock, gateway)
    await work.dispatch_once()
    clock.advance(minutes=1)
    assert (await work.dispatch_once()).sent == 1
    stored = await reload(uow_factory, message)
    assert (stored.status, stored.attempts, stored.last_error) == (OutboxStatus.SENT, 2, None)


async def test_unexpected_errors_are_retried_and_reported(uow_factory, clock, gateway, client):
    (message,) = await queue(uow_factory, clock, client)
    boom = RuntimeError("bug in an adapter")
    gateway.fail_next(1, boom)  # type: ignore[arg-type]
    report = await dispatcher(uow_factory, clock, gateway).dispatch_once()
    assert report.retried == 1
    assert report.errors == (boom,)
    assert (await reload(uow_factory, message)).status is OutboxStatus.QUEUED


async def test_a_malformed_message_fails(uow_factory, clock, gateway, client):
    (message,) = await queue(uow_factory, clock, client, text="x" * 5000)
    report = await dispatcher(uow_factory, clock, gateway).dispatch_once()
    assert report.failed == 1
    stored = await reload(uow_factory, message)
    assert (stored.status, stored.last_error) == (OutboxStatus.FAILED, REASON_BAD_REQUEST)


async def test_a_dead_workers_messages_are_sent_once_after_its_lease(
    uow_factory, clock, gateway, client
):
    queued = await queue(uow_factory, clock, client, 2)
    async with uow_factory() as uow:  # a worker claims both, sends the first, then dies
        claimed = await uow.outbox.claim_due(
            clock.now(), owner="dead", lease=NO_PACE.lease, limit=10
        )
        await uow.commit()
    assert len(claimed) == 2
    await gateway.send_text(
        f"acc-{client.account_id}", client.phone, "Olá", idempotency_key_for(claimed[0])
    )
    work = dispatcher(uow_factory, clock, gateway)
    assert (await work.dispatch_once()).claimed == 0  # leased
    clock.advance(seconds=NO_PACE.lease.total_seconds())
    assert (await work.dispatch_once()).sent == 2
    assert sorted(m.idempotency_key for m in gateway.sent) == sorted(m.dedupe_key for m in queued)
    for message in queued:
        stored = await reload(uow_factory, message)
        assert (stored.status, stored.attempts) == (OutboxStatus.SENT, 2)


def test_settings_are_checked():
    with pytest.raises(ValueError, match="min_gap"):
        DispatchSettings(min_gap=timedelta(seconds=5), max_gap=timedelta(seconds=1))
    with pytest.raises(ValueError, match="batch_size"):
        DispatchSettings(batch_size=0)
    with pytest.raises(ValueError, match="lease"):
        DispatchSettings(lease=timedelta(0))
    with pytest.raises(ValueError, match="typing"):
        DispatchSettings(typing_min=timedelta(seconds=7), typing_max=timedelta(seconds=6))


def test_settings_from_the_environment():
    settings = dispatch_settings_from_env(
        {
            "DISPATCH_MIN_GAP_SECONDS": "1.5",
            "DISPATCH_MAX_GAP_SECONDS": "3",
            "DISPATCH_DAILY_CAP": "50",
            "DISPATCH_WARMUP_CAPS": "5, 10",
            "DISPATCH_BATCH_SIZE": "",
            "DISPATCH_TYPING_MAX_SECONDS": "4",
            "DISPATCH_TYPING_CHARS_PER_SECOND": "20",
        }
    )
    assert (settings.typing_max, settings.typing_chars_per_second) == (timedelta(seconds=4), 20)
    assert settings.min_gap == timedelta(seconds=1.5)
    assert settings.max_gap == timedelta(seconds=3)
    assert (settings.daily_cap, settings.warmup_caps) == (50, (5, 10))
    assert settings.batch_size == DispatchSettings().batch_size
    assert dispatch_settings_from_env({"DISPATCH_WARMUP_CAPS": ""}).warmup_caps == ()
    with pytest.raises(ConfigError, match="DISPATCH_DAILY_CAP='lots' is not a whole number"):
        dispatch_settings_from_env({"DISPATCH_DAILY_CAP": "lots"})
    with pytest.raises(ConfigError, match="cannot be negative"):
        dispatch_settings_from_env({"DISPATCH_LEASE_SECONDS": "-1"})
    with pytest.raises(ConfigError, match="do not fit together"):
        dispatch_settings_from_env({"DISPATCH_MIN_GAP_SECONDS": "30"})


async def test_the_loop_sends_until_stopped(uow_factory, clock, gateway, client):
    loop = DispatchLoop(dispatcher(uow_factory, clock, gateway), idle_delay=0.01)
    task = asyncio.create_task(loop.run())
    await queue(uow_factory, clock, client, 25)
    for _ in range(1000):  # polled, bounded: 10 s at most
        if len(gateway.sent) == 25:
            break
        await asyncio.sleep(0.01)
    assert len(gateway.sent) == 25
    loop.stop()
    async with asyncio.timeout(5):
        await task
    assert task.done()
    assert loop.ticks >= 3  # batches of 10, then idle
    assert len({m.idempotency_key for m in gateway.sent}) == 25


async def test_the_loop_waits_while_the_sidecar_is_down(uow_factory, clock, gateway, client):
    settings = evolve(NO_PACE, unavailable_delay=timedelta(seconds=0.5))
    loop = DispatchLoop(dispatcher(uow_factory, clock, gateway, settings), idle_delay=0.01)
    gateway.down = True
    await queue(uow_factory, clock, client)
    assert await loop.tick() == 0.5
    assert loop.last_report.unavailable
    assert await loop.tick() == 0.01  # the message waits: nothing due now


async def test_the_loop_survives_a_failing_tick(uow_factory, clock, gateway):
    class Broken(Dispatcher):
        async def dispatch_once(self):
            raise OSError("database went away")

    loop = DispatchLoop(Broken(uow_factory, clock, gateway), error_delay=0.25)
    assert await loop.tick() == 0.25
    loop.stop()
    await asyncio.wait_for(loop.run(), timeout=5)  # stopped before it ran: returns at once
    assert loop.ticks == 1


# -- "digitando…" and where messages go ------------------------------------------------

TYPING = evolve(NO_PACE, typing_min=timedelta(seconds=1), typing_max=timedelta(seconds=6))


async def test_the_client_sees_typing_sized_to_the_text_before_each_message(
    uow_factory, clock, gateway, client
):
    texts = ["Oi Maria!", "x" * 120, "y" * 1000]  # 9 chars, 3 s at 40/s, past the 6 s cap
    for n, text in enumerate(texts):
        await queue(uow_factory, clock, client, key=f"t{n}", text=text)
    naps: list[tuple[float, int]] = []

    async def sleep(seconds: float) -> None:
        naps.append((seconds, len(gateway.sent)))  # how many were sent while typing

    work = Dispatcher(uow_factory, clock, gateway, TYPING, rng=random.Random(1), sleep=sleep)
    assert (await work.dispatch_once()).sent == 3
    assert naps == [(1.0, 0), (3.0, 1), (6.0, 2)]
    jid = "5511988887777@s.whatsapp.net"
    assert [(p.to, p.presence) for p in gateway.presences] == [(jid, Presence.COMPOSING)] * 3
    assert [m.to for m in gateway.sent] == [jid] * 3


class _RefusesPresence(InMemoryWhatsAppGateway):
    """WhatsApp takes messages but not the typing indicator."""

    async def send_presence(self, session_id, to, presence):
        raise WhatsAppSendError("presence refused")


async def test_a_refused_typing_indicator_does_not_hold_the_message(uow_factory, clock, client):
    gateway = _RefusesPresence(everyone_on_whatsapp=True)
    await gateway.start_session(f"acc-{client.account_id}")
    gateway.scan(f"acc-{client.account_id}", SELLER_PHONE)
    naps: list[float] = []

    async def sleep(seconds: float) -> None:
        naps.append(seconds)

    await queue(uow_factory, clock, client)
    work = Dispatcher(uow_factory, clock, gateway, TYPING, sleep=sleep)
    assert (await work.dispatch_once()).sent == 1
    assert naps == []  # nobody sees "digitando…", so nobody waits for it


async def test_typing_to_a_number_not_on_whatsapp_fails_the_message_at_once(
    uow_factory, clock, account
):
    gateway = InMemoryWhatsAppGateway()  # only known numbers exist
    await gateway.start_session(f"acc-{account.id}")
    gateway.scan(f"acc-{account.id}", SELLER_PHONE)
    client = await add_client(uow_factory, clock, account.id, phone="+5511955554444")
    (message,) = await queue(uow_factory, clock, client)
    report = await dispatcher(uow_factory, clock, gateway).dispatch_once()
    assert (report.failed, gateway.sent, gateway.presences) == (1, [], [])
    assert "não tem WhatsApp" in (await reload(uow_factory, message)).last_error


async def test_messages_go_to_the_jid_whatsapp_gave_for_the_clients_number(
    uow_factory, clock, gateway, client
):
    # An old Brazilian account: WhatsApp knows it without the 9th digit.
    old_jid = "551188887777@s.whatsapp.net"
    client = evolve(client, wa_jid=old_jid)
    async with uow_factory() as uow:
        await uow.clients.update(client)
        await uow.commit()
    await queue(uow_factory, clock, client)
    assert (await dispatcher(uow_factory, clock, gateway).dispatch_once()).sent == 1
    assert gateway.sent[0].to == old_jid


def test_a_message_for_an_older_number_goes_to_that_number(client):
    moved = evolve(client, phone="+5521977776666", wa_jid="5521977776666@s.whatsapp.net")
    message = OutboxMessage(
        account_id=client.account_id,
        client_id=client.id,
        to="+5511988887777",
        text="Oi",
        kind=TemplateKind.DUE_TODAY,
        dedupe_key="k",
        created_at=datetime(2026, 3, 4, tzinfo=UTC),
        next_attempt_at=datetime(2026, 3, 4, tzinfo=UTC),
    )
    assert recipient_of(message, moved) == "+5511988887777"
    assert recipient_of(message, evolve(moved, phone="+5511988887777")) == moved.wa_jid
    assert recipient_of(message, None) == "+5511988887777"


async def test_linking_another_number_restarts_the_warm_up(uow_factory, clock, account):
    first = await resume_session(uow_factory, clock, account.id, "+5511977776666")
    assert (first.first_seen_at, first.phone) == (clock.now(), "+5511977776666")
    clock.advance(days=3)
    again = await resume_session(uow_factory, clock, account.id, "+5511977776666")
    assert again.first_seen_at == first.first_seen_at  # the same phone: still warmed up
    clock.advance(days=1)
    other = await resume_session(uow_factory, clock, account.id, "+5521966665555")
    assert (other.first_seen_at, other.phone) == (clock.now(), "+5521966665555")
    settings = DispatchSettings(warmup_caps=(30, 60, 120), daily_cap=200)
    day = account.local_now(clock.now()).date() - account.local_now(other.first_seen_at).date()
    assert settings.cap_for(day.days) == 30

"""Planning reminders: the offsets' sign, one message per reminder, who is skipped and why."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from attrs import evolve

from clientmgr.adapters.memory import InMemoryStore, InMemoryWhatsAppGateway
from clientmgr.adapters.memory.planning import InMemoryReminderPlanner
from clientmgr.core.outbox import OutboxStatus, dedupe_key
from clientmgr.core.pix import parse_brcode
from clientmgr.core.reminders import ReminderPolicy
from clientmgr.core.rendering import DEFAULT_TEMPLATES, RenderContext, render
from clientmgr.core.templates import Template, TemplateKind
from clientmgr.errors import WhatsAppUnavailableError
from clientmgr.ports.clock import ManualClock
from clientmgr.services import accounts, clients, payments, templates
from clientmgr.services.planning import (
    PlanningReport,
    due_dates_for,
    plan_reminders,
    whatsapp_connected,
)
from clientmgr.services.whatsapp import session_id_for

TODAY = date(2026, 3, 4)  # 10:00 in São Paulo (13:00 UTC)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def uow_factory(store):
    return store.unit_of_work


@pytest.fixture
def planner(store) -> InMemoryReminderPlanner:
    return InMemoryReminderPlanner(store)


@pytest.fixture
def gateway() -> InMemoryWhatsAppGateway:
    return InMemoryWhatsAppGateway(everyone_on_whatsapp=True)


async def connect(gateway, account_id: int) -> None:
    await gateway.start_session(session_id_for(account_id))
    gateway.scan(session_id_for(account_id), "+5511900000000")


@pytest.fixture
async def account(uow_factory, clock, gateway):
    acc, _ = await accounts.register_account(uow_factory, clock, 42, "Ana")
    acc = await accounts.update_profile(
        uow_factory,
        clock,
        acc.id,
        business_name="Ana Fitness",
        pix_key="ana@example.com",
        pix_name="Ana Souza",
        pix_city="Sao Paulo",
    )
    await connect(gateway, acc.id)
    return acc


async def add(uow_factory, clock, account_id, due, phone, name="Maria", **flags):
    client = await clients.add_client(
        uow_factory,
        clock,
        account_id,
        clients.AddClient(name=name, phone=phone, price=Decimal("35.90"), due_date=due),
    )
    if flags:
        client = evolve(client, **flags)
        async with uow_factory() as uow:
            await uow.clients.update(client)
            await uow.commit()
    return client


async def messages(uow_factory, client):
    async with uow_factory() as uow:
        return list(await uow.outbox.list_for_client(client.account_id, client.id))


async def plan(uow_factory, planner, clock, gateway, **options) -> PlanningReport:
    return await plan_reminders(uow_factory, planner, clock, whatsapp_connected(gateway), **options)


def test_negative_offsets_look_ahead_positive_ones_look_back():
    policy = ReminderPolicy(offsets=(-3, 0, 1, 3))
    assert due_dates_for(policy, TODAY) == {
        date(2026, 3, 7): -3,
        date(2026, 3, 4): 0,
        date(2026, 3, 3): 1,
        date(2026, 3, 1): 3,
    }


async def test_each_offset_queues_its_kind_rendered_from_the_template(
    uow_factory, planner, clock, gateway, account
):
    await templates.save_template(
        uow_factory, clock, account.id, TemplateKind.BEFORE_DUE, "Oi {nome}, vence {vencimento}."
    )
    ahead = await add(uow_factory, clock, account.id, TODAY + timedelta(days=3), "+5511988880001")
    today = await add(uow_factory, clock, account.id, TODAY, "+5511988880002")
    late = await add(uow_factory, clock, account.id, TODAY - timedelta(days=1), "+5511988880003")
    later = await add(uow_factory, clock, account.id, TODAY - timedelta(days=3), "+5511988880004")
    not_today = [
        await add(uow_factory, clock, account.id, TODAY + timedelta(days=d), f"+55119888801{i}")
        for i, d in enumerate((1, 2, 4, -2, -4, -30))
    ]

    report = await plan(uow_factory, planner, clock, gateway)

    assert report == PlanningReport(accounts=1, queued=4)
    expected = {
        ahead.id: (TemplateKind.BEFORE_DUE, -3),
        today.id: (TemplateKind.DUE_TODAY, 0),
        late.id: (TemplateKind.OVERDUE, 1),
        later.id: (TemplateKind.OVERDUE, 3),
    }
    for client in (ahead, today, late, later):
        [message] = await messages(uow_factory, client)
        kind, offset = expected[client.id]
        assert message.kind is kind
        assert message.dedupe_key == dedupe_key(
            account.id, client.id, kind, client.due_date, offset
        )
        assert message.to == client.phone
        assert message.status is OutboxStatus.QUEUED
        assert message.created_at == message.next_attempt_at == clock.now()
    [first] = await messages(uow_factory, ahead)
    assert first.text == "Oi Maria, vence 07/03/2026."
    [due_today] = await messages(uow_factory, today)
    code = templates.pix_code_for(account, today.price)
    assert due_today.text == render(
        DEFAULT_TEMPLATES[TemplateKind.DUE_TODAY],
        RenderContext.for_client(today, account, TODAY, pix_code=code),
    )
    if "{pix_copia_e_cola}" in DEFAULT_TEMPLATES[TemplateKind.DUE_TODAY]:
        assert parse_brcode(code).amount == Decimal("35.90")
    for client in not_today:
        assert await messages(uow_factory, client) == []


async def test_planning_twice_queues_each_reminder_once(
    uow_factory, planner, clock, gateway, account
):
    client = await add(uow_factory, clock, account.id, TODAY, "+5511988887777")
    first = await plan(uow_factory, planner, clock, gateway)
    clock.advance(minutes=5)
    second = await plan(uow_factory, planner, clock, gateway)
    assert (first.queued, first.already_planned) == (1, 0)
    assert (second.queued, second.already_planned) == (0, 1)
    assert len(await messages(uow_factory, client)) == 1


async def test_a_cancelled_or_failed_reminder_is_not_planned_again(
    uow_factory, planner, clock, gateway, account
):
    client = await add(uow_factory, clock, account.id, TODAY, "+5511988887777")
    await plan(uow_factory, planner, clock, gateway)
    [message] = await messages(uow_factory, client)
    async with uow_factory() as uow:
        await uow.outbox.set_status(account.id, message.id, OutboxStatus.FAILED, error="x")
        await uow.commit()
    report = await plan(uow_factory, planner, clock, gateway)
    assert (report.queued, report.already_planned) == (0, 1)


async def test_paused_archived_and_opted_out_clients_get_nothing(
    uow_factory, planner, clock, gateway, account
):
    skipped = [
        await add(uow_factory, clock, account.id, TODAY, "+5511988880001", paused=True),
        await add(uow_factory, clock, account.id, TODAY, "+5511988880002", archived=True),
        await add(uow_factory, clock, account.id, TODAY, "+5511988880003", opted_out=True),
    ]
    report = await plan(uow_factory, planner, clock, gateway)
    assert report == PlanningReport(accounts=1)
    for client in skipped:
        assert await messages(uow_factory, client) == []


async def test_paying_cancels_the_queued_reminder_and_it_is_not_planned_again(
    uow_factory, planner, clock, gateway, account
):
    client = await add(uow_factory, clock, account.id, TODAY, "+5511988887777")
    await plan(uow_factory, planner, clock, gateway)
    await payments.record_payment(
        uow_factory, clock, account.id, payments.RecordPayment(client_id=client.id)
    )
    [message] = await messages(uow_factory, client)
    assert message.status is OutboxStatus.CANCELLED
    clock.advance(minutes=5)
    report = await plan(uow_factory, planner, clock, gateway)
    assert report == PlanningReport(accounts=1)
    assert len(await messages(uow_factory, client)) == 1


async def test_a_payment_between_reading_and_queuing_drops_the_stale_reminder(
    uow_factory, planner, clock, gateway, account
):
    client = await add(uow_factory, clock, account.id, TODAY, "+5511988887777")

    async def pays_while_asked(acc):
        await payments.record_payment(
            uow_factory, clock, account.id, payments.RecordPayment(client_id=client.id)
        )
        return True

    report = await plan_reminders(uow_factory, planner, clock, pays_while_asked)
    assert report.queued == 0
    assert await messages(uow_factory, client) == []


async def test_only_connected_sellers_get_reminders_and_whatsapp_is_asked_only_when_needed(
    uow_factory, planner, clock, gateway, account
):
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    await add(uow_factory, clock, account.id, TODAY, "+5511988880001")
    waiting = await add(uow_factory, clock, other.id, TODAY, "+5511988880002")
    asked: list[int] = []
    check = whatsapp_connected(gateway)

    async def counting(acc):
        asked.append(acc.id)
        return await check(acc)

    report = await plan_reminders(uow_factory, planner, clock, counting)
    assert (report.queued, report.not_connected) == (1, 1)
    assert await messages(uow_factory, waiting) == []

    await gateway.start_session(session_id_for(other.id))  # QR shown, not scanned yet
    report = await plan_reminders(uow_factory, planner, clock, counting)
    assert (report.queued, report.already_planned, report.not_connected) == (0, 1, 1)

    await connect(gateway, other.id)
    report = await plan_reminders(uow_factory, planner, clock, counting)
    assert (report.queued, report.already_planned) == (1, 1)
    assert len(await messages(uow_factory, waiting)) == 1

    asked.clear()
    await plan_reminders(uow_factory, planner, clock, counting)
    assert asked == []  # nothing left to queue: no call to the sidecar


async def test_a_sidecar_that_cannot_be_reached_queues_nothing_and_is_asked_once(
    uow_factory, planner, clock, gateway, account
):
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    await connect(gateway, other.id)
    first = await add(uow_factory, clock, account.id, TODAY, "+5511988880001")
    await add(uow_factory, clock, other.id, TODAY, "+5511988880002")
    calls = 0

    async def down(acc):
        nonlocal calls
        calls += 1
        raise WhatsAppUnavailableError("sidecar down")

    report = await plan_reminders(uow_factory, planner, clock, down)
    assert (report.queued, report.sidecar_unavailable, calls) == (0, 2, 1)

    report = await plan(uow_factory, planner, clock, gateway)  # back up
    assert report.queued == 2
    assert len(await messages(uow_factory, first)) == 1


async def test_expired_accounts_and_accounts_outside_their_window_are_skipped(
    uow_factory, planner, clock, gateway, account
):
    client = await add(uow_factory, clock, account.id, TODAY, "+5511988887777")
    early = ManualClock(datetime(2026, 3, 4, 10, 59, tzinfo=UTC))  # 07:59 in São Paulo
    assert await plan(uow_factory, planner, early, gateway) == PlanningReport(
        accounts=1, outside_window=1
    )
    late = ManualClock(datetime(2026, 3, 4, 23, 0, tzinfo=UTC))  # 20:00 in São Paulo
    assert (await plan(uow_factory, planner, late, gateway)).outside_window == 1
    expired = ManualClock(datetime(2026, 3, 30, 13, 0, tzinfo=UTC))
    assert (await plan(uow_factory, planner, expired, gateway)).expired == 1
    assert await messages(uow_factory, client) == []

    grace = ManualClock(account.trial_ends_at + timedelta(days=1))
    grace_today = account.local_now(grace.now()).date()
    await add(uow_factory, clock, account.id, grace_today, "+5511988880009")
    at_ten = datetime.combine(grace_today, time(10), tzinfo=account.zone)
    report = await plan(uow_factory, planner, ManualClock(at_ten), gateway)
    assert report.queued == 1  # the grace days still send


async def test_today_is_the_sellers_own_day_in_their_timezone(
    uow_factory, planner, clock, gateway, account
):
    account = await accounts.update_profile(
        uow_factory,
        clock,
        account.id,
        timezone="America/Manaus",
        reminder_policy=ReminderPolicy(offsets=(0,), window_start=time(0), window_end=time(23)),
    )
    # 02:30 UTC on March 5th is still March 4th, 22:30, in Manaus (UTC-4).
    night = ManualClock(datetime(2026, 3, 5, 2, 30, tzinfo=UTC))
    on_the_4th = await add(uow_factory, clock, account.id, TODAY, "+5511988880001")
    on_the_5th = await add(uow_factory, clock, account.id, TODAY + timedelta(1), "+5511988880002")
    report = await plan(uow_factory, planner, night, gateway)
    assert report.queued == 1
    assert len(await messages(uow_factory, on_the_4th)) == 1
    assert await messages(uow_factory, on_the_5th) == []


async def test_a_policy_without_offsets_plans_nothing_and_batches_are_split(
    uow_factory, planner, clock, gateway, account
):
    for i in range(7):
        await add(uow_factory, clock, account.id, TODAY, f"+55119888800{i:02d}", name=f"C{i}")
    report = await plan(uow_factory, planner, clock, gateway, batch_size=3)
    assert report.queued == 7
    await accounts.update_profile(
        uow_factory, clock, account.id, reminder_policy=ReminderPolicy(offsets=())
    )
    clock.advance(days=1)
    assert await plan(uow_factory, planner, clock, gateway) == PlanningReport(accounts=1)


async def test_one_accounts_failure_does_not_stop_the_others(
    uow_factory, planner, clock, gateway, account
):
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    await connect(gateway, other.id)
    await add(uow_factory, clock, account.id, TODAY, "+5511988880001")
    await add(uow_factory, clock, other.id, TODAY, "+5511988880002")
    check = whatsapp_connected(gateway)

    async def broken_for_ana(acc):
        if acc.id == account.id:
            raise RuntimeError("boom")
        return await check(acc)

    report = await plan_reminders(uow_factory, planner, clock, broken_for_ana)
    assert report.queued == 1
    assert report.failures == ((account.id, "RuntimeError: boom"),)


async def test_only_the_accounts_asked_for_are_planned(
    uow_factory, planner, clock, gateway, account
):
    other, _ = await accounts.register_account(uow_factory, clock, 43, "Bia")
    await connect(gateway, other.id)
    await add(uow_factory, clock, account.id, TODAY, "+5511988880001")
    await add(uow_factory, clock, other.id, TODAY, "+5511988880002")
    report = await plan(uow_factory, planner, clock, gateway, account_ids={other.id})
    assert (report.accounts, report.queued) == (1, 1)


async def test_planning_is_audited_once_per_account_and_run(
    uow_factory, planner, clock, gateway, account
):
    await add(uow_factory, clock, account.id, TODAY, "+5511988880001")
    await plan(uow_factory, planner, clock, gateway)
    await plan(uow_factory, planner, clock, gateway)
    async with uow_factory() as uow:
        events = [e for e in await uow.audit.list(account.id) if e.action == "reminders.planned"]
    assert len(events) == 1
    assert events[0].data == {"queued": "1", "day": "2026-03-04"}
    assert events[0].actor == "system"


async def test_a_template_that_no_longer_renders_is_reported_and_the_other_kinds_go(
    uow_factory, planner, clock, gateway, account
):
    async with uow_factory() as uow:  # saved before a validation rule existed
        await uow.templates.save(
            Template(
                account_id=account.id,
                kind=TemplateKind.DUE_TODAY,
                text="Oi {cliente}",
                updated_at=clock.now(),
            )
        )
        await uow.commit()
    broken = await add(uow_factory, clock, account.id, TODAY, "+5511988880001")
    fine = await add(uow_factory, clock, account.id, TODAY + timedelta(3), "+5511988880002")
    report = await plan(uow_factory, planner, clock, gateway)
    assert report.queued == 1
    [(account_id, reason)] = report.failures
    assert account_id == account.id
    assert reason.startswith("template due_today:")
    assert await messages(uow_factory, broken) == []
    assert len(await messages(uow_factory, fine)) == 1


async def test_invalid_batch_size_is_refused(uow_factory, planner, clock, gateway):
    with pytest.raises(ValueError, match="batch_size"):
        await plan(uow_factory, planner, clock, gateway, batch_size=0)

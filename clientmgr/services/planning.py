"""Planning reminders: queue today's WhatsApp reminders of every seller, once each.

The scheduler runs ``plan_reminders`` every few minutes. For each account it:

1. skips it when it may not send (``AccountStatus.EXPIRED``; the grace days still send) or
   when the seller's local time is outside the send window: a reminder planned at 21:00
   would only go out tomorrow with a wrong "vence hoje", while the next run inside the
   window plans it with the right text;
2. takes the seller's local "today" and turns each policy offset into a due date,
   ``due = today - offset``: offset -3 (three days *before* the due date) looks for
   clients due on today + 3, offset +1 (a day late) for clients due yesterday;
3. reads the candidates in one query (due on any of those dates, neither paused,
   archived nor opted out) and their dedupe keys (``core.outbox.dedupe_key``: account,
   client, kind, due date, offset); keys already in the outbox are done — also cancelled
   or failed ones, so a reminder the seller saw fail is not sent again behind their back;
4. only when something is left, asks whether the seller's WhatsApp is connected
   (``ConnectionCheck``; by default the sidecar's session state must be ``open``). A seller
   who never linked a phone, or whose phone is unlinked, gets nothing queued: the rows
   would only wait (or go out late with the wrong text); once connected, the next run
   inside the window queues the day's reminders. A sidecar that cannot be reached counts
   as "not known now": nothing is queued and the next run asks again;
5. renders each message from the account's template for its kind (the seller's text or
   the default) with a PIX copia e cola for the client's price, and queues them in
   batches with ``INSERT … SELECT … ON CONFLICT (dedupe_key) DO NOTHING``
   (``ReminderPlanner.enqueue``), which also drops reminders whose client paid (or was
   paused) since it was read.

Running it twice, or on several replicas at once, queues each reminder once. Paying a
client cancels its queued reminders (``services.payments``) and moves its due date, so the
old reminders are neither kept nor planned again. One account's failure (bad data, a
template that no longer renders) is reported in ``PlanningReport.failures`` and does not
stop the others.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterator, Sequence
from datetime import date, datetime, timedelta
from typing import TypeVar

from attrs import evolve, frozen

from clientmgr.core.accounts import Account
from clientmgr.core.clients import Client
from clientmgr.core.outbox import OutboxMessage, dedupe_key
from clientmgr.core.reminders import ReminderPolicy, kind_for_offset
from clientmgr.core.rendering import RenderContext, render, text_for
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import InvalidTemplateError, WhatsAppUnavailableError
from clientmgr.ports.clock import Clock
from clientmgr.ports.planning import PlannedReminder, ReminderPlanner
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.ports.whatsapp import WhatsAppGateway
from clientmgr.services.accounts import audit
from clientmgr.services.templates import pix_code_for
from clientmgr.services.whatsapp import session_id_for

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "ConnectionCheck",
    "PlanningReport",
    "due_dates_for",
    "plan_reminders",
    "whatsapp_connected",
]

DEFAULT_BATCH_SIZE = 500
"""Reminders per INSERT: few round trips, and far below either database's parameter cap."""

ConnectionCheck = Callable[[Account], Awaitable[bool]]
"""Whether the account's WhatsApp can send now; may raise WhatsAppUnavailableError when it
cannot be told (the sidecar is down)."""

T = TypeVar("T")


def whatsapp_connected(gateway: WhatsAppGateway) -> ConnectionCheck:
    """The default check: the seller's sidecar session (``acc-<id>``) is ``open``.

    A session that is connecting, waiting for a QR scan, closed or logged out is not
    connected. WhatsAppUnavailableError (sidecar down, breaker open) goes to the caller.
    """

    async def check(account: Account) -> bool:
        if account.id is None:
            return False
        session = await gateway.get_session(session_id_for(account.id))
        return session is not None and session.is_open

    return check


@frozen
class PlanningReport:
    """What one planning run did, summed over the accounts it looked at.

    ``queued`` new messages; ``already_planned`` candidates whose message existed;
    accounts skipped: ``expired``, ``outside_window``, ``not_connected`` (had reminders to
    queue, WhatsApp not open), ``sidecar_unavailable`` (had reminders, could not ask);
    ``failures`` holds ``(account_id, reason)`` for accounts (or template kinds) that
    failed, for the scheduler to log.
    """

    accounts: int = 0
    queued: int = 0
    already_planned: int = 0
    expired: int = 0
    outside_window: int = 0
    not_connected: int = 0
    sidecar_unavailable: int = 0
    failures: tuple[tuple[int, str], ...] = ()

    def __add__(self, other: PlanningReport) -> PlanningReport:
        return PlanningReport(
            accounts=self.accounts + other.accounts,
            queued=self.queued + other.queued,
            already_planned=self.already_planned + other.already_planned,
            expired=self.expired + other.expired,
            outside_window=self.outside_window + other.outside_window,
            not_connected=self.not_connected + other.not_connected,
            sidecar_unavailable=self.sidecar_unavailable + other.sidecar_unavailable,
            failures=self.failures + other.failures,
        )


def due_dates_for(policy: ReminderPolicy, today: date) -> dict[date, int]:
    """Each due date that gets a reminder ``today``, with its offset: ``today - offset``.

    >>> due_dates_for(ReminderPolicy(offsets=(-3, 0, 1)), date(2026, 3, 10))
    {datetime.date(2026, 3, 13): -3, datetime.date(2026, 3, 10): 0, datetime.date(2026, 3, 9): 1}
    """
    return {today - timedelta(days=offset): offset for offset in policy.offsets}


def _chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


async def plan_reminders(
    uow_factory: UnitOfWorkFactory,
    planner: ReminderPlanner,
    clock: Clock,
    is_connected: ConnectionCheck,
    *,
    account_ids: Collection[int] | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> PlanningReport:
    """Queue today's reminders of every account (or only of ``account_ids``).

    Idempotent (see the module docstring); returns what it did.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = clock.now()
    async with uow_factory() as uow:
        accounts = [
            a for a in await uow.accounts.list() if account_ids is None or a.id in account_ids
        ]
    report = PlanningReport()
    sidecar_down = False
    for account in accounts:
        assert account.id is not None
        try:
            result = await _plan_account(
                uow_factory,
                planner,
                clock,
                now,
                account,
                None if sidecar_down else is_connected,
                batch_size,
            )
        except Exception as exc:  # one seller's bad data must not stop everyone's reminders
            result = PlanningReport(accounts=1, failures=((account.id, _describe(exc)),))
        sidecar_down = sidecar_down or result.sidecar_unavailable > 0
        report += result
    return report


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


async def _plan_account(
    uow_factory: UnitOfWorkFactory,
    planner: ReminderPlanner,
    clock: Clock,
    now: datetime,
    account: Account,
    is_connected: ConnectionCheck | None,
    batch_size: int,
) -> PlanningReport:
    """One account's run; ``is_connected`` None means the sidecar is already known down."""
    assert account.id is not None
    if not account.status(now).can_write:
        return PlanningReport(accounts=1, expired=1)
    if not account.in_send_window(now):
        return PlanningReport(accounts=1, outside_window=1)
    today = account.local_now(now).date()
    offsets = due_dates_for(account.reminder_policy, today)
    clients = await planner.candidates(account.id, list(offsets))
    keyed = [(_key_for(account.id, client, offsets), client) for client in clients]
    existing: set[str] = set()
    for chunk in _chunks([key for key, _ in keyed], batch_size):
        existing |= await planner.existing_keys(account.id, chunk)
    todo = [(key, client) for key, client in keyed if key not in existing]
    planned = PlanningReport(accounts=1, already_planned=len(keyed) - len(todo))
    if not todo:
        return planned
    if is_connected is None:
        return evolve(planned, sidecar_unavailable=1)
    try:
        connected = await is_connected(account)
    except WhatsAppUnavailableError:
        return evolve(planned, sidecar_unavailable=1)
    if not connected:
        return evolve(planned, not_connected=1)

    reminders, failures = await _render_all(uow_factory, now, today, account, offsets, todo)
    queued = 0
    for chunk in _chunks(reminders, batch_size):
        queued += await planner.enqueue(account.id, chunk)
    if queued:
        async with uow_factory() as uow:
            await audit(
                uow,
                clock,
                account.id,
                "reminders.planned",
                "account",
                account.id,
                actor="system",
                queued=queued,
                day=today.isoformat(),
            )
            await uow.commit()
    return evolve(planned, queued=queued, failures=failures)


def _key_for(account_id: int, client: Client, offsets: dict[date, int]) -> str:
    assert client.id is not None
    offset = offsets[client.due_date]
    return dedupe_key(account_id, client.id, kind_for_offset(offset), client.due_date, offset)


async def _render_all(
    uow_factory: UnitOfWorkFactory,
    now: datetime,
    today: date,
    account: Account,
    offsets: dict[date, int],
    todo: Sequence[tuple[str, Client]],
) -> tuple[list[PlannedReminder], tuple[tuple[int, str], ...]]:
    """Render every reminder with the account's templates (read once); a kind whose saved
    text no longer renders is reported once and its reminders are left out."""
    assert account.id is not None
    async with uow_factory() as uow:
        saved = {template.kind: template for template in await uow.templates.list(account.id)}
    broken: dict[TemplateKind, str] = {}
    reminders: list[PlannedReminder] = []
    for key, client in todo:
        kind = kind_for_offset(offsets[client.due_date])
        if kind in broken:
            continue
        context = RenderContext.for_client(
            client, account, today, pix_code=pix_code_for(account, client.price)
        )
        try:
            text = render(text_for(kind, saved.get(kind)), context)
        except InvalidTemplateError as exc:
            broken[kind] = f"template {kind.value}: {exc}"
            continue
        message = OutboxMessage(
            account_id=account.id,
            client_id=client.id,
            to=client.phone,
            text=text,
            kind=kind,
            dedupe_key=key,
            created_at=now,
            next_attempt_at=now,
        )
        reminders.append(PlannedReminder(message=message, due_date=client.due_date))
    return reminders, tuple((account.id, reason) for reason in broken.values())

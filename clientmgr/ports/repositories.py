"""Repository and unit-of-work ports. Every seller query names its account id.

Repositories never commit; the use case calls ``await uow.commit()`` and leaving the
``async with`` block without it rolls back. ``add`` returns the entity with its new ``id``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Protocol, Self

from attrs import frozen

from clientmgr.core.accounts import Account, AccountStatus
from clientmgr.core.audit import AuditEvent
from clientmgr.core.clients import Client
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.payments import Payment
from clientmgr.core.subscriptions import SubscriptionPayment
from clientmgr.core.templates import Template, TemplateKind
from clientmgr.ports.pacing import SessionPacing

__all__ = [
    "AccountRepository",
    "AuditRepository",
    "ClientRepository",
    "ClientTally",
    "OutboxActivity",
    "OutboxRepository",
    "PaymentRepository",
    "SubscriptionRepository",
    "Tally",
    "TemplateRepository",
    "UnitOfWork",
    "UnitOfWorkFactory",
]


@frozen
class Tally:
    """How many rows matched and the sum of their money, added up in exact cents."""

    count: int = 0
    total: Decimal = Decimal("0.00")


@frozen
class ClientTally:
    """One account's clients counted for the seller's home screen; archived ones never count.

    ``active`` is neither paused nor archived; ``overdue`` and ``due_soon`` count active
    clients only, with the sum of their prices.
    """

    active: int
    paused: int
    overdue: Tally
    due_soon: Tally


@frozen
class OutboxActivity:
    """Messages across every account: ``queued`` were created and ``sent`` went out in a
    period; ``pending`` are waiting (queued or sending) right now, whenever they were created."""

    queued: int
    sent: int
    pending: int


class AccountRepository(Protocol):
    async def add(self, account: Account) -> Account:
        """Raises DuplicateAccountError when the Telegram id already has an account."""

    async def get(self, account_id: int) -> Account:
        """Raises AccountNotFoundError."""

    async def get_by_telegram_id(self, telegram_id: int) -> Account | None: ...

    async def update(self, account: Account) -> None:
        """Raises AccountNotFoundError when the id is unknown."""

    async def list(self) -> Sequence[Account]:
        """All accounts, oldest first."""

    async def count_by_status(self, now: datetime) -> dict[AccountStatus, int]:
        """How many accounts are in each status at ``now`` (every status is a key).

        Counted where the data lives, with exactly the rule of ``Account.status``; for the
        operator's stats, so it is deliberately not scoped to one account.
        """


class ClientRepository(Protocol):
    async def add(self, client: Client) -> Client:
        """Raises DuplicatePhoneError when the phone exists in the same account."""

    async def get(self, account_id: int, client_id: int) -> Client:
        """Raises ClientNotFoundError, also when the client belongs to another account."""

    async def get_by_phone(self, account_id: int, phone: str) -> Client | None: ...

    async def update(self, client: Client) -> None:
        """Raises ClientNotFoundError (other account too) or DuplicatePhoneError."""

    async def list(
        self,
        account_id: int,
        *,
        search: str | None = None,
        due_from: date | None = None,
        due_to: date | None = None,
        paused: bool | None = None,
        archived: bool | None = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> Sequence[Client]:
        """Clients ordered by due date, then name, then id.

        ``search`` matches a case-insensitive part of the name or the digits of the phone;
        ``due_from``/``due_to`` bound the due date inclusively; ``paused``/``archived`` filter
        when not None (archived clients are hidden by default).
        """

    async def count(self, account_id: int, *, archived: bool | None = False) -> int: ...

    async def tally(self, account_id: int, *, today: date, until: date) -> ClientTally:
        """One aggregate query: overdue means due before ``today``; due soon means due from
        ``today`` to ``until`` inclusive (see ClientTally)."""

    async def count_all(self, *, archived: bool | None = False) -> int:
        """Clients of every account (operator stats only; never shown to a seller)."""

    async def upsert_many(self, account_id: int, clients: Sequence[Client]) -> tuple[int, int]:
        """Insert or update by (account, phone) in batches; returns (inserted, updated)."""


class PaymentRepository(Protocol):
    async def add(self, payment: Payment) -> Payment:
        """Raises ConflictError when the account already used the idempotency key."""

    async def get_by_key(self, account_id: int, idempotency_key: str) -> Payment | None: ...

    async def list_for_client(self, account_id: int, client_id: int) -> Sequence[Payment]:
        """Newest first."""

    async def total_between(self, account_id: int, start: datetime, end: datetime) -> Decimal:
        """Sum of amounts paid in [start, end)."""


class TemplateRepository(Protocol):
    async def get(self, account_id: int, kind: TemplateKind) -> Template | None: ...

    async def save(self, template: Template) -> None:
        """Insert or replace the account's text for that kind."""

    async def delete(self, account_id: int, kind: TemplateKind) -> None:
        """Back to the default; deleting an absent template is not an error."""

    async def list(self, account_id: int) -> Sequence[Template]: ...


class OutboxRepository(Protocol):
    async def add(self, message: OutboxMessage) -> OutboxMessage | None:
        """None when a message with the same dedupe key already exists."""

    async def get(self, account_id: int, message_id: int) -> OutboxMessage:
        """Raises NotFoundError."""

    async def list_for_client(self, account_id: int, client_id: int) -> Sequence[OutboxMessage]:
        """Newest first."""

    async def set_status(
        self,
        account_id: int,
        message_id: int,
        status: OutboxStatus,
        *,
        error: str | None = None,
        provider_message_id: str | None = None,
        at: datetime | None = None,
    ) -> None: ...

    async def cancel_queued_for_client(self, account_id: int, client_id: int) -> int:
        """Cancel the client's still-queued messages; returns how many."""

    async def list_queued(self, account_id: int, *, limit: int) -> Sequence[OutboxMessage]:
        """Up to ``limit`` of the account's ``queued`` messages, whenever they are due: the
        oldest due first (``next_attempt_at``, then id)."""

    async def count_queued(self, account_id: int) -> int:
        """How many of the account's messages are ``queued``."""

    async def cancel_if_queued(
        self, account_id: int, message_id: int, *, error: str | None = None
    ) -> bool:
        """Cancel this one message only while it is still ``queued`` (``error`` becomes
        ``last_error`` when given); True when it did. A message the dispatcher claimed
        meanwhile (``sending``), one already settled, another account's or an unknown id is
        left alone: False. Decided on the latest committed row, like ``mark_sent``, so a
        claim committed after this unit of work began is seen."""

    async def get_by_dedupe_key(self, account_id: int, dedupe_key: str) -> OutboxMessage | None:
        """The message holding ``dedupe_key``; None also when another account holds it."""

    async def activity_between(self, start: datetime, end: datetime) -> OutboxActivity:
        """Every account's messages created / sent in [start, end), and pending now."""

    # -- the dispatcher (``clientmgr.services.sending``) ------------------------------

    async def claim_due(
        self,
        now: datetime,
        *,
        owner: str,
        lease: timedelta,
        limit: int,
        per_account: int | None = None,
    ) -> Sequence[OutboxMessage]:
        """Take up to ``limit`` messages due at ``now``, across every account, for sending.

        Due: ``queued`` with ``next_attempt_at <= now``, or ``sending`` whose lease ended
        (``lease_until <= now``: its worker died). Accounts whose session pacing says not
        before a later time (``SessionPacing.next_send_at > now``) are skipped, and at most
        ``per_account`` messages of one account are taken. Each one becomes ``sending`` with
        ``lease_until = now + lease``, ``owner`` as its holder and one more attempt; the
        oldest due come first. Concurrent callers never take the same message (PostgreSQL:
        ``FOR UPDATE SKIP LOCKED``; SQLite: one ``UPDATE … RETURNING``). Commit at once so
        the other workers see the claim.
        """

    async def mark_sent(
        self, account_id: int, message_id: int, *, provider_message_id: str, at: datetime
    ) -> bool:
        """WhatsApp accepted the message: ``sent`` with its id and ``sent_at``, no lease, no
        error. Applies while the message is ``queued`` or ``sending``, whoever holds it (the
        send happened either way), and never rolls back ``delivered``/``read``; False when
        nothing changed."""

    async def release_claim(
        self,
        account_id: int,
        message_id: int,
        owner: str,
        status: OutboxStatus,
        *,
        next_attempt_at: datetime | None = None,
        error: str | None = None,
        refund_attempt: bool = False,
    ) -> bool:
        """End ``owner``'s claim: back to ``queued`` (due at ``next_attempt_at``, required
        then), or ``failed`` / ``cancelled``. ``error`` becomes ``last_error`` when given;
        ``refund_attempt`` gives back the attempt the claim counted (nothing was tried).
        Only while ``owner`` still holds it (``sending``, same owner): False otherwise, since
        the lease ran out and another worker took the message over."""

    async def lock_pacing(self, session_id: str, account_id: int, now: datetime) -> SessionPacing:
        """The session's pacing, created when missing (free to send at ``now``, first seen
        ``now``, day of ``now`` in UTC until the caller saves its own), and held against
        other writers until the transaction ends (PostgreSQL ``FOR UPDATE``, SQLite's write
        lock; in memory, decide and commit without awaiting anything else in between)."""

    async def save_pacing(self, pacing: SessionPacing) -> None:
        """Write the session's pacing (insert or replace)."""

    async def get_pacing(self, session_id: str) -> SessionPacing | None:
        """The session's pacing as committed, without holding it; None before its first send."""


class SubscriptionRepository(Protocol):
    async def add(self, payment: SubscriptionPayment) -> SubscriptionPayment:
        """Raises ConflictError when the Mercado Pago payment id exists."""

    async def get_by_mp_id(self, mp_payment_id: str) -> SubscriptionPayment | None: ...

    async def update(self, payment: SubscriptionPayment) -> None: ...

    async def list_for_account(self, account_id: int) -> Sequence[SubscriptionPayment]:
        """Newest first."""

    async def approved_between(self, start: datetime, end: datetime) -> Tally:
        """Every account's APPROVED charges whose ``approved_at`` is in [start, end)."""


class AuditRepository(Protocol):
    async def add(self, event: AuditEvent) -> None: ...

    async def latest(
        self,
        account_id: int,
        *,
        entity: str,
        actions: Collection[str],
        entity_id: str | None = None,
    ) -> AuditEvent | None:
        """The account's newest event about ``entity`` (and ``entity_id``, when given) whose
        action is one of ``actions``: the journal that makes a notice happen once."""

    async def list(self, account_id: int, *, limit: int = 50) -> Sequence[AuditEvent]:
        """Newest first."""


class UnitOfWork(Protocol):
    accounts: AccountRepository
    clients: ClientRepository
    payments: PaymentRepository
    templates: TemplateRepository
    outbox: OutboxRepository
    subscriptions: SubscriptionRepository
    audit: AuditRepository

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None:
        """Rolls back whatever was not committed."""

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...


UnitOfWorkFactory = Callable[[], UnitOfWork]

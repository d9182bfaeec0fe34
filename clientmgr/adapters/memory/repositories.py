"""In-memory repositories: the same promises as the SQL ones (scoping, uniqueness, order, errors).

Every entity is stored with its datetimes converted to UTC (naive ones refused) and read
back as stored, as the SQL adapter does; a client's search and order use the same folded
name key (``clientmgr.adapters.sql.search``), so both adapters list clients identically.
"""

from __future__ import annotations

import copy
import json
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

import attrs
from attrs import evolve

from clientmgr.adapters.memory.store import Table, Transaction, UniqueViolation
from clientmgr.adapters.sql.search import name_key, phone_fragment
from clientmgr.core.accounts import Account, AccountStatus
from clientmgr.core.audit import AuditEvent
from clientmgr.core.clients import Client
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.payments import Payment
from clientmgr.core.subscriptions import SubscriptionPayment, SubscriptionStatus
from clientmgr.core.templates import Template, TemplateKind
from clientmgr.errors import (
    AccountNotFoundError,
    ClientNotFoundError,
    ConflictError,
    DuplicateAccountError,
    DuplicatePhoneError,
    InvalidMoneyError,
    NotFoundError,
)
from clientmgr.ports.pacing import SessionPacing
from clientmgr.ports.repositories import ClientTally, OutboxActivity, Tally

__all__ = [
    "InMemoryAccountRepository",
    "InMemoryAuditRepository",
    "InMemoryClientRepository",
    "InMemoryOutboxRepository",
    "InMemoryPaymentRepository",
    "InMemorySubscriptionRepository",
    "InMemoryTemplateRepository",
]

E = TypeVar("E")
CENT = Decimal("0.01")
TransactionSource = Callable[[], Transaction]


def _as_utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"naive datetime {value!r}: clientmgr stores timezone-aware datetimes only"
        )
    return value.astimezone(UTC)


def _stored(entity: E) -> E:
    """``entity`` with every datetime in UTC, as a database hands it back."""
    changes = {
        field.name: _as_utc(value)
        for field in attrs.fields(type(entity))  # type: ignore[arg-type]
        if isinstance(value := getattr(entity, field.name), datetime)
    }
    return evolve(entity, **changes) if changes else entity  # type: ignore[misc]


def _not_negative(amount: Decimal) -> None:
    if amount < 0:
        raise InvalidMoneyError("O valor não pode ser negativo.")


def _account_exists(tx: Transaction, account_id: int) -> bool:
    return tx.read("accounts").get(account_id) is not None


def _client_exists(tx: Transaction, account_id: int, client_id: int) -> bool:
    client = tx.read("clients").get(client_id)
    return client is not None and client.account_id == account_id


def _tally(amounts: Iterable[Decimal]) -> Tally:
    """Count and exact-cent sum, as the SQL adapters add money up."""
    count, total = 0, Decimal(0)
    for amount in amounts:
        count += 1
        total += amount.quantize(CENT)
    return Tally(count, total.quantize(CENT))


class _Repository:
    def __init__(self, transaction: TransactionSource) -> None:
        self._tx = transaction


class InMemoryAccountRepository(_Repository):
    """Implements ``AccountRepository``."""

    async def add(self, account: Account) -> Account:
        tx = self._tx()
        stored = _stored(evolve(account, id=tx.store.next_id("accounts")))
        try:
            tx.write("accounts").put(stored.id, stored)
        except UniqueViolation as exc:
            raise DuplicateAccountError(
                f"Já existe uma conta para o usuário do Telegram {account.telegram_id}."
            ) from exc
        return stored

    async def get(self, account_id: int) -> Account:
        account: Account | None = self._tx().read("accounts").get(account_id)
        if account is None:
            raise AccountNotFoundError(f"Conta {account_id} não encontrada.")
        return account

    async def get_by_telegram_id(self, telegram_id: int) -> Account | None:
        table = self._tx().read("accounts")
        holder = table.holder("telegram_id", telegram_id)
        return None if holder is None else table.get(holder)

    async def update(self, account: Account) -> None:
        tx = self._tx()
        current = tx.read("accounts").get(account.id) if account.id is not None else None
        if current is None:
            raise AccountNotFoundError(f"Conta {account.id} não encontrada.")
        stored = _stored(evolve(account, created_at=current.created_at))
        try:
            tx.write("accounts").put(account.id, stored)
        except UniqueViolation as exc:
            raise DuplicateAccountError(
                f"Já existe uma conta para o usuário do Telegram {account.telegram_id}."
            ) from exc

    async def list(self) -> Sequence[Account]:
        return sorted(self._tx().read("accounts"), key=lambda a: (a.created_at, a.id))

    async def count_by_status(self, now: datetime) -> dict[AccountStatus, int]:
        now = _as_utc(now)
        counts = Counter(account.status(now) for account in self._tx().read("accounts"))
        return {status: counts[status] for status in AccountStatus}


class InMemoryClientRepository(_Repository):
    """Implements ``ClientRepository``."""

    async def add(self, client: Client) -> Client:
        _not_negative(client.price)
        tx = self._tx()
        if not _account_exists(tx, client.account_id):
            raise AccountNotFoundError(f"Conta {client.account_id} não encontrada.")
        stored = _stored(evolve(client, id=tx.store.next_id("clients")))
        try:
            tx.write("clients").put(stored.id, stored)
        except UniqueViolation as exc:
            raise DuplicatePhoneError(client.phone, exc.holder) from exc  # type: ignore[arg-type]
        return stored

    async def get(self, account_id: int, client_id: int) -> Client:
        client: Client | None = self._tx().read("clients").get(client_id)
        if client is None or client.account_id != account_id:
            raise ClientNotFoundError(f"Cliente {client_id} não encontrado.")
        return client

    async def get_by_phone(self, account_id: int, phone: str) -> Client | None:
        table = self._tx().read("clients")
        holder = table.holder("phone", (account_id, phone))
        return None if holder is None else table.get(holder)

    async def update(self, client: Client) -> None:
        _not_negative(client.price)
        tx = self._tx()
        current = tx.read("clients").get(client.id) if client.id is not None else None
        if current is None or current.account_id != client.account_id:
            raise ClientNotFoundError(f"Cliente {client.id} não encontrado.")
        stored = _stored(evolve(client, created_at=current.created_at))
        try:
            tx.write("clients").put(client.id, stored)
        except UniqueViolation as exc:
            raise DuplicatePhoneError(client.phone, exc.holder) from exc  # type: ignore[arg-type]

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
        needle = search.strip() if search is not None else ""
        folded = name_key(needle)
        digits = phone_fragment(needle) if needle else None

        def wanted(c: Client) -> bool:
            return (
                c.account_id == account_id
                and (
                    not needle
                    or folded in name_key(c.name)
                    or (digits is not None and digits in c.phone)
                )
                and (due_from is None or c.due_date >= due_from)
                and (due_to is None or c.due_date <= due_to)
                and (paused is None or c.paused == paused)
                and (archived is None or c.archived == archived)
            )

        found = sorted(
            filter(wanted, self._tx().read("clients")),
            key=lambda c: (c.due_date, name_key(c.name), c.id),
        )
        end = None if limit is None else offset + limit
        return found[offset:end]

    async def count(self, account_id: int, *, archived: bool | None = False) -> int:
        return sum(
            1
            for c in self._tx().read("clients")
            if c.account_id == account_id and (archived is None or c.archived == archived)
        )

    async def tally(self, account_id: int, *, today: date, until: date) -> ClientTally:
        shown = [
            c for c in self._tx().read("clients") if c.account_id == account_id and not c.archived
        ]
        active = [c for c in shown if not c.paused]
        return ClientTally(
            active=len(active),
            paused=len(shown) - len(active),
            overdue=_tally(c.price for c in active if c.due_date < today),
            due_soon=_tally(c.price for c in active if today <= c.due_date <= until),
        )

    async def count_all(self, *, archived: bool | None = False) -> int:
        return sum(
            1 for c in self._tx().read("clients") if archived is None or c.archived == archived
        )

    async def upsert_many(self, account_id: int, clients: Sequence[Client]) -> tuple[int, int]:
        """Same rules as the SQL adapter: last duplicate phone wins, flags and ids are kept."""
        by_phone: dict[str, Client] = {}
        for client in clients:
            _not_negative(client.price)
            by_phone[client.phone] = _stored(evolve(client, account_id=account_id))
        if not by_phone:
            return 0, 0
        tx = self._tx()
        if not _account_exists(tx, account_id):
            raise AccountNotFoundError(f"Conta {account_id} não encontrada.")
        table: Table[int, Client] = tx.write("clients")
        inserted = updated = 0
        for phone, new in by_phone.items():
            holder = table.holder("phone", (account_id, phone))
            current = None if holder is None else table.get(holder)
            if current is None:
                stored = evolve(new, id=tx.store.next_id("clients"))
                inserted += 1
            else:
                stored = evolve(
                    current,
                    name=new.name,
                    plan=new.plan,
                    price=new.price,
                    cycle=new.cycle,
                    due_date=new.due_date,
                    anchor_day=new.anchor_day,
                    notes=new.notes,
                    updated_at=new.updated_at,
                    wa_jid=new.wa_jid if new.wa_jid is not None else current.wa_jid,
                    wa_lid=new.wa_lid if new.wa_lid is not None else current.wa_lid,
                )
                updated += 1
            table.put(stored.id, stored)
        return inserted, updated


class InMemoryPaymentRepository(_Repository):
    """Implements ``PaymentRepository``."""

    async def add(self, payment: Payment) -> Payment:
        _not_negative(payment.amount)
        tx = self._tx()
        key = payment.idempotency_key
        if key is not None and await self.get_by_key(payment.account_id, key) is not None:
            raise ConflictError("Este pagamento já foi registrado.")
        if not _client_exists(tx, payment.account_id, payment.client_id):
            raise ClientNotFoundError(f"Cliente {payment.client_id} não encontrado.")
        stored = _stored(evolve(payment, id=tx.store.next_id("payments")))
        tx.write("payments").put(stored.id, stored)
        return stored

    async def get_by_key(self, account_id: int, idempotency_key: str) -> Payment | None:
        table = self._tx().read("payments")
        holder = table.holder("idempotency_key", (account_id, idempotency_key))
        return None if holder is None else table.get(holder)

    async def list_for_client(self, account_id: int, client_id: int) -> Sequence[Payment]:
        return sorted(
            (
                p
                for p in self._tx().read("payments")
                if p.account_id == account_id and p.client_id == client_id
            ),
            key=lambda p: (p.paid_at, p.id),
            reverse=True,
        )

    async def total_between(self, account_id: int, start: datetime, end: datetime) -> Decimal:
        start, end = _as_utc(start), _as_utc(end)
        total = sum(
            (
                p.amount.quantize(CENT)
                for p in self._tx().read("payments")
                if p.account_id == account_id and start <= p.paid_at < end
            ),
            Decimal(0),
        )
        return total.quantize(CENT)


class InMemoryTemplateRepository(_Repository):
    """Implements ``TemplateRepository``."""

    async def get(self, account_id: int, kind: TemplateKind) -> Template | None:
        template: Template | None = self._tx().read("templates").get((account_id, kind))
        return template

    async def save(self, template: Template) -> None:
        tx = self._tx()
        if not _account_exists(tx, template.account_id):
            raise AccountNotFoundError(f"Conta {template.account_id} não encontrada.")
        tx.write("templates").put((template.account_id, template.kind), _stored(template))

    async def delete(self, account_id: int, kind: TemplateKind) -> None:
        tx = self._tx()
        if tx.read("templates").get((account_id, kind)) is not None:
            tx.write("templates").remove((account_id, kind))

    async def list(self, account_id: int) -> Sequence[Template]:
        return sorted(
            (t for t in self._tx().read("templates") if t.account_id == account_id),
            key=lambda t: t.kind.value,
        )


class InMemoryOutboxRepository(_Repository):
    """Implements ``OutboxRepository``."""

    async def add(self, message: OutboxMessage) -> OutboxMessage | None:
        tx = self._tx()
        if tx.read("outbox").holder("dedupe_key", message.dedupe_key) is not None:
            return None
        if message.client_id is not None and not _client_exists(
            tx, message.account_id, message.client_id
        ):
            raise ClientNotFoundError(f"Cliente {message.client_id} não encontrado.")
        if not _account_exists(tx, message.account_id):
            raise AccountNotFoundError(f"Conta {message.account_id} não encontrada.")
        stored = _stored(evolve(message, id=tx.store.next_id("outbox")))
        tx.write("outbox").put(stored.id, stored)
        return stored

    async def get(self, account_id: int, message_id: int) -> OutboxMessage:
        message: OutboxMessage | None = self._tx().read("outbox").get(message_id)
        if message is None or message.account_id != account_id:
            raise NotFoundError(f"Mensagem {message_id} não encontrada.")
        return message

    async def list_for_client(self, account_id: int, client_id: int) -> Sequence[OutboxMessage]:
        return sorted(
            (
                m
                for m in self._tx().read("outbox")
                if m.account_id == account_id and m.client_id == client_id
            ),
            key=lambda m: (m.created_at, m.id),
            reverse=True,
        )

    async def set_status(
        self,
        account_id: int,
        message_id: int,
        status: OutboxStatus,
        *,
        error: str | None = None,
        provider_message_id: str | None = None,
        at: datetime | None = None,
    ) -> None:
        """As in SQL; the delivered/read times are not part of the entity, so only sent_at shows."""
        current = await self.get(account_id, message_id)
        changes: dict[str, Any] = {"status": status}
        if error is not None:
            changes["last_error"] = error
        if provider_message_id is not None:
            changes["provider_message_id"] = provider_message_id
        if at is not None and status is OutboxStatus.SENT:
            changes["sent_at"] = _as_utc(at)
        self._tx().write("outbox").put(message_id, evolve(current, **changes))

    async def cancel_queued_for_client(self, account_id: int, client_id: int) -> int:
        tx = self._tx()
        queued = [
            m
            for m in tx.read("outbox")
            if m.account_id == account_id
            and m.client_id == client_id
            and m.status is OutboxStatus.QUEUED
        ]
        if queued:
            table = tx.write("outbox")
            for message in queued:
                table.put(
                    message.id, evolve(message, status=OutboxStatus.CANCELLED, last_error=None)
                )
        return len(queued)

    async def list_queued(self, account_id: int, *, limit: int) -> Sequence[OutboxMessage]:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        queued = sorted(
            (
                m
                for m in self._tx().read("outbox")
                if m.account_id == account_id and m.status is OutboxStatus.QUEUED
            ),
            key=lambda m: (m.next_attempt_at, m.id),
        )
        return queued[:limit]

    async def count_queued(self, account_id: int) -> int:
        return sum(
            1
            for m in self._tx().read("outbox")
            if m.account_id == account_id and m.status is OutboxStatus.QUEUED
        )

    async def cancel_if_queued(
        self, account_id: int, message_id: int, *, error: str | None = None
    ) -> bool:
        """Decided on the latest committed row (``Transaction.fresh``), as SQL's UPDATE is."""
        tx = self._tx()
        current: OutboxMessage | None = tx.fresh("outbox").get(message_id)
        if (
            current is None
            or current.account_id != account_id
            or current.status is not OutboxStatus.QUEUED
        ):
            return False
        changes: dict[str, Any] = {"status": OutboxStatus.CANCELLED}
        if error is not None:
            changes["last_error"] = error
        tx.write("outbox").put(message_id, evolve(current, **changes))
        return True

    async def get_by_dedupe_key(self, account_id: int, dedupe_key: str) -> OutboxMessage | None:
        table = self._tx().read("outbox")
        holder = table.holder("dedupe_key", dedupe_key)
        message: OutboxMessage | None = None if holder is None else table.get(holder)
        return message if message is not None and message.account_id == account_id else None

    async def activity_between(self, start: datetime, end: datetime) -> OutboxActivity:
        start, end = _as_utc(start), _as_utc(end)
        messages = list(self._tx().read("outbox"))
        waiting = (OutboxStatus.QUEUED, OutboxStatus.SENDING)
        return OutboxActivity(
            queued=sum(1 for m in messages if start <= m.created_at < end),
            sent=sum(1 for m in messages if m.sent_at is not None and start <= m.sent_at < end),
            pending=sum(1 for m in messages if m.status in waiting),
        )

    # -- the dispatcher: like SQL's UPDATE … WHERE, these read the latest committed rows
    # (``Transaction.fresh``), not the snapshot the unit of work began on, so a claim never
    # takes a row another unit of work claimed meanwhile. Claim and commit without awaiting
    # anything else in between (the dispatcher does), and nothing can interleave.

    async def claim_due(
        self,
        now: datetime,
        *,
        owner: str,
        lease: timedelta,
        limit: int,
        per_account: int | None = None,
    ) -> Sequence[OutboxMessage]:
        if limit < 1 or (per_account is not None and per_account < 1):
            raise ValueError("limit and per_account must be at least 1")
        now = _as_utc(now)
        tx = self._tx()
        held_back = {
            pacing.account_id
            for pacing in tx.fresh("wa_pacing").values()
            if pacing.next_send_at > now
        }
        due = sorted(
            (
                m
                for m in tx.fresh("outbox").values()
                if m.account_id not in held_back and _claimable(m, now)
            ),
            key=lambda m: (m.next_attempt_at, m.id),
        )
        taken: list[OutboxMessage] = []
        per: Counter[int] = Counter()
        for message in due:
            if len(taken) == limit:
                break
            if per_account is not None and per[message.account_id] >= per_account:
                continue
            per[message.account_id] += 1
            taken.append(message)
        claimed = [
            evolve(
                m,
                status=OutboxStatus.SENDING,
                lease_until=now + lease,
                attempts=m.attempts + 1,
            )
            for m in taken
        ]
        table, owners = tx.write("outbox"), tx.write("outbox_lease_owner")
        for message in claimed:
            table.put(message.id, message)
            owners.put(message.id, owner)
        return claimed

    async def mark_sent(
        self, account_id: int, message_id: int, *, provider_message_id: str, at: datetime
    ) -> bool:
        tx = self._tx()
        current: OutboxMessage | None = tx.fresh("outbox").get(message_id)
        if (
            current is None
            or current.account_id != account_id
            or current.status not in (OutboxStatus.QUEUED, OutboxStatus.SENDING)
        ):
            return False
        sent = evolve(
            current,
            status=OutboxStatus.SENT,
            provider_message_id=provider_message_id,
            sent_at=_as_utc(at),
            lease_until=None,
            last_error=None,
        )
        tx.write("outbox").put(message_id, sent)
        tx.write("outbox_lease_owner").remove(message_id)
        return True

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
        changes: dict[str, Any] = {"status": status, "lease_until": None}
        if status is OutboxStatus.QUEUED:
            if next_attempt_at is None:
                raise ValueError("a message going back to the queue needs next_attempt_at")
            changes["next_attempt_at"] = _as_utc(next_attempt_at)
        elif status not in (OutboxStatus.FAILED, OutboxStatus.CANCELLED):
            raise ValueError(f"a claim ends queued, failed or cancelled, not {status.value}")
        if error is not None:
            changes["last_error"] = error
        tx = self._tx()
        current: OutboxMessage | None = tx.fresh("outbox").get(message_id)
        if (
            current is None
            or current.account_id != account_id
            or current.status is not OutboxStatus.SENDING
            or tx.fresh("outbox_lease_owner").get(message_id) != owner
        ):
            return False
        if refund_attempt:
            changes["attempts"] = max(0, current.attempts - 1)
        tx.write("outbox").put(message_id, evolve(current, **changes))
        tx.write("outbox_lease_owner").remove(message_id)
        return True

    async def lock_pacing(self, session_id: str, account_id: int, now: datetime) -> SessionPacing:
        tx = self._tx()
        pacing: SessionPacing | None = tx.fresh("wa_pacing").get(session_id)
        if pacing is not None:
            return pacing
        if not _account_exists(tx, account_id):
            raise AccountNotFoundError(f"Conta {account_id} não encontrada.")
        now = _as_utc(now)
        pacing = SessionPacing(
            session_id=session_id,
            account_id=account_id,
            next_send_at=now,
            day=now.date(),
            first_seen_at=now,
            updated_at=now,
        )
        tx.write("wa_pacing").put(session_id, pacing)
        return pacing

    async def save_pacing(self, pacing: SessionPacing) -> None:
        if pacing.sent_today < 0:
            raise ValueError("sent_today cannot be negative")
        self._tx().write("wa_pacing").put(pacing.session_id, _stored(pacing))

    async def get_pacing(self, session_id: str) -> SessionPacing | None:
        pacing: SessionPacing | None = self._tx().fresh("wa_pacing").get(session_id)
        return pacing


def _claimable(message: OutboxMessage, now: datetime) -> bool:
    if message.status is OutboxStatus.QUEUED:
        return message.next_attempt_at <= now
    return (
        message.status is OutboxStatus.SENDING
        and message.lease_until is not None
        and message.lease_until <= now
    )


class InMemorySubscriptionRepository(_Repository):
    """Implements ``SubscriptionRepository``."""

    async def add(self, payment: SubscriptionPayment) -> SubscriptionPayment:
        _not_negative(payment.amount)
        tx = self._tx()
        if await self.get_by_mp_id(payment.mp_payment_id) is not None:
            raise ConflictError(
                f"O pagamento {payment.mp_payment_id} do Mercado Pago já foi registrado."
            )
        if not _account_exists(tx, payment.account_id):
            raise AccountNotFoundError(f"Conta {payment.account_id} não encontrada.")
        stored = _stored(evolve(payment, id=tx.store.next_id("subscriptions")))
        tx.write("subscriptions").put(stored.id, stored)
        return stored

    async def get_by_mp_id(self, mp_payment_id: str) -> SubscriptionPayment | None:
        table = self._tx().read("subscriptions")
        holder = table.holder("mp_payment_id", mp_payment_id)
        return None if holder is None else table.get(holder)

    async def update(self, payment: SubscriptionPayment) -> None:
        tx = self._tx()
        current = tx.read("subscriptions").get(payment.id) if payment.id is not None else None
        if current is None or current.account_id != payment.account_id:
            raise NotFoundError(f"Pagamento {payment.id} não encontrado.")
        stored = _stored(
            evolve(payment, mp_payment_id=current.mp_payment_id, created_at=current.created_at)
        )
        tx.write("subscriptions").put(payment.id, stored)

    async def list_for_account(self, account_id: int) -> Sequence[SubscriptionPayment]:
        return sorted(
            (s for s in self._tx().read("subscriptions") if s.account_id == account_id),
            key=lambda s: (s.created_at, s.id),
            reverse=True,
        )

    async def approved_between(self, start: datetime, end: datetime) -> Tally:
        start, end = _as_utc(start), _as_utc(end)
        return _tally(
            s.amount
            for s in self._tx().read("subscriptions")
            if s.status is SubscriptionStatus.APPROVED
            and s.approved_at is not None
            and start <= s.approved_at < end
        )


def _json_copy(data: dict[str, Any]) -> dict[str, Any]:
    # What a JSON column gives back: refuses what JSON cannot hold, and never shares the dict.
    document: dict[str, Any] = json.loads(json.dumps(data))
    return document


class InMemoryAuditRepository(_Repository):
    """Implements ``AuditRepository``."""

    async def add(self, event: AuditEvent) -> None:
        tx = self._tx()
        stored = _stored(evolve(event, id=tx.store.next_id("audit"), data=_json_copy(event.data)))
        tx.write("audit").put(stored.id, stored)

    async def latest(
        self,
        account_id: int,
        *,
        entity: str,
        actions: Collection[str],
        entity_id: str | None = None,
    ) -> AuditEvent | None:
        found = [
            e
            for e in self._tx().read("audit")
            if e.account_id == account_id
            and e.entity == entity
            and e.action in actions
            and (entity_id is None or e.entity_id == entity_id)
        ]
        return max(found, key=lambda e: (e.created_at, e.id)) if found else None

    async def list(self, account_id: int, *, limit: int = 50) -> Sequence[AuditEvent]:
        events = sorted(
            (e for e in self._tx().read("audit") if e.account_id == account_id),
            key=lambda e: (e.created_at, e.id),
            reverse=True,
        )
        return [evolve(e, data=copy.deepcopy(e.data)) for e in events[:limit]]

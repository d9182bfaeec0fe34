"""Valid entities for the contract tests, with every field overridable."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from clientmgr.core.accounts import Account
from clientmgr.core.audit import AuditEvent
from clientmgr.core.clients import Client
from clientmgr.core.outbox import OutboxMessage, dedupe_key
from clientmgr.core.payments import Payment, PaymentMethod
from clientmgr.core.subscriptions import MONTHLY_PRICE, SubscriptionPayment
from clientmgr.core.templates import Template, TemplateKind
from clientmgr.ports.repositories import UnitOfWorkFactory

NOW = datetime(2026, 3, 10, 12, 30, 15, 123456, tzinfo=UTC)


def make_account(telegram_id: int = 1001, **fields: Any) -> Account:
    values: dict[str, Any] = {"name": "Loja da Ana", "now": NOW}
    values.update(fields)
    return Account.new(telegram_id, values.pop("name"), values.pop("now"), **values)


def make_client(account_id: int, phone: str = "+5511988887777", **fields: Any) -> Client:
    values: dict[str, Any] = {
        "name": "Ana Souza",
        "price": Decimal("35.90"),
        "due_date": date(2026, 3, 15),
        "created_at": NOW,
        "updated_at": NOW,
        "plan": "Plano mensal",
    }
    values.update(fields)
    return Client(account_id=account_id, phone=phone, **values)


def make_payment(account_id: int, client_id: int, **fields: Any) -> Payment:
    values: dict[str, Any] = {
        "amount": Decimal("35.90"),
        "paid_at": NOW,
        "method": PaymentMethod.PIX,
        "period_start": date(2026, 3, 15),
        "period_end": date(2026, 4, 15),
    }
    values.update(fields)
    return Payment(account_id=account_id, client_id=client_id, **values)


def make_template(
    account_id: int, kind: TemplateKind = TemplateKind.DUE_TODAY, **fields: Any
) -> Template:
    values: dict[str, Any] = {"text": "Olá {nome}, seu plano vence hoje.", "updated_at": NOW}
    values.update(fields)
    return Template(account_id=account_id, kind=kind, **values)


def make_message(
    account_id: int, client_id: int | None, offset: int = 0, **fields: Any
) -> OutboxMessage:
    kind = fields.pop("kind", TemplateKind.DUE_TODAY)
    values: dict[str, Any] = {
        "to": "+5511988887777",
        "text": "Olá Ana, seu plano vence hoje.",
        "kind": kind,
        "dedupe_key": dedupe_key(account_id, client_id or 0, kind, date(2026, 3, 15), offset),
        "created_at": NOW,
        "next_attempt_at": NOW + timedelta(minutes=5),
    }
    values.update(fields)
    return OutboxMessage(account_id=account_id, client_id=client_id, **values)


def make_subscription(
    account_id: int, mp_payment_id: str = "mp-1", **fields: Any
) -> SubscriptionPayment:
    values: dict[str, Any] = {"amount": MONTHLY_PRICE, "created_at": NOW}
    values.update(fields)
    return SubscriptionPayment(account_id=account_id, mp_payment_id=mp_payment_id, **values)


def make_event(account_id: int | None, **fields: Any) -> AuditEvent:
    values: dict[str, Any] = {"action": "client.added", "entity": "client", "created_at": NOW}
    values.update(fields)
    return AuditEvent(account_id=account_id, **values)


async def seed_accounts(uow_factory: UnitOfWorkFactory, count: int = 2) -> list[int]:
    """``count`` committed accounts; returns their ids."""
    async with uow_factory() as uow:
        ids = []
        for n in range(count):
            account = await uow.accounts.add(make_account(telegram_id=5000 + n))
            assert account.id is not None
            ids.append(account.id)
        await uow.commit()
    return ids


async def seed_client(uow_factory: UnitOfWorkFactory, account_id: int, **fields: Any) -> Client:
    """One committed client."""
    async with uow_factory() as uow:
        client = await uow.clients.add(make_client(account_id, **fields))
        await uow.commit()
    return client

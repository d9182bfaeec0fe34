"""Explicit row ↔ entity conversions: the only place that knows both the schema and the domain.

``*_values`` build the column dict written for an entity (without ``id``); ``*_from_row``
build the entity from a result row. Datetimes are checked to be timezone-aware here, so a
naive one fails with a plain ValueError before any SQL runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from clientmgr.adapters.sql.search import name_key
from clientmgr.adapters.sql.types import as_utc
from clientmgr.core.accounts import Account
from clientmgr.core.audit import AuditEvent
from clientmgr.core.clients import Client
from clientmgr.core.cycles import BillingCycle
from clientmgr.core.outbox import OutboxMessage, OutboxStatus
from clientmgr.core.payments import Payment, PaymentMethod
from clientmgr.core.reminders import ReminderPolicy
from clientmgr.core.subscriptions import SubscriptionPayment, SubscriptionStatus
from clientmgr.core.templates import Template, TemplateKind

__all__ = [
    "account_from_row",
    "account_values",
    "audit_event_from_row",
    "audit_event_values",
    "client_from_row",
    "client_values",
    "outbox_message_from_row",
    "outbox_message_values",
    "payment_from_row",
    "payment_values",
    "subscription_payment_from_row",
    "subscription_payment_values",
    "template_from_row",
    "template_values",
]

Row = Mapping[str, Any]


def _json_document(data: dict[str, Any]) -> dict[str, Any]:
    # Fails here (TypeError) on values JSON cannot hold, rather than deep inside the driver.
    document: dict[str, Any] = json.loads(json.dumps(data))
    return document


def _utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def account_values(account: Account) -> dict[str, Any]:
    policy = account.reminder_policy
    return {
        "telegram_id": account.telegram_id,
        "name": account.name,
        "created_at": as_utc(account.created_at),
        "trial_ends_at": as_utc(account.trial_ends_at),
        "paid_until": _utc_or_none(account.paid_until),
        "timezone": account.timezone,
        "business_name": account.business_name,
        "pix_key": account.pix_key,
        "pix_name": account.pix_name,
        "pix_city": account.pix_city,
        "reminder_offsets": list(policy.offsets),
        "send_window_start": policy.window_start,
        "send_window_end": policy.window_end,
    }


def account_from_row(row: Row) -> Account:
    return Account(
        id=row["id"],
        telegram_id=row["telegram_id"],
        name=row["name"],
        created_at=row["created_at"],
        trial_ends_at=row["trial_ends_at"],
        paid_until=row["paid_until"],
        timezone=row["timezone"],
        business_name=row["business_name"],
        pix_key=row["pix_key"],
        pix_name=row["pix_name"],
        pix_city=row["pix_city"],
        reminder_policy=ReminderPolicy(
            offsets=tuple(row["reminder_offsets"]),
            window_start=row["send_window_start"],
            window_end=row["send_window_end"],
        ),
    )


def client_values(client: Client) -> dict[str, Any]:
    return {
        "account_id": client.account_id,
        "name": client.name,
        "name_key": name_key(client.name),
        "phone": client.phone,
        "plan": client.plan,
        "price": client.price,
        "cycle": client.cycle.code,
        "due_date": client.due_date,
        "anchor_day": client.anchor_day,
        "notes": client.notes,
        "paused": client.paused,
        "archived": client.archived,
        "opted_out": client.opted_out,
        "wa_jid": client.wa_jid,
        "wa_lid": client.wa_lid,
        "created_at": as_utc(client.created_at),
        "updated_at": as_utc(client.updated_at),
    }


def client_from_row(row: Row) -> Client:
    return Client(
        id=row["id"],
        account_id=row["account_id"],
        name=row["name"],
        phone=row["phone"],
        plan=row["plan"],
        price=row["price"],
        cycle=BillingCycle.from_code(row["cycle"]),
        due_date=row["due_date"],
        anchor_day=row["anchor_day"],
        notes=row["notes"],
        paused=row["paused"],
        archived=row["archived"],
        opted_out=row["opted_out"],
        wa_jid=row["wa_jid"],
        wa_lid=row["wa_lid"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def payment_values(payment: Payment) -> dict[str, Any]:
    return {
        "account_id": payment.account_id,
        "client_id": payment.client_id,
        "amount": payment.amount,
        "paid_at": as_utc(payment.paid_at),
        "method": payment.method.value,
        "period_start": payment.period_start,
        "period_end": payment.period_end,
        "periods": payment.periods,
        "idempotency_key": payment.idempotency_key,
    }


def payment_from_row(row: Row) -> Payment:
    return Payment(
        id=row["id"],
        account_id=row["account_id"],
        client_id=row["client_id"],
        amount=row["amount"],
        paid_at=row["paid_at"],
        method=PaymentMethod(row["method"]),
        period_start=row["period_start"],
        period_end=row["period_end"],
        periods=row["periods"],
        idempotency_key=row["idempotency_key"],
    )


def template_values(template: Template) -> dict[str, Any]:
    return {
        "account_id": template.account_id,
        "kind": template.kind.value,
        "text": template.text,
        "updated_at": as_utc(template.updated_at),
    }


def template_from_row(row: Row) -> Template:
    return Template(
        account_id=row["account_id"],
        kind=TemplateKind(row["kind"]),
        text=row["text"],
        updated_at=row["updated_at"],
    )


def outbox_message_values(message: OutboxMessage) -> dict[str, Any]:
    return {
        "account_id": message.account_id,
        "client_id": message.client_id,
        "recipient": message.to,
        "text": message.text,
        "kind": message.kind.value,
        "dedupe_key": message.dedupe_key,
        "status": message.status.value,
        "attempts": message.attempts,
        "next_attempt_at": as_utc(message.next_attempt_at),
        "lease_until": _utc_or_none(message.lease_until),
        "last_error": message.last_error,
        "provider_message_id": message.provider_message_id,
        "created_at": as_utc(message.created_at),
        "sent_at": _utc_or_none(message.sent_at),
    }


def outbox_message_from_row(row: Row) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        account_id=row["account_id"],
        client_id=row["client_id"],
        to=row["recipient"],
        text=row["text"],
        kind=TemplateKind(row["kind"]),
        dedupe_key=row["dedupe_key"],
        status=OutboxStatus(row["status"]),
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        lease_until=row["lease_until"],
        last_error=row["last_error"],
        provider_message_id=row["provider_message_id"],
        created_at=row["created_at"],
        sent_at=row["sent_at"],
    )


def subscription_payment_values(payment: SubscriptionPayment) -> dict[str, Any]:
    return {
        "account_id": payment.account_id,
        "mp_payment_id": payment.mp_payment_id,
        "amount": payment.amount,
        "status": payment.status.value,
        "qr_code": payment.qr_code,
        "created_at": as_utc(payment.created_at),
        "approved_at": _utc_or_none(payment.approved_at),
        "applied": payment.applied,
    }


def subscription_payment_from_row(row: Row) -> SubscriptionPayment:
    return SubscriptionPayment(
        id=row["id"],
        account_id=row["account_id"],
        mp_payment_id=row["mp_payment_id"],
        amount=row["amount"],
        status=SubscriptionStatus(row["status"]),
        qr_code=row["qr_code"],
        created_at=row["created_at"],
        approved_at=row["approved_at"],
        applied=row["applied"],
    )


def audit_event_values(event: AuditEvent) -> dict[str, Any]:
    return {
        "account_id": event.account_id,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "actor": event.actor,
        "correlation_id": event.correlation_id,
        "data": _json_document(event.data),
        "created_at": as_utc(event.created_at),
    }


def audit_event_from_row(row: Row) -> AuditEvent:
    return AuditEvent(
        id=row["id"],
        account_id=row["account_id"],
        action=row["action"],
        entity=row["entity"],
        entity_id=row["entity_id"],
        actor=row["actor"],
        correlation_id=row["correlation_id"],
        data=row["data"],
        created_at=row["created_at"],
    )

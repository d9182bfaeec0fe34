"""Recording a client's payment: advance the due date by the cycles paid, exactly once per key."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from attrs import evolve, frozen

from clientmgr.core.clients import Client
from clientmgr.core.cycles import advance_due_date
from clientmgr.core.i18n import _
from clientmgr.core.payments import Payment, PaymentMethod
from clientmgr.errors import InvalidInputError
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services.accounts import audit

__all__ = ["PaymentRecorded", "RecordPayment", "list_payments", "record_payment"]


@frozen
class RecordPayment:
    """``amount`` defaults to the client's price times ``periods``; ``idempotency_key`` makes a
    double tap on "Registrar pagamento" (or a retried script) record one payment."""

    client_id: int
    periods: int = 1
    amount: Decimal | None = None
    method: PaymentMethod = PaymentMethod.PIX
    paid_at: datetime | None = None
    idempotency_key: str | None = None


@frozen
class PaymentRecorded:
    payment: Payment
    client: Client
    already_recorded: bool = False


async def record_payment(
    uow_factory: UnitOfWorkFactory, clock: Clock, account_id: int, cmd: RecordPayment
) -> PaymentRecorded:
    """Record the payment, move the due date ``periods`` cycles ahead, cancel queued reminders.

    Expired accounts may still record payments: they are the seller's own bookkeeping.
    """
    if not 1 <= cmd.periods <= 24:
        raise InvalidInputError(_("Dá para registrar de 1 a 24 períodos de uma vez."), "1")
    if cmd.amount is not None and cmd.amount < 0:
        raise InvalidInputError(_("O valor não pode ser negativo."), "35,90")
    async with uow_factory() as uow:
        client = await uow.clients.get(account_id, cmd.client_id)
        if cmd.idempotency_key:
            previous = await uow.payments.get_by_key(account_id, cmd.idempotency_key)
            if previous is not None:
                return PaymentRecorded(previous, client, already_recorded=True)
        new_due = advance_due_date(client.due_date, client.cycle, client.anchor_day, cmd.periods)
        payment = await uow.payments.add(
            Payment(
                account_id=account_id,
                client_id=client.id,  # type: ignore[arg-type]
                amount=cmd.amount if cmd.amount is not None else client.price * cmd.periods,
                paid_at=cmd.paid_at or clock.now(),
                method=cmd.method,
                period_start=client.due_date,
                period_end=new_due,
                periods=cmd.periods,
                idempotency_key=cmd.idempotency_key,
            )
        )
        client = evolve(client, due_date=new_due, updated_at=clock.now())
        await uow.clients.update(client)
        await uow.outbox.cancel_queued_for_client(account_id, cmd.client_id)
        await audit(
            uow,
            clock,
            account_id,
            "payment.recorded",
            "client",
            cmd.client_id,
            amount=payment.amount,
            periods=cmd.periods,
        )
        await uow.commit()
        return PaymentRecorded(payment, client)


async def list_payments(
    uow_factory: UnitOfWorkFactory, account_id: int, client_id: int
) -> Sequence[Payment]:
    """The client's payments, newest first (another account's client raises not found)."""
    async with uow_factory() as uow:
        await uow.clients.get(account_id, client_id)
        return await uow.payments.list_for_client(account_id, client_id)

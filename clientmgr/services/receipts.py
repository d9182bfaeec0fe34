"""Receipts: after a payment is recorded, send the client a "pagamento recebido" on WhatsApp.

Choices:

- The text is the account's ``receipt`` template (or the built-in one), rendered for the
  payment itself: ``{valor}`` is the amount paid (two months paid shows twice the price) and
  ``{vencimento}`` the due date that payment moved the client to, so a receipt sent late
  (or sent again after another payment) still tells the truth about *that* payment.
- One receipt per payment: the outbox's UNIQUE dedupe key ``receipt:<account>:<payment>``
  makes a double tap (or an old button pressed again) return the message already queued,
  even if the account expired or the client changed since: the first tap was accepted.
- Recording a payment is bookkeeping and stays open to expired accounts, but a receipt is
  a send, so it refuses them (AccountExpiredError) like any other message.
- A receipt is a message like any other for the client, so the same clients are refused as
  for reminders: opted out (they answered SAIR), archived or paused — the
  ClientUnreachableError subclasses, whose pt-BR text names the client.
"""

from __future__ import annotations

from collections.abc import Sequence

from attrs import evolve

from clientmgr.core.clients import ensure_reachable
from clientmgr.core.i18n import _
from clientmgr.core.outbox import OutboxMessage
from clientmgr.core.payments import Payment
from clientmgr.core.rendering import RenderContext, render, text_for
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import (
    ConflictError,
    NotFoundError,
)
from clientmgr.ports.clock import Clock
from clientmgr.ports.repositories import UnitOfWorkFactory
from clientmgr.services.accounts import audit, require_writable
from clientmgr.services.templates import pix_code_for

__all__ = ["ReceiptPaymentNotFoundError", "queue_receipt", "receipt_dedupe_key"]


class ReceiptPaymentNotFoundError(NotFoundError):
    """No such payment for that client in this account (an old or forged button)."""


def receipt_dedupe_key(account_id: int, payment_id: int) -> str:
    """The outbox key that makes one receipt per payment."""
    return f"receipt:{account_id}:{payment_id}"


async def queue_receipt(
    uow_factory: UnitOfWorkFactory,
    clock: Clock,
    account_id: int,
    client_id: int,
    payment_id: int,
) -> OutboxMessage:
    """Queue the receipt for ``payment_id`` of ``client_id``; a repeat returns the first one.

    Raises AccountExpiredError, ClientNotFoundError (another account's client too),
    ReceiptPaymentNotFoundError, or a ClientUnreachableError subclass.
    """
    key = receipt_dedupe_key(account_id, payment_id)
    async with uow_factory() as uow:
        existing = await uow.outbox.get_by_dedupe_key(account_id, key)
        if existing is not None:
            return existing
        account = await require_writable(uow, clock, account_id)
        client = await uow.clients.get(account_id, client_id)
        payment = _find(await uow.payments.list_for_client(account_id, client_id), payment_id)
        ensure_reachable(client)
        now = clock.now()
        today = account.local_now(now).date()
        template_text = text_for(
            TemplateKind.RECEIPT, await uow.templates.get(account_id, TemplateKind.RECEIPT)
        )
        ctx = evolve(
            RenderContext.for_client(
                client, account, today, pix_code=pix_code_for(account, client.price)
            ),
            price=payment.amount,
            due_date=payment.period_end,
        )
        added = await uow.outbox.add(
            OutboxMessage(
                account_id=account_id,
                client_id=client_id,
                to=client.phone,
                text=render(template_text, ctx),
                kind=TemplateKind.RECEIPT,
                dedupe_key=key,
                created_at=now,
                next_attempt_at=now,
            )
        )
        if added is None:  # a simultaneous tap committed first
            existing = await uow.outbox.get_by_dedupe_key(account_id, key)
            if existing is None:
                raise ConflictError(_("Este recibo já foi enviado para a fila."))
            return existing
        await audit(
            uow, clock, account_id, "receipt.queued", "payment", payment_id, client=client_id
        )
        await uow.commit()
        return added


def _find(payments: Sequence[Payment], payment_id: int) -> Payment:
    for payment in payments:
        if payment.id == payment_id:
            return payment
    raise ReceiptPaymentNotFoundError(
        _("Pagamento {payment_id} não encontrado.").format(payment_id=payment_id)
    )

"""What the seller does from a client card: record a payment (+ receipt), remind now, edit.

Payloads:

- ``cc:pay:<id>`` how many periods (1-3, each with its amount and new due date) →
  ``cc:payn:<id>:<n>`` confirm, one button per way of paying →
  ``cc:payok:<id>:<n>:<method>:<nonce>`` record. The nonce is drawn when the confirm screen
  is drawn and makes the payment's idempotency key, so the buttons of one confirm screen
  record at most one payment however often (and whichever of them) they are pressed,
  while the next payment, even for the same client and periods, gets a new screen and key.
- ``cc:rcpt:<id>:<payment id>`` queue the receipt (one per payment, ``services.receipts``).
- ``cc:remind:<id>`` the exact text that will go out, a ``wa.me`` link to send it by hand,
  and ``cc:rsend:<id>:<nonce>`` queue it (one message per preview screen).
- ``cc:edit:<id>`` pick a field → ``cc:ef:<id>:<field>`` (entry) → typed answer in state
  ``card.edit``; the client id and field live in ``user_data["draft"]`` so the question
  survives a restart. Answers are read with the same parsers as the new-client flow. A new
  phone is checked on WhatsApp right after it is saved (``number_notes.check_one``).

Rules stay in the services; this module parses, calls one use case and answers. Errors the
seller can act on (opted out, paused, archived, duplicate phone, WhatsApp not connected) get
their own message; an expired account gets the framework's "Renovar" answer.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import (
    END,
    BotRegistry,
    Keyboard,
    button,
    keyboard,
    reply,
)
from clientmgr.adapters.telegram.handlers.client_card import (
    ID,
    account_id,
    back_rows,
    clip,
    load_client,
    match,
    refuse_archived,
    show_card,
    today_for,
)
from clientmgr.adapters.telegram.number_notes import check_one
from clientmgr.core.accounts import Account
from clientmgr.core.clients import Client
from clientmgr.core.cycles import advance_due_date, parse_cycle
from clientmgr.core.dates import format_date, parse_date
from clientmgr.core.money import format_brl, parse_money
from clientmgr.core.payments import PaymentMethod
from clientmgr.core.phones import format_phone, parse_phone
from clientmgr.errors import (
    ClientArchivedError,
    ClientOptedOutError,
    ClientPausedError,
    ClientUnreachableError,
    DuplicatePhoneError,
    InvalidInputError,
    WhatsAppError,
)
from clientmgr.services import clients, guards, payments, receipts, reminders, whatsapp

__all__ = [
    "EDIT_FIELDS",
    "EDIT_STATE",
    "MAX_PLAN_LENGTH",
    "MAX_URL",
    "PERIOD_CHOICES",
    "register",
    "whatsapp_open",
]

EDIT_STATE = "card.edit"
EDIT_FIELDS = ("name", "phone", "plan", "price", "due_date", "cycle", "notes")
MAX_PLAN_LENGTH = 60  # as in the new-client flow
PERIOD_CHOICES = (1, 2, 3)
CLEAR = "-"
"""Typed for the plan or the notes: leave it empty."""
MAX_URL = 2048
"""A longer wa.me link is left out rather than risking Telegram refusing the message."""
MAX_PREVIEW = 3000
"""Characters of a message shown in the bot (the whole text still goes to WhatsApp)."""

_METHODS = {
    "p": PaymentMethod.PIX,
    "c": PaymentMethod.CASH,
    "t": PaymentMethod.TRANSFER,
}
_NONCE = r"([A-Za-z0-9_-]{4,16})"
_DRAFT_KIND = "card_edit"  # marks the shared "draft" slot as ours


def _nonce() -> str:
    """8 characters, fresh for every confirm/preview screen: the screen's idempotency key."""
    return secrets.token_urlsafe(6)


def _markup(
    context: ClientmgrContext, rows: Sequence[Sequence[tuple[str, str] | InlineKeyboardButton]]
) -> InlineKeyboardMarkup:
    """Signed buttons mixed with ready ones (a URL button needs no signature: it calls no bot)."""
    return InlineKeyboardMarkup(
        [
            [b if isinstance(b, InlineKeyboardButton) else button(context, *b) for b in row]
            for row in rows
        ]
    )


def _wa_link_row(link: str) -> list[InlineKeyboardButton]:
    if len(link) > MAX_URL:
        return []
    return [InlineKeyboardButton(t("card.open_whatsapp"), url=link)]


async def whatsapp_open(context: ClientmgrContext, account: Account) -> bool:
    """Whether the seller's WhatsApp session is open now (a sidecar that is down: not open)."""
    try:
        session = await whatsapp.status(context.services.whatsapp, account_id(account))
    except WhatsAppError:
        return False
    return session is not None and session.is_open


async def _active_client(
    update: Update, context: ClientmgrContext, account: Account
) -> Client | None:
    """The client named by the payload, or None after answering that it was archived since."""
    client = await load_client(context, account, int(match(context)))
    if client.archived:
        await refuse_archived(update, context, client)
        return None
    return client


async def _refuse_unreachable(
    update: Update, context: ClientmgrContext, client: Client, error: ClientUnreachableError
) -> None:
    """Opted out, paused or archived: why nothing was sent, in the seller's words."""
    if isinstance(error, ClientArchivedError):
        await refuse_archived(update, context, client)
        return
    if isinstance(error, ClientOptedOutError):
        text = t("card.refused_opted_out", name=client.name)
    elif isinstance(error, ClientPausedError):
        text = t("card.refused_paused", name=client.name)
    else:
        text = t("card.refused_other", reason=str(error))
    await reply(update, text, keyboard(context, back_rows(client.id)))  # type: ignore[arg-type]


# --- payment -------------------------------------------------------------------------------


def _periods_text(periods: int, client: Client) -> Raw:
    if periods == 1:
        return t("card.periods_one", cycle=client.cycle.label())
    return t("card.periods_many", periods=periods, cycle=client.cycle.label())


def _new_due(client: Client, periods: int) -> date:
    return advance_due_date(client.due_date, client.cycle, client.anchor_day, periods)


async def ask_periods(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:pay:<id> — how many periods, each button with its amount and the new due date."""
    client = await _active_client(update, context, account)
    if client is None:
        return
    rows: list[list[tuple[str, str]]] = [
        [
            (
                t(
                    "card.pay_option",
                    periods=n,
                    amount=format_brl(client.price * n),
                    due=format_date(_new_due(client, n)),
                ),
                f"cc:payn:{client.id}:{n}",
            )
        ]
        for n in PERIOD_CHOICES
    ]
    rows += back_rows(client.id)  # type: ignore[arg-type]
    text = t(
        "card.pay_ask",
        name=client.name,
        due=format_date(client.due_date),
        price=format_brl(client.price),
        cycle=client.cycle.label(),
    )
    await reply(update, text, keyboard(context, rows))


async def confirm_payment(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:payn:<id>:<n> — the amount and the new due date, and how the money came in."""
    client = await _active_client(update, context, account)
    if client is None:
        return
    periods = int(match(context, 2))
    nonce = _nonce()
    base = f"cc:payok:{client.id}:{periods}"
    rows: Keyboard = [
        [(t("card.pay_pix"), f"{base}:p:{nonce}"), (t("card.pay_cash"), f"{base}:c:{nonce}")],
        [(t("card.pay_transfer"), f"{base}:t:{nonce}")],
        [(t("common.back"), f"cc:pay:{client.id}"), (t("common.menu"), "m:home")],
    ]
    text = t(
        "card.pay_confirm",
        name=client.name,
        periods=_periods_text(periods, client),
        amount=format_brl(client.price * periods),
        due=format_date(_new_due(client, periods)),
    )
    await reply(update, text, keyboard(context, rows))


async def record(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:payok:… — record once per confirm screen; a repeat says it was already recorded."""
    client = await _active_client(update, context, account)
    if client is None:
        return
    periods, method, nonce = int(match(context, 2)), _METHODS[match(context, 3)], match(context, 4)
    services = context.services
    done = await payments.record_payment(
        services.uow_factory,
        services.clock,
        account_id(account),
        payments.RecordPayment(
            client_id=client.id,  # type: ignore[arg-type]
            periods=periods,
            method=method,
            idempotency_key=f"tg:{client.id}:{periods}:{nonce}",
        ),
    )
    payment = done.payment
    key = "card.paid_already" if done.already_recorded else "card.paid"
    text = t(
        key,
        due=format_date(done.client.due_date),
        name=done.client.name,
        amount=format_brl(payment.amount),
        method=t(f"card.method_{payment.method.value}"),
    )
    rows = [
        [(t("card.send_receipt"), f"cc:rcpt:{client.id}:{payment.id}")],
        *back_rows(client.id),  # type: ignore[arg-type]
    ]
    await reply(update, text, keyboard(context, rows))


async def send_receipt(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:rcpt:<id>:<payment id> — queue the receipt (refused for expired accounts)."""
    client = await _active_client(update, context, account)
    if client is None:
        return
    services = context.services
    try:
        message = await receipts.queue_receipt(
            services.uow_factory,
            services.clock,
            account_id(account),
            client.id,  # type: ignore[arg-type]
            int(match(context, 2)),
        )
    except ClientUnreachableError as exc:
        await _refuse_unreachable(update, context, client, exc)
        return
    connected = await whatsapp_open(context, account)
    text = t(
        "card.receipt_queued",
        name=client.name,
        text=clip(message.text, MAX_PREVIEW),
        note=Raw("") if connected else Raw("\n\n" + t("card.wa_not_connected")),
    )
    link = reminders.whatsapp_link(message.to, message.text)
    rows: list[list[Any]] = []
    if not connected:
        rows.append([(t("card.connect_whatsapp"), "wa:menu")])
    rows += [_wa_link_row(link), *back_rows(client.id)]  # type: ignore[arg-type]
    await reply(update, text, _markup(context, [r for r in rows if r]))


# --- remind now ----------------------------------------------------------------------------


async def preview_reminder(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:remind:<id> — exactly what will go out, to queue it or send it by hand."""
    client = await _active_client(update, context, account)
    if client is None:
        return
    services = context.services
    shown = await reminders.preview_reminder(
        services.uow_factory,
        services.clock,
        account_id(account),
        client.id,  # type: ignore[arg-type]
    )
    notes = []
    if shown.missing:
        names = ", ".join("{" + name + "}" for name in shown.missing)
        notes.append(t("card.remind_missing", names=names))
    connected = await whatsapp_open(context, account)
    if not connected:
        notes.append(t("card.wa_not_connected"))
    text = t(
        "card.remind_preview",
        name=client.name,
        kind=t(f"card.kind_{shown.kind.value}"),
        text=clip(shown.text, MAX_PREVIEW),
        notes=Raw("".join("\n\n" + note for note in notes)),
    )
    rows: list[list[Any]] = [[(t("card.remind_send"), f"cc:rsend:{client.id}:{_nonce()}")]]
    if not connected:
        rows.append([(t("card.connect_whatsapp"), "wa:menu")])
    rows += [_wa_link_row(shown.whatsapp_link), *back_rows(client.id)]  # type: ignore[arg-type]
    await reply(update, text, _markup(context, [r for r in rows if r]))


async def queue_reminder(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:rsend:<id>:<nonce> — queue it (the queue waits for WhatsApp if it is not connected)."""
    client = await _active_client(update, context, account)
    if client is None:
        return
    services = context.services
    try:
        message = await reminders.queue_reminder_now(
            services.uow_factory,
            services.clock,
            account_id(account),
            client.id,  # type: ignore[arg-type]
            match(context, 2),
        )
    except ClientUnreachableError as exc:
        await _refuse_unreachable(update, context, client, exc)
        return
    connected = await whatsapp_open(context, account)
    text = t(
        "card.remind_queued",
        name=client.name,
        note=Raw("") if connected else Raw("\n\n" + t("card.wa_not_connected")),
    )
    rows: list[list[Any]] = []
    if not connected:
        rows.append([(t("card.connect_whatsapp"), "wa:menu")])
    link = reminders.whatsapp_link(message.to, message.text)
    rows += [_wa_link_row(link), *back_rows(client.id)]  # type: ignore[arg-type]
    await reply(update, text, _markup(context, [r for r in rows if r]))


# --- edit ----------------------------------------------------------------------------------


def _current(client: Client, field: str) -> str:
    """The field's value as the seller reads it, for "Agora está: …"."""
    values: dict[str, Callable[[Client], str]] = {
        "name": lambda c: c.name,
        "phone": lambda c: format_phone(c.phone),
        "plan": lambda c: c.plan or t("card.no_plan"),
        "price": lambda c: format_brl(c.price),
        "due_date": lambda c: format_date(c.due_date),
        "cycle": lambda c: c.cycle.label(),
        "notes": lambda c: c.notes or t("card.no_notes"),
    }
    return clip(values[field](client), 500)


async def ask_field(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:edit:<id> — which field to change (refused at once for an expired account)."""
    client = await _active_client(update, context, account)
    if client is None:
        return
    services = context.services
    await guards.ensure_writable(services.uow_factory, services.clock, account_id(account))
    cid = client.id
    labels = [(t(f"card.field_{f}"), f"cc:ef:{cid}:{f}") for f in EDIT_FIELDS]
    rows = [labels[i : i + 2] for i in range(0, len(labels), 2)]
    rows += back_rows(cid)  # type: ignore[arg-type]
    await reply(update, t("card.edit_ask", name=client.name), keyboard(context, rows))


async def start_edit(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    """cc:ef:<id>:<field> — ask for the new value; the question survives a restart."""
    client = await _active_client(update, context, account)
    if client is None:
        return END
    field = match(context, 2)
    context.user_data["draft"] = {  # type: ignore[index]
        "kind": _DRAFT_KIND,
        "client_id": client.id,
        "field": field,
    }
    rows: Keyboard = [
        [(t("common.back"), f"cc:edit:{client.id}"), (t("common.cancel"), "x:cancel")],
    ]
    text = t(
        f"card.edit_{field}",
        name=client.name,
        current=_current(client, field),
    )
    await reply(update, text, keyboard(context, rows))
    return EDIT_STATE


def _parse(field: str, text: str, today: date) -> object:
    """The typed answer as the value ``edit_client`` takes (InvalidInputError re-asks)."""
    if field == "name":
        return text  # the service refuses an empty or too long name, with an example
    if field == "phone":
        return parse_phone(text)
    if field == "plan":
        if len(text) > MAX_PLAN_LENGTH:
            raise InvalidInputError(t("card.plan_too_long", max=MAX_PLAN_LENGTH), "IPTV Completo")
        return "" if text == CLEAR else text
    if field == "price":
        return parse_money(text)
    if field == "due_date":
        return parse_date(text, today)
    if field == "cycle":
        return parse_cycle(text)
    return "" if text == CLEAR else text


async def got_value(
    update: Update, context: ClientmgrContext, account: Account
) -> str | int | None:
    """The typed answer: saved and the card shown again, or re-asked with what was wrong."""
    draft = (context.user_data or {}).get("draft")
    if (
        not isinstance(draft, dict)
        or draft.get("kind") != _DRAFT_KIND
        or draft.get("field") not in EDIT_FIELDS
    ):
        await reply(
            update, t("card.edit_gone"), keyboard(context, [[(t("common.menu"), "m:home")]])
        )
        return END
    cid, field = int(draft["client_id"]), str(draft["field"])
    message = update.effective_message
    raw = (message.text if message is not None else None) or ""
    text = raw.strip() if field == "notes" else " ".join(raw.split())
    client = await load_client(context, account, cid)
    if client.archived:
        context.user_data.pop("draft", None)  # type: ignore[union-attr]
        await refuse_archived(update, context, client)
        return END
    value = _parse(field, text, today_for(context, account))
    services = context.services
    try:
        client = await clients.edit_client(
            services.uow_factory, services.clock, account_id(account), cid, **{field: value}
        )
    except DuplicatePhoneError as exc:
        rows: Keyboard = [[(t("common.cancel"), "x:cancel")]]
        if exc.existing_client_id is not None:
            rows = [[(t("card.open_other"), f"cc:card:{exc.existing_client_id}")], *rows]
        await reply(
            update,
            t("card.phone_taken", phone=format_phone(exc.phone)),
            keyboard(context, rows),
            edit=False,
        )
        return None  # stay: the seller types another number
    context.user_data.pop("draft", None)  # type: ignore[union-attr]
    prefix = t("card.saved")
    if field == "phone":  # a new number: is it on WhatsApp? (never undoes the save)
        note = await check_one(context, account_id(account), cid)
        prefix = Raw(f"{prefix}\n\n{note}") if note else prefix
    await show_card(update, context, account, client, prefix=prefix, edit=False)
    return END


def register(registry: BotRegistry) -> None:
    registry.button(rf"cc:pay:{ID}", ask_periods)
    registry.button(rf"cc:payn:{ID}:([1-3])", confirm_payment)
    registry.button(rf"cc:payok:{ID}:([1-3]):([pct]):{_NONCE}", record)
    registry.button(rf"cc:rcpt:{ID}:{ID}", send_receipt)
    registry.button(rf"cc:remind:{ID}", preview_reminder)
    registry.button(rf"cc:rsend:{ID}:{_NONCE}", queue_reminder)
    registry.button(rf"cc:edit:{ID}", ask_field)
    registry.entry(rf"cc:ef:{ID}:({'|'.join(EDIT_FIELDS)})", start_edit)
    registry.state(EDIT_STATE, got_value)

"""The client card: one client's details and every action on them, one tap away.

Payloads (this module): ``cc:card:<id>`` (open), ``cc:pause:<id>`` / ``cc:resume:<id>``
(updated in place), ``cc:hist:<id>`` (last payments and messages), ``cc:arch:<id>`` (asks
"Tem certeza?") and ``cc:archok:<id>`` (archives). Payment, reminder and edit live in
``client_actions``; both share the helpers below so every screen shows a client the same way.

Every id in a payload is looked up scoped by the seller's account: a button naming another
account's client raises ClientNotFoundError, which the framework logs and answers with the
menu. A button that outlived its client's archiving answers "Esse cliente foi arquivado"
instead of acting on a client the seller put away.
"""

from __future__ import annotations

from datetime import date, datetime

from attrs import evolve
from telegram import Update

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import END, BotRegistry, Keyboard, keyboard, reply
from clientmgr.adapters.telegram.views import status_emoji
from clientmgr.core.accounts import Account
from clientmgr.core.clients import Client
from clientmgr.core.dates import format_date
from clientmgr.core.money import format_brl
from clientmgr.core.phones import format_phone
from clientmgr.services import clients, reminders
from clientmgr.services.reminders import HistoryEntry, HistoryKind

__all__ = [
    "HISTORY_LIMIT",
    "ID",
    "account_id",
    "back_rows",
    "card_rows",
    "card_text",
    "clip",
    "load_client",
    "local_time",
    "match",
    "refuse_archived",
    "register",
    "show_card",
    "today_for",
]

ID = r"(\d{1,18})"
"""A client (or payment) id in a payload: bounded so a database never sees an overflow."""
HISTORY_LIMIT = 15
_FAILURE_SHOWN = 120


# --- shared helpers ------------------------------------------------------------------------


def account_id(account: Account) -> int:
    if account.id is None:  # stored accounts always have one; keep the type checker honest
        raise RuntimeError("account without id")
    return account.id


def today_for(context: ClientmgrContext, account: Account) -> date:
    """The seller's today, in their own timezone."""
    return account.local_now(context.services.clock.now()).date()


def local_time(account: Account, moment: datetime) -> str:
    """dd/mm/aaaa HH:MM in the seller's timezone (what their phone's clock said)."""
    return moment.astimezone(account.zone).strftime("%d/%m/%Y %H:%M")


def match(context: ClientmgrContext, group: int = 1) -> str:
    """A group of the pressed payload's regex."""
    found = context.matches[0] if context.matches else None
    if found is None:
        raise RuntimeError("handler registered without a payload regex")
    return found.group(group)


def clip(text: str, limit: int) -> str:
    """A long text cut with "…", so a message stays inside Telegram's 4,096 characters."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def load_client(context: ClientmgrContext, account: Account, client_id: int) -> Client:
    """The seller's client; ClientNotFoundError (→ the framework's menu) for anyone else's."""
    return await clients.get_client(context.services.uow_factory, account_id(account), client_id)


def back_rows(client_id: int) -> list[list[tuple[str, str]]]:
    """ "⬅️ Voltar ao cliente" and "🏠 Menu": the way out of every action screen."""
    return [[(t("card.back_to_card"), f"cc:card:{client_id}"), (t("common.menu"), "m:home")]]


async def refuse_archived(update: Update, context: ClientmgrContext, client: Client) -> None:
    """An old button for a client archived since: say so, offer the history and the list."""
    rows: Keyboard = [
        [(t("card.history"), f"cc:hist:{client.id}")],
        [(t("card.to_list"), "cl:list:all:0"), (t("common.menu"), "m:home")],
    ]
    await reply(update, t("card.archived_refused", name=client.name), keyboard(context, rows))


# --- the card ------------------------------------------------------------------------------


def _due_status(client: Client, today: date) -> Raw:
    days = (client.due_date - today).days
    if days > 1:
        return t("card.due_in_many", days=days)
    if days == 1:
        return t("card.due_tomorrow")
    if days == 0:
        return t("card.due_today")
    if days == -1:
        return t("card.overdue_one")
    return t("card.overdue_many", days=-days)


def card_text(client: Client, today: date) -> Raw:
    """The card as safe HTML: every value the seller typed is escaped by ``t``."""
    marks = []
    if client.archived:
        marks.append(t("card.mark_archived"))
    if client.paused:
        marks.append(t("card.mark_paused"))
    if client.opted_out:
        marks.append(t("card.mark_opted_out"))
    if client.notes.strip():
        marks.append(t("card.notes", notes=client.notes.strip()))
    colour = status_emoji(evolve(client, paused=False), today)  # the pause has its own line
    return t(
        "card.body",
        name=client.name,
        phone=format_phone(client.phone),
        plan=client.plan or t("card.no_plan"),
        price=format_brl(client.price),
        cycle=client.cycle.label(),
        due=format_date(client.due_date),
        emoji=colour,
        status=_due_status(client, today),
        marks=Raw("".join("\n" + mark for mark in marks)),
    )


def card_rows(client: Client) -> Keyboard:
    """The card's buttons; an archived client keeps only its history and the way back."""
    cid = client.id
    back = [(t("card.to_list"), "cl:list:all:0"), (t("common.menu"), "m:home")]
    if client.archived:
        return [[(t("card.history"), f"cc:hist:{cid}")], back]
    pause = (
        (t("card.resume"), f"cc:resume:{cid}")
        if client.paused
        else (t("card.pause"), f"cc:pause:{cid}")
    )
    return [
        [(t("card.pay"), f"cc:pay:{cid}")],
        [(t("card.remind"), f"cc:remind:{cid}")],
        [(t("card.edit"), f"cc:edit:{cid}"), pause],
        [(t("card.history"), f"cc:hist:{cid}"), (t("card.archive"), f"cc:arch:{cid}")],
        back,
    ]


async def show_card(
    update: Update,
    context: ClientmgrContext,
    account: Account,
    client: Client,
    *,
    prefix: str = "",
    edit: bool = True,
) -> None:
    text = card_text(client, today_for(context, account))
    await reply(
        update,
        Raw(prefix + "\n\n" + text) if prefix else text,
        keyboard(context, card_rows(client)),
        edit=edit,
    )


async def open_card(update: Update, context: ClientmgrContext, account: Account) -> int:
    """cc:card:<id> — also the way back from every action screen (leaves any typed flow)."""
    client = await load_client(context, account, int(match(context)))
    await show_card(update, context, account, client)
    return END


# --- pause / resume ------------------------------------------------------------------------


async def _set_paused(
    update: Update, context: ClientmgrContext, account: Account, paused: bool
) -> None:
    client = await load_client(context, account, int(match(context)))
    if client.archived:
        await refuse_archived(update, context, client)
        return
    services = context.services
    client = await clients.set_paused(
        services.uow_factory,
        services.clock,
        account_id(account),
        client.id,  # type: ignore[arg-type]
        paused,
    )
    await show_card(update, context, account, client)


async def pause(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:pause:<id> — no reminders until resumed; queued ones are cancelled by the service."""
    await _set_paused(update, context, account, True)


async def resume(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:resume:<id>."""
    await _set_paused(update, context, account, False)


# --- history -------------------------------------------------------------------------------


def _history_line(account: Account, entry: HistoryEntry) -> Raw:
    when = local_time(account, entry.at)
    if entry.kind is HistoryKind.PAYMENT and entry.payment is not None:
        payment = entry.payment
        periods = (
            t("card.hist_periods", periods=payment.periods) if payment.periods > 1 else Raw("")
        )
        return t(
            "card.hist_payment",
            when=when,
            amount=format_brl(payment.amount),
            method=t(f"card.method_{payment.method.value}"),
            periods=periods,
        )
    message = entry.message
    kind = t(f"card.kind_{message.kind.value}") if message is not None else ""
    status = t(f"card.msg_{entry.status}")
    if message is not None and message.last_error and entry.status in ("failed", "cancelled"):
        reason = clip(message.last_error, _FAILURE_SHOWN)
        status = t(f"card.msg_{entry.status}_reason", reason=reason)
    return t("card.hist_message", when=when, kind=kind, status=status)


async def history(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:hist:<id> — payments and messages, newest first (archived clients too)."""
    cid = int(match(context))
    client = await load_client(context, account, cid)
    entries = await reminders.client_history(
        context.services.uow_factory, account_id(account), cid, limit=HISTORY_LIMIT
    )
    if entries:
        lines = "\n".join(_history_line(account, e) for e in entries)
        text = t("card.hist_title", name=client.name, count=len(entries), lines=Raw(lines))
    else:
        text = t("card.hist_empty", name=client.name)
    await reply(update, text, keyboard(context, back_rows(cid)))


# --- archive -------------------------------------------------------------------------------


async def ask_archive(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:arch:<id> — archiving hides the client, so it is asked once more."""
    client = await load_client(context, account, int(match(context)))
    if client.archived:
        await refuse_archived(update, context, client)
        return
    rows: Keyboard = [
        [(t("card.archive_yes"), f"cc:archok:{client.id}")],
        [(t("card.archive_no"), f"cc:card:{client.id}")],
    ]
    await reply(update, t("card.archive_confirm", name=client.name), keyboard(context, rows))


async def archive(update: Update, context: ClientmgrContext, account: Account) -> None:
    """cc:archok:<id> — archive (safe to repeat), then point back to the list."""
    client = await load_client(context, account, int(match(context)))
    if not client.archived:
        services = context.services
        client = await clients.archive_client(
            services.uow_factory,
            services.clock,
            account_id(account),
            client.id,  # type: ignore[arg-type]
        )
    rows: Keyboard = [[(t("card.to_list"), "cl:list:all:0"), (t("common.menu"), "m:home")]]
    await reply(update, t("card.archived_done", name=client.name), keyboard(context, rows))


def register(registry: BotRegistry) -> None:
    registry.button(rf"cc:card:{ID}", open_card)
    registry.button(rf"cc:pause:{ID}", pause)
    registry.button(rf"cc:resume:{ID}", resume)
    registry.button(rf"cc:hist:{ID}", history)
    registry.button(rf"cc:arch:{ID}", ask_archive)
    registry.button(rf"cc:archok:{ID}", archive)

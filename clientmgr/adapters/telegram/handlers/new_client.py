"""Novo cliente: name → phone → plan → price → due date → cycle → confirm, one at a time.

The draft lives in ``context.user_data["draft"]`` as plain JSON (price and date as strings),
so it survives a restart and nothing typed is lost on a wrong answer. The draft, not the
conversation state, decides what comes next: after any answer the bot asks the first field
still missing, or shows the confirm screen. That one rule serves the first pass, "✏️
Corrigir" (which re-asks one filled field) and a duplicate phone found at save time (which
clears just the phone).

Once saved, the number is checked on WhatsApp (``number_notes.check_one``) and the "saved"
answer says so when it has none: the reminders would never arrive.

The flow's buttons (cycle, skip plan, save, fix) are entry points rather than step buttons,
so a button pressed on an older message of the same draft still does the right thing, and
one pressed after the draft is gone says so instead of doing nothing.

Entry: ``nc:new`` and ``/novo`` (refused for an expired account). States ``nc.<field>`` and
``nc.confirm``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from telegram import Update

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import END, BotRegistry, keyboard, reply
from clientmgr.adapters.telegram.number_notes import check_one
from clientmgr.adapters.telegram.views import client_details, client_summary
from clientmgr.core.accounts import Account
from clientmgr.core.clients import Client
from clientmgr.core.cycles import BillingCycle, parse_cycle
from clientmgr.core.dates import format_date, parse_date
from clientmgr.core.money import format_brl, parse_money
from clientmgr.core.phones import format_phone, parse_phone
from clientmgr.errors import DuplicatePhoneError, InvalidInputError
from clientmgr.services import clients, guards
from clientmgr.services.clients import MAX_NAME_LENGTH, AddClient

__all__ = ["CONFIRM", "CYCLES", "FIELDS", "MAX_PLAN_LENGTH", "register"]

FIELDS = ("name", "phone", "plan", "price", "due", "cycle")
CONFIRM = "nc.confirm"
MAX_PLAN_LENGTH = 60
CYCLES = (
    ("newclient.cycle_month", "month"),
    ("newclient.cycle_quarter", "month:3"),
    ("newclient.cycle_semester", "month:6"),
    ("newclient.cycle_year", "year"),
    ("newclient.cycle_week", "week"),
)
_KIND = "new_client"  # marks the draft as ours: other flows may keep a "draft" too


def _state(field: str) -> str:
    return f"nc.{field}"


def _today(context: ClientmgrContext, account: Account) -> date:
    return account.local_now(context.services.clock.now()).date()


def _draft(context: ClientmgrContext) -> dict[str, Any] | None:
    draft = (context.user_data or {}).get("draft")
    return draft if isinstance(draft, dict) and draft.get("kind") == _KIND else None


def _text(update: Update) -> str:
    return " ".join((update.effective_message.text or "").split())  # type: ignore[union-attr]


def _missing(draft: dict[str, Any]) -> str | None:
    return next((f for f in FIELDS if f not in draft), None)


def _shown(draft: dict[str, Any], field: str) -> str:
    """A filled field as the seller reads it (for "Agora está: ...")."""
    value = draft[field]
    if field == "phone":
        return format_phone(value)
    if field == "plan":
        return value or t("clients.no_plan")
    if field == "price":
        return format_brl(Decimal(value))
    if field == "due":
        return format_date(date.fromisoformat(value))
    if field == "cycle":
        return BillingCycle.from_code(value).label()
    return str(value)


async def _ask(update: Update, context: ClientmgrContext, draft: dict[str, Any], field: str) -> str:
    """Ask for ``field`` (showing its current value when correcting it)."""
    text = t(f"newclient.ask_{field}", name=draft.get("name", ""))
    if field in draft:
        text = Raw(text + "\n\n" + t("newclient.current", value=_shown(draft, field)))
    cancel = [(t("common.cancel"), "x:cancel")]
    rows: list[list[tuple[str, str]]] = []
    if field == "plan":
        rows.append([(t("newclient.no_plan"), "nc:noplan")])
    if field == "cycle":
        buttons = [(t(key), f"nc:cyc:{code}") for key, code in CYCLES]
        rows += [buttons[:3], buttons[3:]]
    await reply(update, text, keyboard(context, [*rows, cancel]))
    return _state(field)


async def _confirm(
    update: Update, context: ClientmgrContext, draft: dict[str, Any], prefix: str = ""
) -> str:
    details = client_details(
        name=draft["name"],
        phone=draft["phone"],
        plan=draft["plan"],
        price=Decimal(draft["price"]),
        due_date=date.fromisoformat(draft["due"]),
        cycle=BillingCycle.from_code(draft["cycle"]),
    )
    rows = [
        [(t("newclient.save"), "nc:save"), (t("newclient.fix"), "nc:fix")],
        [(t("common.cancel"), "x:cancel")],
    ]
    text = Raw(prefix + t("newclient.confirm", details=details))
    await reply(update, text, keyboard(context, rows))
    return CONFIRM


async def _next(update: Update, context: ClientmgrContext, draft: dict[str, Any]) -> str:
    """Store the draft and ask the first missing field, or show the confirm screen."""
    context.user_data["draft"] = draft  # type: ignore[index]
    field = _missing(draft)
    return (
        await _ask(update, context, draft, field)
        if field
        else await _confirm(update, context, draft)
    )


async def _gone(update: Update, context: ClientmgrContext) -> int:
    """A flow button pressed after its draft was saved or cancelled."""
    rows = [[(t("clients.new"), "nc:new"), (t("common.menu"), "m:home")]]
    await reply(update, t("newclient.closed"), keyboard(context, rows), edit=False)
    return END


async def start(update: Update, context: ClientmgrContext, account: Account) -> str:
    """nc:new and /novo: a fresh draft (expired accounts are refused before any question)."""
    services = context.services
    await guards.ensure_writable(services.uow_factory, services.clock, account.id)  # type: ignore[arg-type]
    draft: dict[str, Any] = {"kind": _KIND}
    context.user_data["draft"] = draft  # type: ignore[index]
    return await _ask(update, context, draft, "name")


async def got_name(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    name = _text(update)
    if not name:
        raise InvalidInputError(t("newclient.name_empty"), "Maria Silva")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInputError(t("newclient.name_too_long", max=MAX_NAME_LENGTH), "Maria Silva")
    return await _next(update, context, {**draft, "name": name})


async def _say_duplicate(
    update: Update, context: ClientmgrContext, phone: str, owner: Client | None
) -> None:
    """The phone is another client's: say whose, offer to open it, wait for another number."""
    name = owner.name if owner is not None else "?"
    rows = [[(t("newclient.open_existing"), f"cc:card:{owner.id}")]] if owner is not None else []
    text = t("newclient.duplicate", phone=format_phone(phone), name=name)
    await reply(update, text, keyboard(context, [*rows, [(t("common.cancel"), "x:cancel")]]))


async def got_phone(
    update: Update, context: ClientmgrContext, account: Account
) -> str | int | None:
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    phone = parse_phone(_text(update))
    owner = await guards.phone_owner(context.services.uow_factory, account.id, phone)  # type: ignore[arg-type]
    if owner is not None:
        await _say_duplicate(update, context, phone, owner)
        return None  # still waiting for a phone
    return await _next(update, context, {**draft, "phone": phone})


async def got_plan(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    plan = _text(update)
    if plan in ("-", "—", "–"):
        plan = ""
    if len(plan) > MAX_PLAN_LENGTH:
        raise InvalidInputError(t("newclient.plan_too_long", max=MAX_PLAN_LENGTH), "IPTV Completo")
    return await _next(update, context, {**draft, "plan": plan})


async def no_plan(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    """nc:noplan — the "Sem plano" button on the plan question."""
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    return await _next(update, context, {**draft, "plan": ""})


async def got_price(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    price = parse_money(_text(update))
    return await _next(update, context, {**draft, "price": str(price)})


async def got_due(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    due = parse_date(_text(update), _today(context, account))
    return await _next(update, context, {**draft, "due": due.isoformat()})


async def got_cycle(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    text = _text(update)
    if not text:
        raise InvalidInputError(t("newclient.cycle_empty"), "mensal")
    return await _next(update, context, {**draft, "cycle": parse_cycle(text).code})


async def cycle_button(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    """nc:cyc:<code> — one of the cycle buttons."""
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    cycle = BillingCycle.from_code(context.matches[0].group(1))  # type: ignore[index]
    return await _next(update, context, {**draft, "cycle": cycle.code})


async def typed_on_confirm(
    update: Update, context: ClientmgrContext, account: Account
) -> str | int:
    """Text typed on the confirm screen: point at the buttons and show it again."""
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    if _missing(draft):
        return await _next(update, context, draft)
    return await _confirm(update, context, draft, prefix=t("newclient.use_buttons") + "\n\n")


async def fix(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    """nc:fix — which field to correct (everything else stays as typed)."""
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    if _missing(draft):
        return await _next(update, context, draft)
    labels = [(t(f"newclient.field_{f}"), f"nc:fix:{f}") for f in FIELDS]
    rows = [labels[:3], labels[3:], [(t("common.back"), "nc:review")]]
    await reply(update, t("newclient.fix_ask"), keyboard(context, rows))
    return CONFIRM


async def fix_field(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    """nc:fix:<field> — ask that one field again."""
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    field = context.matches[0].group(1)  # type: ignore[index]
    if _missing(draft):
        return await _next(update, context, draft)
    return await _ask(update, context, draft, field)


async def review(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    """nc:review — back from the field picker to the confirm screen."""
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    return await _next(update, context, draft)


async def save(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    """nc:save — store the client; a phone taken meanwhile sends the seller back to the phone."""
    draft = _draft(context)
    if draft is None:
        return await _gone(update, context)
    if _missing(draft):
        return await _next(update, context, draft)
    services = context.services
    command = AddClient(
        name=draft["name"],
        phone=draft["phone"],
        plan=draft["plan"],
        price=Decimal(draft["price"]),
        due_date=date.fromisoformat(draft["due"]),
        cycle=BillingCycle.from_code(draft["cycle"]),
    )
    try:
        client = await clients.add_client(
            services.uow_factory,
            services.clock,
            account.id,  # type: ignore[arg-type]
            command,
        )
    except DuplicatePhoneError as exc:
        context.user_data["draft"] = {k: v for k, v in draft.items() if k != "phone"}  # type: ignore[index]
        owner = await guards.phone_owner(services.uow_factory, account.id, exc.phone)  # type: ignore[arg-type]
        await _say_duplicate(update, context, exc.phone, owner)
        return _state("phone")
    context.user_data.pop("draft", None)  # type: ignore[union-attr]
    # Saved first: the WhatsApp check only adds a note, it can never undo the save.
    note = await check_one(context, account.id, client.id)  # type: ignore[arg-type]
    rows = [
        [(t("newclient.open"), f"cc:card:{client.id}")],
        [(t("newclient.another"), "nc:new"), (t("common.menu"), "m:home")],
    ]
    text = t("newclient.saved", details=client_summary(client))
    await reply(update, Raw(f"{text}\n\n{note}") if note else text, keyboard(context, rows))
    return END


def register(registry: BotRegistry) -> None:
    registry.entry("nc:new", start)
    registry.command_entry("novo", start)
    registry.state(_state("name"), got_name)
    registry.state(_state("phone"), got_phone)
    registry.state(_state("plan"), got_plan)
    registry.state(_state("price"), got_price)
    registry.state(_state("due"), got_due)
    registry.state(_state("cycle"), got_cycle)
    registry.state(CONFIRM, typed_on_confirm)
    registry.entry("nc:noplan", no_plan)
    registry.entry(r"nc:cyc:((?:month|week|year)(?::\d{1,2})?)", cycle_button)
    registry.entry("nc:fix", fix)
    registry.entry(r"nc:fix:(name|phone|plan|price|due|cycle)", fix_field)
    registry.entry("nc:review", review)
    registry.entry("nc:save", save)

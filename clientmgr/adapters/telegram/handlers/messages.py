"""💬 Mensagens: the texts clients get on WhatsApp, and the reminder schedule ("régua").

Screens and flows:

- ``msg:menu`` lists the five kinds, each marked "(padrão)" or "(personalizado)".
- ``msg:view:<kind>`` shows the text (escaped, tap to copy) and a live preview for the
  sample client, with Editar / Restaurar padrão.
- ``msg:edit:<kind>`` → state ``msg.edit``: the seller types the new text. A broken text is
  refused with the validator's reason (which names the variable and lists the valid ones)
  and nothing is saved; a good one becomes a *draft* shown as a preview with Salvar /
  Editar de novo / Cancelar. The draft lives in ``user_data["draft"]`` (persisted JSON), so
  a redeploy between typing and tapping Salvar loses nothing. Typing again while the
  preview is up simply replaces the draft.
- ``msg:policy`` shows the régua in words; ``msg:offsets`` → ``msg.offsets`` and
  ``msg:window`` → ``msg.window`` change it through ``services.templates.update_policy``.

Template texts are full of ``{nome}`` braces, so they never go into a catalog string: they
are passed as values (escaped by ``t()``), which also keeps a ``<b>`` a seller typed visible
as text instead of turning into Telegram formatting.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import time
from typing import Any

from telegram import Update

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.adapters.telegram.framework import END, BotRegistry, keyboard, reply
from clientmgr.core.accounts import Account
from clientmgr.core.reminders import ReminderPolicy
from clientmgr.core.rendering import DEFAULT_TEMPLATES, VARIABLES
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import InvalidInputError, InvalidTemplateError
from clientmgr.services import templates

__all__ = [
    "EDIT_STATE",
    "OFFSETS_STATE",
    "WINDOW_STATE",
    "describe_offset",
    "parse_offsets",
    "parse_window",
    "register",
]

EDIT_STATE = "msg.edit"
OFFSETS_STATE = "msg.offsets"
WINDOW_STATE = "msg.window"
DRAFT = "draft"
"""The shared user_data slot for what is being typed; /cancelar drops it."""
MAX_SHOWN = 1500
"""UTF-16 units of a text or preview shown on one screen; two of them fit in 4,096."""

_KINDS = "|".join(k.value for k in TemplateKind)
_REMINDER_KINDS = (TemplateKind.BEFORE_DUE, TemplateKind.DUE_TODAY, TemplateKind.OVERDUE)
_NAME_KEYS = {
    TemplateKind.BEFORE_DUE: "messages.kind_before_due",
    TemplateKind.DUE_TODAY: "messages.kind_due_today",
    TemplateKind.OVERDUE: "messages.kind_overdue",
    TemplateKind.RECEIPT: "messages.kind_receipt",
    TemplateKind.CUSTOM: "messages.kind_custom",
}
_BUTTON_KEYS = {
    TemplateKind.BEFORE_DUE: "messages.button_before_due",
    TemplateKind.DUE_TODAY: "messages.button_due_today",
    TemplateKind.OVERDUE: "messages.button_overdue",
    TemplateKind.RECEIPT: "messages.button_receipt",
    TemplateKind.CUSTOM: "messages.button_custom",
}
_ABOUT_KEYS = {
    TemplateKind.BEFORE_DUE: "messages.about_before_due",
    TemplateKind.DUE_TODAY: "messages.about_due_today",
    TemplateKind.OVERDUE: "messages.about_overdue",
    TemplateKind.RECEIPT: "messages.about_receipt",
    TemplateKind.CUSTOM: "messages.about_custom",
}


def _account_id(account: Account) -> int:
    if account.id is None:  # an Account from storage always has one
        raise ValueError("account without id")
    return account.id


def _name(kind: TemplateKind) -> Raw:
    return t(_NAME_KEYS[kind])


def _mark(is_default: bool) -> Raw:
    return t("messages.mark_default") if is_default else t("messages.mark_custom")


def _clip(text: str) -> str:
    """A long text is shown by its beginning: the screen must stay under Telegram's limit.

    Telegram counts UTF-16 code units, so an emoji counts twice.
    """
    if len(text.encode("utf-16-le")) // 2 <= MAX_SHOWN:
        return text
    kept: list[str] = []
    units = 0
    for char in text:
        units += 2 if ord(char) > 0xFFFF else 1
        if units > MAX_SHOWN - 1:
            break
        kept.append(char)
    return "".join(kept) + "…"


def _typed(update: Update) -> str:
    message = update.effective_message
    return (message.text or "") if message is not None else ""


def _user_data(context: ClientmgrContext) -> dict[str, Any]:
    data = context.user_data
    if data is None:  # private chats always have a user; keep the type checker honest
        raise RuntimeError("no user_data")
    return data


# --- the régua in words ---------------------------------------------------------------------


def describe_offset(offset: int) -> Raw:
    """-3 → "3 dias antes", 0 → "no dia", 1 → "1 dia depois"."""
    if offset == 0:
        return t("messages.offset_due")
    days = abs(offset)
    if offset < 0:
        return (
            t("messages.offset_before_one")
            if days == 1
            else t("messages.offset_before_many", days=days)
        )
    return (
        t("messages.offset_after_one") if days == 1 else t("messages.offset_after_many", days=days)
    )


def _window(policy: ReminderPolicy) -> Raw:
    return t(
        "messages.window",
        start=policy.window_start.strftime("%H:%M"),
        end=policy.window_end.strftime("%H:%M"),
    )


def _plain_offsets(policy: ReminderPolicy) -> str:
    return ", ".join(str(o) for o in policy.offsets) or "-"


def _offsets_in_words(policy: ReminderPolicy) -> str:
    return ", ".join(describe_offset(o) for o in policy.offsets)


# --- parsing what the seller types ----------------------------------------------------------

_OFF_WORDS = {"nenhum", "nenhuma", "nada", "desligar", "desligado", "desliga"}
_DUE_DAY = {
    "no dia",
    "dia",
    "hoje",
    "vencimento",
    "no vencimento",
    "dia do vencimento",
    "no dia do vencimento",
}
_EVE = {"vespera", "na vespera"}
_SEPARATORS = re.compile(r"\s*(?:[,;\n]|\be\b)\s*", re.IGNORECASE)
_NUMBER = re.compile(r"^([+-]?\d{1,3})(?:\s*dias?)?$")
_NUMBERS = re.compile(r"^[+-]?\d{1,3}(?:\s+[+-]?\d{1,3})+$")
_PHRASE = re.compile(
    r"^(\d{1,3})\s*(?:dias?)?\s*(antes|depois|apos|de atraso|atrasado)(?:\s+do\s+vencimento)?$"
)


def _normalise(text: str) -> str:
    """Lower case without accents, so "após", "Apos" and "APÓS" read alike."""
    decomposed = unicodedata.normalize("NFKD", text.replace("−", "-").replace("–", "-"))
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(plain.lower().split())


def parse_offsets(text: str) -> tuple[int, ...]:
    """Days around the due date from "-3, 0, 1, 3" or "3 antes, no dia, 2 depois".

    Plain numbers follow the policy's sign (negative = before); words say it outright.
    Raises InvalidInputError that quotes the piece it could not read. Range and duplicates
    are the policy's business (``ReminderPolicy``).
    """
    example = t("messages.offsets_example")
    cleaned = _normalise(text).strip(" .")
    if not cleaned:
        raise InvalidInputError(t("messages.offsets_empty"), example)
    if cleaned in _OFF_WORDS:
        return ()
    offsets: list[int] = []
    # Split what was typed (not the accent-free copy) so an error quotes the seller's words.
    for typed in _SEPARATORS.split(text.strip()):
        piece = _normalise(typed).strip(" .")
        if not piece:
            continue
        if piece in _DUE_DAY:
            offsets.append(0)
        elif piece in _EVE:
            offsets.append(-1)
        elif match := _NUMBER.match(piece):
            offsets.append(int(match.group(1)))
        elif _NUMBERS.match(piece):
            offsets.extend(int(n) for n in piece.split())
        elif match := _PHRASE.match(piece):
            days = int(match.group(1))
            offsets.append(-days if match.group(2) == "antes" else days)
        else:
            raise InvalidInputError(t("messages.offsets_bad", piece=typed.strip(" .")), example)
    if not offsets:
        raise InvalidInputError(t("messages.offsets_empty"), example)
    return tuple(offsets)


_TIME = r"(\d{1,2})(?:\s*[:h.]\s*(\d{2}))?\s*(?:hs|horas?|h)?"
_RANGE = re.compile(rf"^(?:das?\s+|de\s+)?{_TIME}\s*(?:-|a|as|ate)\s*{_TIME}$")


def _clock(hour: str, minute: str | None, *, end: bool) -> time:
    h, m = int(hour), int(minute or 0)
    if end and (h, m) == (24, 0):
        return time(23, 59)  # "até 24h": the last minute of the day
    if h > 23 or m > 59:
        raise InvalidInputError(
            t("messages.window_bad_time", value=f"{h:02d}:{m:02d}"), t("messages.window_example")
        )
    return time(h, m)


def parse_window(text: str) -> tuple[time, time]:
    """The send window from "08:00-20:00", "8 às 20", "das 8h às 20h30"."""
    match = _RANGE.match(_normalise(text).strip(" ."))
    if match is None:
        raise InvalidInputError(
            t("messages.window_bad", text=text.strip()[:40]), t("messages.window_example")
        )
    start = _clock(match.group(1), match.group(2), end=False)
    finish = _clock(match.group(3), match.group(4), end=True)
    return start, finish


# --- template screens -----------------------------------------------------------------------


async def show_messages(update: Update, context: ClientmgrContext, account: Account) -> int:
    """The list of kinds with their state, and the régua in one line."""
    uow_factory = context.services.uow_factory
    lines = []
    for kind in TemplateKind:
        _, is_default = await templates.get_template_text(uow_factory, _account_id(account), kind)
        lines.append(t("messages.menu_line", name=_name(kind), mark=_mark(is_default)))
    policy = account.reminder_policy
    text = t(
        "messages.menu",
        kinds=Raw("\n".join(lines)),
        offsets=Raw(_offsets_in_words(policy)) if policy.offsets else t("messages.policy_off"),
        window=_window(policy),
    )
    rows = [[(t(_BUTTON_KEYS[kind]), f"msg:view:{kind.value}")] for kind in TemplateKind]
    rows.append([(t("messages.policy_button"), "msg:policy")])
    rows.append([(t("common.menu"), "m:home")])
    await reply(update, text, keyboard(context, rows))
    return END


def _usage(kind: TemplateKind, policy: ReminderPolicy) -> Raw:
    """Where the régua uses this kind, so "why did nobody get it?" answers itself."""
    if kind not in _REMINDER_KINDS:
        return Raw("")
    when = [describe_offset(o) for o, k in policy.schedule() if k is kind]
    if not when:
        return t("messages.usage_none")
    return t("messages.usage", when=Raw(", ".join(when)))


async def _preview(
    context: ClientmgrContext, account: Account, text: str, kind: TemplateKind
) -> str:
    services = context.services
    return await templates.preview_template(
        services.uow_factory, services.clock, _account_id(account), text, kind
    )


async def _show_kind(
    update: Update,
    context: ClientmgrContext,
    account: Account,
    kind: TemplateKind,
    prefix: str = "",
) -> int:
    text, is_default = await templates.get_template_text(
        context.services.uow_factory, _account_id(account), kind
    )
    try:
        shown_preview: Raw = t(
            "messages.preview_block", preview=_clip(await _preview(context, account, text, kind))
        )
    except InvalidTemplateError as exc:  # saved before today's rules: say so, don't crash
        shown_preview = t("messages.preview_broken", reason=exc.reason)
    body = t(
        "messages.view",
        name=_name(kind),
        mark=_mark(is_default),
        about=t(_ABOUT_KEYS[kind]),
        usage=_usage(kind, account.reminder_policy),
        text=_clip(text),
        preview=shown_preview,
    )
    rows = [[(t("messages.edit_button"), f"msg:edit:{kind.value}")]]
    if not is_default:
        rows.append([(t("messages.reset_button"), f"msg:rst:{kind.value}")])
    rows.append([(t("common.back"), "msg:menu"), (t("common.menu"), "m:home")])
    await reply(update, Raw(prefix + body) if prefix else body, keyboard(context, rows))
    return END


def _kind_from_match(context: ClientmgrContext) -> TemplateKind:
    return TemplateKind(context.match.group(1))  # type: ignore[union-attr]


async def view_kind(update: Update, context: ClientmgrContext, account: Account) -> int:
    return await _show_kind(update, context, account, _kind_from_match(context))


def _variables_help() -> Raw:
    return Raw(
        "\n".join(
            t("messages.variable_line", variable="{" + name + "}", meaning=meaning)
            for name, meaning in VARIABLES.items()
        )
    )


async def _ask_text(
    update: Update, context: ClientmgrContext, kind: TemplateKind, shown: str, *, is_draft: bool
) -> str:
    text = t(
        "messages.edit_prompt",
        name=_name(kind),
        variables=_variables_help(),
        example=str(t("messages.edit_example")),
        label=t("messages.draft_label") if is_draft else t("messages.current_label"),
        text=_clip(shown),
    )
    rows = [[(t("common.back"), f"msg:view:{kind.value}"), (t("common.cancel"), "x:cancel")]]
    # Editing again keeps the draft's preview on screen (and its Salvar) above the prompt.
    await reply(update, text, keyboard(context, rows), edit=not is_draft)
    return EDIT_STATE


async def start_edit(update: Update, context: ClientmgrContext, account: Account) -> str:
    """ "✏️ Editar": a fresh draft for this kind, the current text shown to copy."""
    kind = _kind_from_match(context)
    text, _ = await templates.get_template_text(
        context.services.uow_factory, _account_id(account), kind
    )
    _user_data(context)[DRAFT] = {"flow": EDIT_STATE, "kind": kind.value}
    return await _ask_text(update, context, kind, text, is_draft=False)


def _draft(context: ClientmgrContext, kind: TemplateKind | None = None) -> dict[str, Any] | None:
    """This flow's draft, if it is still there (and for ``kind`` when given)."""
    draft = _user_data(context).get(DRAFT)
    if not isinstance(draft, dict) or draft.get("flow") != EDIT_STATE:
        return None
    if draft.get("kind") not in {k.value for k in TemplateKind}:
        return None
    if kind is not None and draft["kind"] != kind.value:
        return None
    return draft


async def edit_again(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    """ "✏️ Editar de novo": back to typing, with the draft shown so it can be copied and fixed."""
    kind = _kind_from_match(context)
    draft = _draft(context, kind)
    if draft is None or not isinstance(draft.get("text"), str):
        return await start_edit(update, context, account)
    return await _ask_text(update, context, kind, draft["text"], is_draft=True)


def _digest(text: str) -> str:
    """Ties a Salvar button to the text its preview showed (8 hex digits fit the payload)."""
    return hashlib.sha256(text.encode()).hexdigest()[:8]


async def _show_draft(
    update: Update,
    context: ClientmgrContext,
    account: Account,
    kind: TemplateKind,
    text: str,
    prefix: str = "",
) -> str:
    shown = await _preview(context, account, text, kind)  # InvalidTemplateError: re-asked
    body = t("messages.draft_preview", name=_name(kind), preview=_clip(shown))
    rows = [
        [(t("messages.save_button"), f"msg:save:{kind.value}:{_digest(text)}")],
        [(t("messages.edit_again_button"), f"msg:redo:{kind.value}")],
        [(t("common.cancel"), "x:cancel")],
    ]
    await reply(update, Raw(prefix + body) if prefix else body, keyboard(context, rows), edit=False)
    return EDIT_STATE


async def got_text(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    """The typed text: refused with the reason (nothing saved), or previewed as a draft."""
    draft = _draft(context)
    if draft is None:
        return await show_messages(update, context, account)
    kind = TemplateKind(draft["kind"])
    typed = _typed(update).strip()
    state = await _show_draft(update, context, account, kind, typed)
    _user_data(context)[DRAFT] = {**draft, "text": typed}
    return state


async def save_draft(update: Update, context: ClientmgrContext, account: Account) -> str | int:
    """ "✅ Salvar": store the draft its preview showed (validated again by the use case).

    A Salvar from an older preview (the seller typed another text since) does not save the
    newer text unseen: the newest preview is shown again, still waiting for a text.
    """
    kind = _kind_from_match(context)
    draft = _draft(context, kind)
    if draft is None or not isinstance(draft.get("text"), str):
        return await _show_kind(update, context, account, kind, t("messages.draft_gone") + "\n\n")
    if context.match.group(2) != _digest(draft["text"]):  # type: ignore[union-attr]
        prefix = t("messages.draft_changed") + "\n\n"
        return await _show_draft(update, context, account, kind, draft["text"], prefix)
    services = context.services
    await templates.save_template(
        services.uow_factory, services.clock, _account_id(account), kind, draft["text"]
    )
    _user_data(context).pop(DRAFT, None)
    await _show_kind(update, context, account, kind, t("messages.saved") + "\n\n")
    return END


async def ask_reset(update: Update, context: ClientmgrContext, account: Account) -> int:
    """ "↩️ Restaurar padrão" asks first: it throws away the seller's own wording."""
    kind = _kind_from_match(context)
    text = t("messages.reset_confirm", name=_name(kind), text=_clip(DEFAULT_TEMPLATES[kind]))
    rows = [
        [(t("messages.reset_yes"), f"msg:rstok:{kind.value}")],
        [(t("messages.reset_no"), f"msg:view:{kind.value}")],
    ]
    await reply(update, text, keyboard(context, rows))
    return END


async def do_reset(update: Update, context: ClientmgrContext, account: Account) -> int:
    kind = _kind_from_match(context)
    services = context.services
    await templates.restore_default(
        services.uow_factory, services.clock, _account_id(account), kind
    )
    return await _show_kind(update, context, account, kind, t("messages.reset_done") + "\n\n")


# --- régua ----------------------------------------------------------------------------------


async def _show_policy(
    update: Update, context: ClientmgrContext, account: Account, prefix: str = ""
) -> int:
    policy = account.reminder_policy
    lines = [
        t("messages.policy_line", when=describe_offset(o), name=_name(k))
        for o, k in policy.schedule()
    ]
    body = t(
        "messages.policy",
        lines=Raw("\n".join(lines)) if lines else t("messages.policy_off"),
        window=_window(policy),
    )
    rows = [
        [
            (t("messages.offsets_button"), "msg:offsets"),
            (t("messages.window_button"), "msg:window"),
        ],
        [(t("common.back"), "msg:menu"), (t("common.menu"), "m:home")],
    ]
    await reply(update, Raw(prefix + body) if prefix else body, keyboard(context, rows))
    return END


async def show_policy(update: Update, context: ClientmgrContext, account: Account) -> int:
    return await _show_policy(update, context, account)


async def ask_offsets(update: Update, context: ClientmgrContext, account: Account) -> str:
    policy = account.reminder_policy
    current = (
        Raw(f"{_plain_offsets(policy)} ({_offsets_in_words(policy)})")
        if policy.offsets
        else t("messages.policy_off")
    )
    text = t("messages.offsets_prompt", current=current)
    rows = [[(t("common.back"), "msg:policy"), (t("common.cancel"), "x:cancel")]]
    await reply(update, text, keyboard(context, rows))
    return OFFSETS_STATE


async def got_offsets(update: Update, context: ClientmgrContext, account: Account) -> int:
    offsets = parse_offsets(_typed(update))
    policy = account.reminder_policy
    services = context.services
    account = await templates.update_policy(
        services.uow_factory,
        services.clock,
        _account_id(account),
        offsets,
        policy.window_start,
        policy.window_end,
    )
    return await _show_policy(update, context, account, t("messages.policy_saved") + "\n\n")


async def ask_window(update: Update, context: ClientmgrContext, account: Account) -> str:
    text = t("messages.window_prompt", window=_window(account.reminder_policy))
    rows = [[(t("common.back"), "msg:policy"), (t("common.cancel"), "x:cancel")]]
    await reply(update, text, keyboard(context, rows))
    return WINDOW_STATE


async def got_window(update: Update, context: ClientmgrContext, account: Account) -> int:
    start, end = parse_window(_typed(update))
    services = context.services
    account = await templates.update_policy(
        services.uow_factory,
        services.clock,
        _account_id(account),
        account.reminder_policy.offsets,
        start,
        end,
    )
    return await _show_policy(update, context, account, t("messages.policy_saved") + "\n\n")


def register(registry: BotRegistry) -> None:
    registry.button("msg:menu", show_messages)
    registry.button(rf"msg:view:({_KINDS})", view_kind)
    registry.entry(rf"msg:edit:({_KINDS})", start_edit)
    registry.entry(rf"msg:redo:({_KINDS})", edit_again)
    registry.state(EDIT_STATE, got_text)
    # In the flow (a stale Salvar keeps the seller typing) and outside it (an old preview).
    registry.state_button(EDIT_STATE, rf"msg:save:({_KINDS}):([0-9a-f]{{8}})", save_draft)
    registry.button(rf"msg:save:({_KINDS}):([0-9a-f]{{8}})", save_draft)
    registry.button(rf"msg:rst:({_KINDS})", ask_reset)
    registry.button(rf"msg:rstok:({_KINDS})", do_reset)
    registry.button("msg:policy", show_policy)
    registry.entry("msg:offsets", ask_offsets)
    registry.state(OFFSETS_STATE, got_offsets)
    registry.entry("msg:window", ask_window)
    registry.state(WINDOW_STATE, got_window)

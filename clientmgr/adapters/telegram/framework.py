"""The small framework every screen uses: signed buttons, one input conversation, error replies.

Feature modules register with a ``BotRegistry``:

- ``button(r"cl:card:(\\d+)", show_card)`` — a navigation button (payload regex);
- ``entry(r"cl:new", ask_name)`` / ``command_entry("novo", ask_name)`` — start typed input;
- ``state("new.name", got_name)`` — handle the typed answer (text, or a document with
  ``document=True``) while the conversation is in that state;
- ``command("clientes", show_list)``.

All typed-input flows live in ONE persistent ConversationHandler, so starting a flow always
replaces the previous one, and pressing any other button leaves it (the seller never types
into a flow they already left). State names are strings: they persist as JSON.

Handlers are ``async def h(update, context, account) -> str | None`` wrapped by
``seller_handler``: it loads the account, maps domain errors to a pt-BR reply (re-asking the
same step on a bad answer, so nothing typed is lost) and keeps button presses answered.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from functools import wraps
from typing import Any

from loguru import logger
from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.error import BadRequest
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)

from clientmgr.adapters.telegram.catalog import Raw, t
from clientmgr.adapters.telegram.context import ClientmgrContext
from clientmgr.core.accounts import Account, AccountStatus
from clientmgr.errors import AccountExpiredError, InvalidInputError, NotFoundError

__all__ = [
    "END",
    "BotRegistry",
    "Keyboard",
    "SellerHandler",
    "button",
    "keyboard",
    "menu_keyboard",
    "reply",
    "seller_handler",
    "show_menu",
    "status_text",
]

END = ConversationHandler.END
SellerHandler = Callable[[Update, ClientmgrContext, Account], Awaitable[str | int | None]]
Keyboard = Sequence[Sequence[tuple[str, str]]]


def button(context: ClientmgrContext, label: str, payload: str) -> InlineKeyboardButton:
    """An inline button whose data is signed for the user who will press it."""
    user_id = context._user_id
    if user_id is None:
        raise RuntimeError("buttons need a user")
    return InlineKeyboardButton(label, callback_data=context.services.signer.sign(user_id, payload))


def keyboard(context: ClientmgrContext, rows: Keyboard) -> InlineKeyboardMarkup:
    """Rows of (label, payload) pairs as a signed inline keyboard."""
    return InlineKeyboardMarkup(
        [[button(context, label, payload) for label, payload in row] for row in rows]
    )


def menu_keyboard(context: ClientmgrContext) -> InlineKeyboardMarkup:
    return keyboard(
        context,
        [
            [(t("menu.clients"), "cl:list:all:0"), (t("menu.dues"), "due:show")],
            [(t("menu.messages"), "msg:menu"), (t("menu.whatsapp"), "wa:menu")],
            [(t("menu.summary"), "sum:show"), (t("menu.subscription"), "sub:menu")],
            [(t("menu.import"), "csv:import"), (t("menu.export"), "csv:export")],
            [(t("menu.help"), "help:show")],
        ],
    )


def status_text(account: Account, now: Any) -> Raw:
    status = account.status(now)
    if status is AccountStatus.GRACE:
        grace_end = account.access_until - now
        return t("status.grace", days=max(1, 3 + grace_end.days))
    if status is AccountStatus.EXPIRED:
        return t("status.expired")
    return t(f"status.{status.value}", days=account.days_left(now))


async def reply(
    update: Update,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
    *,
    edit: bool = True,
) -> Message | None:
    """Answer where the seller is looking: edit the pressed message, or send a new one."""
    query = update.callback_query
    if query is not None and edit and query.message is not None and _editable(query):
        try:
            result = await query.edit_message_text(text, parse_mode="HTML", reply_markup=markup)
            return result if isinstance(result, Message) else None
        except BadRequest as exc:
            if "not modified" in exc.message.lower():
                return None
            logger.debug("could not edit, sending instead: {}", exc.message)
    chat = update.effective_chat
    if chat is None:
        return None
    return await chat.send_message(text, parse_mode="HTML", reply_markup=markup)


def _editable(query: CallbackQuery) -> bool:
    message = query.message
    return isinstance(message, Message) and message.text is not None


async def _safe_answer(query: CallbackQuery, text: str | None = None, alert: bool = False) -> None:
    try:
        await query.answer(text, show_alert=alert)
    except BadRequest:
        logger.debug("callback query already answered or too old")


async def show_menu(
    update: Update,
    context: ClientmgrContext,
    account: Account,
    *,
    prefix: str = "",
    edit: bool = True,
) -> None:
    now = context.services.clock.now()
    text = t("menu.title", status=status_text(account, now))
    await reply(update, Raw(prefix + text) if prefix else text, menu_keyboard(context), edit=edit)


def seller_handler(func: SellerHandler) -> Callable[[Update, ClientmgrContext], Awaitable[Any]]:
    """Load the seller's account and turn domain errors into answers a seller understands."""

    @wraps(func)
    async def wrapper(update: Update, context: ClientmgrContext) -> Any:
        user = update.effective_user
        if user is None:
            return None
        account = await context.services.account_for(user.id)
        query = update.callback_query
        if account is None:
            if query is not None:
                await _safe_answer(query)
            await reply(update, t("common.need_start"), edit=False)
            return END
        try:
            state = await func(update, context, account)
        except InvalidInputError as exc:
            text = (
                t("common.error_example", reason=exc.reason, example=exc.example)
                if exc.example
                else t("common.error_input", reason=exc.reason)
            )
            if query is not None:
                await _safe_answer(query)
            await reply(
                update, text, keyboard(context, [[(t("common.cancel"), "x:cancel")]]), edit=False
            )
            return None  # stay on the same step: the seller answers again
        except AccountExpiredError:
            if query is not None:
                await _safe_answer(query)
            await reply(
                update,
                t("common.expired"),
                keyboard(
                    context,
                    [[(t("common.expired_button"), "sub:menu")], [(t("common.menu"), "m:home")]],
                ),
                edit=False,
            )
            return END
        except NotFoundError:
            asked = query.data if query else getattr(update.effective_message, "text", None)
            logger.warning("user {} asked for something not in their account: {}", user.id, asked)
            if query is not None:
                await _safe_answer(query, t("common.old_button"))
            await show_menu(update, context, account, edit=False)
            return END
        if query is not None:
            await _safe_answer(query)
        return state

    return wrapper


class BotRegistry:
    """Collects every screen's handlers and builds them into PTB handlers in the right order."""

    def __init__(self) -> None:
        self._buttons: list[tuple[re.Pattern[str], Callable[..., Awaitable[Any]]]] = []
        self._entries: list[BaseHandler[Update, ClientmgrContext, Any]] = []
        self._states: dict[str, list[BaseHandler[Update, ClientmgrContext, Any]]] = {}
        self._commands: list[BaseHandler[Update, ClientmgrContext, Any]] = []
        self._other: list[BaseHandler[Update, ClientmgrContext, Any]] = []
        self._fallback: BaseHandler[Update, ClientmgrContext, Any] | None = None

    @staticmethod
    def _pattern(payload_regex: str) -> re.Pattern[str]:
        return re.compile(rf"^{payload_regex}~")

    def button(self, payload_regex: str, func: SellerHandler) -> None:
        self._buttons.append((self._pattern(payload_regex), seller_handler(func)))

    def entry(self, payload_regex: str, func: SellerHandler) -> None:
        self._entries.append(
            CallbackQueryHandler(seller_handler(func), pattern=self._pattern(payload_regex))
        )

    def command_entry(self, command: str, func: SellerHandler) -> None:
        self._entries.append(CommandHandler(command, seller_handler(func)))

    def state(self, name: str, func: SellerHandler, *, document: bool = False) -> None:
        accepted = filters.Document.ALL if document else filters.TEXT & ~filters.COMMAND
        self._states.setdefault(name, []).append(MessageHandler(accepted, seller_handler(func)))

    def state_button(self, name: str, payload_regex: str, func: SellerHandler) -> None:
        """A button that only means something inside one step (e.g. "Pular")."""
        self._states.setdefault(name, []).append(
            CallbackQueryHandler(seller_handler(func), pattern=self._pattern(payload_regex))
        )

    def other_entry(self, handler: BaseHandler[Update, ClientmgrContext, Any]) -> None:
        """An entry point that is not a seller handler (e.g. /start, before any account)."""
        self._entries.append(handler)

    def fallback_text(self, func: SellerHandler) -> None:
        """Text typed outside any flow."""
        self._fallback = MessageHandler(filters.TEXT & ~filters.COMMAND, seller_handler(func))

    def command(self, command: str, func: SellerHandler) -> None:
        self._commands.append(CommandHandler(command, seller_handler(func)))

    def other(self, handler: BaseHandler[Update, ClientmgrContext, Any]) -> None:
        self._other.append(handler)

    async def _route_button(self, update: Update, context: ClientmgrContext) -> Any:
        """Leave the input conversation and run the pressed navigation button."""
        data = update.callback_query.data if update.callback_query else None
        for pattern, func in self._buttons:
            match = pattern.match(data or "")
            if match:
                context.matches = [match]
                await func(update, context)
                return END
        return END

    def build(self, cancel: Callable[..., Awaitable[Any]]) -> list[BaseHandler[Any, Any, Any]]:
        """The handlers for group 0, conversation first."""
        leave = [
            CommandHandler(["cancelar", "cancel"], cancel),
            CallbackQueryHandler(cancel, pattern=self._pattern("x:cancel")),
            CallbackQueryHandler(self._route_button),
        ]
        conversation = ConversationHandler(
            entry_points=self._entries,
            states={name: handlers for name, handlers in self._states.items()},
            fallbacks=leave,
            allow_reentry=True,
            name="input",
            persistent=True,
        )
        buttons = [CallbackQueryHandler(func, pattern=pattern) for pattern, func in self._buttons]
        last = [self._fallback] if self._fallback else []
        return [conversation, *self._commands, *buttons, *self._other, *last]

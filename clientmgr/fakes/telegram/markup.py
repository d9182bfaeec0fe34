"""Reply markup: validate keyboards the way Telegram does and read their buttons.

Validation matters for the same reason as HTML parsing: Telegram refuses a ``callback_data``
longer than 64 bytes (``BUTTON_DATA_INVALID``) or an inline button that does nothing, and a
bot that builds callback data from a client's name must find out in a test.
"""

from __future__ import annotations

from typing import Any

from clientmgr.fakes.telegram.errors import BotApiError

__all__ = [
    "CALLBACK_DATA_MAX_BYTES",
    "Markup",
    "inline_buttons",
    "reply_buttons",
    "validate_markup",
]

Markup = dict[str, Any]
CALLBACK_DATA_MAX_BYTES = 64
_INLINE_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_KNOWN_KINDS = ("inline_keyboard", "keyboard", "remove_keyboard", "force_reply")


def _bad(detail: str) -> BotApiError:
    return BotApiError.bad_request(detail)


def validate_markup(markup: Any) -> Markup:
    """The markup if Telegram would accept it, else the ``BotApiError`` Telegram would send."""
    if not isinstance(markup, dict) or not any(kind in markup for kind in _KNOWN_KINDS):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _validate_rows(markup["inline_keyboard"], "inline_keyboard", "InlineKeyboardMarkup")
        for row in markup["inline_keyboard"]:
            for button in row:
                _validate_inline_button(button)
    elif "keyboard" in markup:
        _validate_rows(markup["keyboard"], "keyboard", "ReplyKeyboardMarkup")
        for row in markup["keyboard"]:
            for button in row:
                text = button if isinstance(button, str) else (button or {}).get("text")
                if not isinstance(text, str) or not text:
                    raise _bad("can't parse keyboard button: Keyboard button must have text")
    elif "remove_keyboard" in markup and markup["remove_keyboard"] is not True:
        raise _bad('Field "remove_keyboard" must be true')
    return markup


def _validate_rows(rows: Any, field: str, kind: str) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad(f'Field "{field}" of the {kind} should be an Array of Arrays')


def _validate_inline_button(button: Any) -> None:
    if not isinstance(button, dict):
        raise _bad("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
    if not isinstance(button.get("text"), str) or not button["text"]:
        raise _bad("can't parse inline keyboard button: Text must be non-empty")
    actions = [name for name in _INLINE_ACTIONS if name in button]
    if not actions:
        raise _bad(
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not 1 <= len(data.encode()) <= CALLBACK_DATA_MAX_BYTES:
            raise _bad("BUTTON_DATA_INVALID")
    if "url" in button and not str(button["url"]).startswith(("http://", "https://", "tg://")):
        raise _bad("BUTTON_URL_INVALID")


def inline_buttons(markup: Markup | None) -> list[list[dict[str, Any]]]:
    """Rows of inline buttons (``[]`` for any other markup)."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return markup["inline_keyboard"]


def reply_buttons(markup: Markup | None) -> list[list[str]]:
    """Rows of reply-keyboard labels (``[]`` for any other markup)."""
    if not markup or "keyboard" not in markup:
        return []
    return [
        [button if isinstance(button, str) else button["text"] for button in row]
        for row in markup["keyboard"]
    ]

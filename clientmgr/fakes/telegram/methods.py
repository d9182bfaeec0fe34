"""The Bot API methods the emulator implements, with Telegram's checks and error wording.

Each method is an async function registered under its name; names are matched without
regard to case, as Telegram does. A method returns the ``result`` of the JSON envelope or
raises ``BotApiError``; the HTTP layer (``api.py``) wraps either in Telegram's envelope.

Where Telegram is strict in a way that finds real bugs, the emulator is equally strict:
HTML parse errors, text and caption limits, "message is not modified", editing without
``reply_markup`` removing the keyboard, answering a callback query twice, writing to a user
who blocked the bot (403), a webhook and ``getUpdates`` at the same time (409). What it does
not emulate it refuses loudly (Markdown parse modes, inline messages, URLs as files) instead
of pretending to succeed.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

from attrs import frozen

from clientmgr.fakes.telegram.entities import (
    Entity,
    EntityParseError,
    parse_html,
    strip_text,
)
from clientmgr.fakes.telegram.errors import BotApiError
from clientmgr.fakes.telegram.markup import Markup, inline_buttons, validate_markup
from clientmgr.fakes.telegram.params import Params, Upload
from clientmgr.fakes.telegram.state import (
    BotState,
    Chat,
    EmulatorState,
    Message,
    StoredFile,
    Webhook,
)

__all__ = ["MAX_CAPTION_LENGTH", "MAX_TEXT_LENGTH", "METHODS", "Call", "call_method"]

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_ANSWER_LENGTH = 200
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_POLL_TIMEOUT = 50.0
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_NAME = re.compile(r"^[a-z0-9_]{1,32}$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
_POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)


@frozen
class Call:
    """One method call: the shared state, the bot that called and its parameters."""

    state: EmulatorState
    bot: BotState
    params: Params


Method = Callable[[Call], Awaitable[Any]]
METHODS: dict[str, Method] = {}


def _method(name: str) -> Callable[[Method], Method]:
    def register(function: Method) -> Method:
        METHODS[name.lower()] = function
        return function

    return register


async def call_method(state: EmulatorState, bot: BotState, name: str, params: Params) -> Any:
    """Run a Bot API method; unknown names are 404 "Not Found", as on Telegram."""
    method = METHODS.get(name.lower())
    if method is None:
        raise BotApiError(404, "Not Found")
    return await method(Call(state, bot, params))


def _bad(detail: str) -> BotApiError:
    return BotApiError.bad_request(detail)


# -- shared checks ------------------------------------------------------------------------


def _chat(call: Call, *, sending: bool = True) -> Chat:
    """The chat ``chat_id`` names; 403 when the bot may not write there."""
    raw = call.params.raw("chat_id")
    if raw is None or raw == "":
        raise _bad("chat_id is empty")
    try:
        chat_id = int(raw)
    except (TypeError, ValueError):
        raise _bad("chat not found") from None
    chat = call.bot.chats.get(chat_id)
    if chat is None:
        if chat_id in call.state.users:
            raise BotApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise _bad("chat not found")
    if sending and chat.blocked:
        raise BotApiError(403, "Forbidden: bot was blocked by the user")
    return chat


def _check_flood(call: Call, chat: Chat) -> None:
    flood = call.bot.flood
    if flood is None:
        return
    wait = flood.check(chat.id, time.monotonic())
    if wait is not None:
        raise BotApiError(429, f"Too Many Requests: retry after {wait}", {"retry_after": wait})


def _count_flood(call: Call, chat: Chat) -> None:
    if call.bot.flood is not None:
        call.bot.flood.record(chat.id, time.monotonic())


def _formatted(
    call: Call, field: str, entities_field: str, *, limit: int
) -> tuple[str | None, list[Entity], str | None]:
    """Parse ``field`` with ``parse_mode`` (or explicit entities): text, entities, source."""
    source = call.params.text(field)
    if source is None:
        return None, [], None
    parse_mode = call.params.text("parse_mode")
    if parse_mode:
        mode = parse_mode.lower()
        if mode == "html":
            try:
                text, entities = parse_html(source)
            except EntityParseError as error:
                raise _bad(f"can't parse entities: {error}") from None
        elif mode in ("markdown", "markdownv2"):
            raise _bad(
                f"can't parse entities: parse_mode {parse_mode} is not emulated, use HTML "
                "(the emulator would otherwise accept text Telegram refuses)"
            )
        else:
            raise _bad("unsupported parse_mode")
    else:
        text = source
        entities = call.params.json(entities_field) or []
        if not isinstance(entities, list) or not all(isinstance(e, dict) for e in entities):
            raise _bad(f"can't parse {entities_field} JSON object")
    text, entities = strip_text(text, entities)
    if len(text) > limit:
        raise _bad("message is too long" if field == "text" else "message caption is too long")
    return text, entities, source


def _markup(call: Call, *, inline_only: bool = False) -> Markup | None:
    markup = call.params.json("reply_markup", what="reply keyboard markup")
    if markup is None:
        return None
    markup = validate_markup(markup)
    if inline_only and "inline_keyboard" not in markup:
        raise _bad("inline keyboard expected")
    return markup


def _reply_to(call: Call, chat: Chat) -> Message | None:
    reply = call.params.json("reply_parameters") or {}
    if not isinstance(reply, dict):
        raise _bad("can't parse reply parameters JSON object")
    message_id = reply.get("message_id", call.params.integer("reply_to_message_id"))
    if message_id is None:
        return None
    allow = reply.get(
        "allow_sending_without_reply", call.params.flag("allow_sending_without_reply")
    )
    target = chat.messages.get(int(message_id))
    if target is None or target.deleted:
        if allow:
            return None
        raise _bad("message to be replied not found")
    return target


def _bot_message(call: Call) -> Message:
    """The bot's own message an edit refers to."""
    if "inline_message_id" in call.params:
        raise _bad("inline messages are not emulated")
    chat = _chat(call, sending=False)
    message_id = call.params.integer("message_id", required=True)
    message = chat.messages.get(message_id) if message_id is not None else None
    if message is None or message.deleted:
        raise _bad("message to edit not found")
    if not message.from_bot:
        raise _bad("message can't be edited")
    return message


def _send(call: Call, chat: Chat, **fields: Any) -> dict[str, Any]:
    """Post the bot's message to ``chat`` and return it as the API result."""
    message = call.state.add_message(
        chat, call.bot.user, reply_to=_reply_to(call, chat), reply_markup=_markup(call), **fields
    )
    _count_flood(call, chat)
    return message.to_api()


def _input_file(call: Call, field: str, kind: str) -> StoredFile:
    """A new upload, or a file the bot already knows by ``file_id``."""
    value = call.params.file(field)
    if value is None:
        raise _bad(f"there is no {field} in the request")
    if isinstance(value, Upload):
        if not value.data:
            raise _bad("file must be non-empty")
        if len(value.data) > MAX_UPLOAD_BYTES:
            raise BotApiError(413, "Request Entity Too Large")
        mime_type = value.content_type
        if mime_type in (None, "application/octet-stream") and kind == "document":
            mime_type = None  # guessed from the file name, as Telegram does
        return call.state.store_file(
            kind,
            value.data,
            file_name=value.filename if kind == "document" else None,
            mime_type=mime_type if kind == "document" else None,
        )
    stored = call.state.files.get(value)
    if stored is None:
        raise _bad("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise _bad(f"can't use file of type {stored.kind.title()} as {kind.title()}")
    return stored


# -- identity and updates -----------------------------------------------------------------


@_method("getMe")
async def get_me(call: Call) -> dict[str, Any]:
    """The bot's own user; python-telegram-bot calls it in ``initialize()``."""
    return call.bot.to_api_me()


@_method("logOut")
async def log_out(call: Call) -> bool:
    """Accepted and ignored: there is no cloud server to leave."""
    return True


@_method("close")
async def close(call: Call) -> bool:
    """Accepted and ignored."""
    return True


@_method("getUpdates")
async def get_updates(call: Call) -> list[dict[str, Any]]:
    """Confirm updates below ``offset``, then return pending ones, long-polling up to ``timeout``.

    A newer ``getUpdates`` ends a waiting one with 409, as two bot instances would on Telegram.
    """
    state, bot, params = call.state, call.bot, call.params
    if bot.webhook is not None:
        raise BotApiError(409, _WEBHOOK_CONFLICT)
    offset = params.integer("offset")
    limit = min(max(params.integer("limit") or 100, 1), 100)
    timeout = min(max(params.number("timeout") or 0.0, 0.0), MAX_POLL_TIMEOUT)
    allowed = params.json("allowed_updates")
    if allowed is not None:
        if not isinstance(allowed, list):
            raise _bad("can't parse allowed_updates JSON object")
        bot.allowed_updates = [str(kind) for kind in allowed] or None
    state.confirm_updates(bot, offset)

    me = object()
    if bot.poller is not None:
        state.wake()  # the waiting call notices it was superseded
    bot.poller = me
    try:
        await state.wait_until(
            lambda: (
                bool(bot.updates)
                or bot.poller is not me
                or bot.webhook is not None
                or state.closing
            ),
            timeout,
        )
        superseded = bot.poller is not me
    finally:
        if bot.poller is me:
            bot.poller = None
    if superseded:
        raise BotApiError(409, _POLL_CONFLICT)
    if bot.webhook is not None:
        raise BotApiError(409, _WEBHOOK_CONFLICT)
    result = [update.to_api() for update in bot.updates[:limit]]
    if result:
        state.mark_activity()
    return result


@_method("setWebhook")
async def set_webhook(call: Call) -> bool:
    """Deliver updates by POST from now on (``api``'s dispatcher does the delivering)."""
    state, bot, params = call.state, call.bot, call.params
    url = params.text("url") or ""
    drop = params.flag("drop_pending_updates")
    if not url:
        return await delete_webhook(call)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.text("secret_token")
    if secret is not None and not _SECRET_TOKEN.match(secret):
        raise _bad("secret token contains unallowed characters")
    max_connections = params.integer("max_connections") or 40
    if not 1 <= max_connections <= 100:
        raise _bad("invalid max_connections specified")
    allowed = params.json("allowed_updates")
    if allowed is not None and not isinstance(allowed, list):
        raise _bad("can't parse allowed_updates JSON object")
    if drop:
        bot.updates.clear()
    bot.webhook = Webhook(
        url=url,
        secret_token=secret,
        max_connections=max_connections,
        allowed_updates=[str(kind) for kind in allowed] if allowed else None,
        ip_address=params.text("ip_address"),
        has_custom_certificate="certificate" in params,
    )
    state.changed()
    return True


@_method("deleteWebhook")
async def delete_webhook(call: Call) -> bool:
    """Back to ``getUpdates``; optionally forget pending updates."""
    call.bot.webhook = None
    if call.params.flag("drop_pending_updates"):
        call.bot.updates.clear()
    call.state.changed()
    return True


@_method("getWebhookInfo")
async def get_webhook_info(call: Call) -> dict[str, Any]:
    """The webhook, how many updates wait and the last delivery error."""
    webhook = call.bot.webhook
    info: dict[str, Any] = {
        "url": webhook.url if webhook else "",
        "has_custom_certificate": bool(webhook and webhook.has_custom_certificate),
        "pending_update_count": len(call.bot.updates),
    }
    if webhook is not None:
        info["max_connections"] = webhook.max_connections
        optional = {
            "ip_address": webhook.ip_address,
            "allowed_updates": webhook.allowed_updates,
            "last_error_date": webhook.last_error_date,
            "last_error_message": webhook.last_error_message,
        }
        info.update({key: value for key, value in optional.items() if value is not None})
    return info


# -- sending ------------------------------------------------------------------------------


@_method("sendMessage")
async def send_message(call: Call) -> dict[str, Any]:
    """A text message, HTML checked like Telegram checks it."""
    chat = _chat(call)
    _check_flood(call, chat)
    text, entities, source = _formatted(call, "text", "entities", limit=MAX_TEXT_LENGTH)
    if not text:
        raise _bad("message text is empty")
    return _send(
        call,
        chat,
        text=text,
        entities=entities,
        source=source,
        parse_mode=call.params.text("parse_mode"),
    )


async def _send_file(call: Call, field: str, kind: str) -> dict[str, Any]:
    chat = _chat(call)
    _check_flood(call, chat)
    caption, entities, source = _formatted(
        call, "caption", "caption_entities", limit=MAX_CAPTION_LENGTH
    )
    stored = _input_file(call, field, kind)
    return _send(
        call,
        chat,
        caption=caption or None,
        caption_entities=entities,
        source=source,
        parse_mode=call.params.text("parse_mode"),
        **{kind: stored},
    )


@_method("sendDocument")
async def send_document(call: Call) -> dict[str, Any]:
    """A file, uploaded (multipart) or re-sent by ``file_id``."""
    return await _send_file(call, "document", "document")


@_method("sendPhoto")
async def send_photo(call: Call) -> dict[str, Any]:
    """A picture, uploaded (multipart) or re-sent by ``file_id``."""
    return await _send_file(call, "photo", "photo")


@_method("getFile")
async def get_file(call: Call) -> dict[str, Any]:
    """Where to download a file: ``/file/bot<token>/<file_path>``."""
    file_id = call.params.text("file_id", required=True)
    stored = call.state.files.get(file_id or "")
    if stored is None:
        raise _bad("invalid file_id")
    if stored.size > MAX_DOWNLOAD_BYTES:
        raise _bad("file is too big")
    return stored.to_api_file()


@_method("sendChatAction")
async def send_chat_action(call: Call) -> bool:
    """Recorded per chat ("typing..." on the playground)."""
    chat = _chat(call)
    action = call.params.text("action", required=True)
    if action not in CHAT_ACTIONS:
        raise _bad("wrong parameter action in request")
    chat.actions.append((call.state.now(), action))
    call.state.changed()
    return True


# -- editing ------------------------------------------------------------------------------


def _new_markup(message: Message, markup: Markup | None) -> Markup | None:
    """The markup after an edit: the inline keyboard is replaced (or removed if omitted)."""
    old = message.reply_markup
    if markup is None and old is not None and "inline_keyboard" not in old:
        return old  # a reply keyboard is not part of the message; editing leaves it alone
    return markup


@_method("editMessageText")
async def edit_message_text(call: Call) -> dict[str, Any]:
    """Replace a text message's text; without ``reply_markup`` its keyboard goes away."""
    message = _bot_message(call)
    _check_flood(call, message.chat)
    if message.text is None:
        raise _bad("there is no text in the message to edit")
    text, entities, source = _formatted(call, "text", "entities", limit=MAX_TEXT_LENGTH)
    if not text:
        raise _bad("message text is empty")
    markup = _markup(call, inline_only=True)
    current = (message.text, message.entities, message.keyboard)
    if (text, entities, inline_buttons(markup)) == current:
        raise _bad(_NOT_MODIFIED)
    message.text, message.entities, message.source = text, entities, source
    message.parse_mode = call.params.text("parse_mode")
    message.reply_markup = _new_markup(message, markup)
    message.edit_date = call.state.now()
    call.state.touch(message)
    _count_flood(call, message.chat)
    return message.to_api()


@_method("editMessageCaption")
async def edit_message_caption(call: Call) -> dict[str, Any]:
    """Replace a document's or photo's caption."""
    message = _bot_message(call)
    _check_flood(call, message.chat)
    if message.document is None and message.photo is None:
        raise _bad("there is no caption in the message to edit")
    caption, entities, source = _formatted(
        call, "caption", "caption_entities", limit=MAX_CAPTION_LENGTH
    )
    caption = caption or None
    markup = _markup(call, inline_only=True)
    current = (message.caption, message.caption_entities, message.keyboard)
    if (caption, entities, inline_buttons(markup)) == current:
        raise _bad(_NOT_MODIFIED)
    message.caption, message.caption_entities, message.source = caption, entities, source
    message.parse_mode = call.params.text("parse_mode")
    message.reply_markup = _new_markup(message, markup)
    message.edit_date = call.state.now()
    call.state.touch(message)
    _count_flood(call, message.chat)
    return message.to_api()


@_method("editMessageReplyMarkup")
async def edit_message_reply_markup(call: Call) -> dict[str, Any]:
    """Replace (or, without ``reply_markup``, remove) a message's inline keyboard."""
    message = _bot_message(call)
    _check_flood(call, message.chat)
    markup = _markup(call, inline_only=True)
    if inline_buttons(markup) == message.keyboard:
        raise _bad(_NOT_MODIFIED)
    message.reply_markup = _new_markup(message, markup)
    message.edit_date = call.state.now()
    call.state.touch(message)
    _count_flood(call, message.chat)
    return message.to_api()


def _delete(call: Call, chat: Chat, message_id: int) -> bool:
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        return False
    message.deleted = True
    call.state.touch(message)
    return True


@_method("deleteMessage")
async def delete_message(call: Call) -> bool:
    """Delete a message of either side (allowed in private chats)."""
    chat = _chat(call, sending=False)
    message_id = call.params.integer("message_id", required=True)
    if message_id is None or not _delete(call, chat, message_id):
        raise _bad("message to delete not found")
    return True


@_method("deleteMessages")
async def delete_messages(call: Call) -> bool:
    """Delete several messages; missing ones are skipped, as on Telegram."""
    chat = _chat(call, sending=False)
    ids = call.params.json("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise _bad("message_ids must be a list of 1-100 message identifiers")
    for message_id in ids:
        _delete(call, chat, int(message_id))
    return True


# -- callback queries ---------------------------------------------------------------------


@_method("answerCallbackQuery")
async def answer_callback_query(call: Call) -> bool:
    """Stop the button's spinner, optionally with a toast or an alert; only once per query."""
    query_id = call.params.text("callback_query_id", required=True)
    query = call.bot.callback_queries.get(query_id or "")
    if query is None or query.answered:
        raise _bad("query is too old and response timeout expired or query ID is invalid")
    text = call.params.text("text")
    if text is not None and len(text) > MAX_CALLBACK_ANSWER_LENGTH:
        raise _bad("MESSAGE_TOO_LONG")
    query.answered = True
    query.answer_text = text or None
    query.show_alert = call.params.flag("show_alert")
    query.url = call.params.text("url")
    call.state.changed()
    return True


# -- commands, menu button, profile -------------------------------------------------------


def _commands_key(call: Call) -> tuple[str, str]:
    scope = call.params.json("scope") or {"type": "default"}
    if not isinstance(scope, dict) or "type" not in scope:
        raise _bad("can't parse BotCommandScope JSON object")
    return json.dumps(scope, sort_keys=True), call.params.text("language_code") or ""


@_method("setMyCommands")
async def set_my_commands(call: Call) -> bool:
    """The command list shown by the "/" menu, per scope and language."""
    commands = call.params.json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise _bad("can't parse commands JSON object")
    cleaned: list[dict[str, str]] = []
    for command in commands:
        if not isinstance(command, dict):
            raise _bad("can't parse BotCommand JSON object")
        name = str(command.get("command", "")).removeprefix("/")
        description = str(command.get("description", ""))
        if not _COMMAND_NAME.match(name):
            raise _bad("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        cleaned.append({"command": name, "description": description})
    key = _commands_key(call)
    if cleaned:
        call.bot.commands[key] = cleaned
    else:
        call.bot.commands.pop(key, None)
    call.state.changed()
    return True


@_method("getMyCommands")
async def get_my_commands(call: Call) -> list[dict[str, str]]:
    """The command list for a scope and language (``[]`` if none was set)."""
    return call.bot.commands.get(_commands_key(call), [])


@_method("deleteMyCommands")
async def delete_my_commands(call: Call) -> bool:
    """Forget the command list for a scope and language."""
    call.bot.commands.pop(_commands_key(call), None)
    call.state.changed()
    return True


@_method("setChatMenuButton")
async def set_chat_menu_button(call: Call) -> bool:
    """The button left of the input field, for one chat or as the default."""
    chat_id = call.params.integer("chat_id")
    if chat_id is not None and chat_id not in call.bot.chats:
        raise _bad("chat not found")
    button = call.params.json("menu_button") or {"type": "default"}
    if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
        raise _bad("can't parse MenuButton JSON object")
    call.bot.menu_buttons[chat_id] = button
    call.state.changed()
    return True


@_method("getChatMenuButton")
async def get_chat_menu_button(call: Call) -> dict[str, Any]:
    """The chat's menu button, else the default one, else "commands"."""
    chat_id = call.params.integer("chat_id")
    button = call.bot.menu_buttons.get(chat_id) or call.bot.menu_buttons.get(None)
    if button is None or button.get("type") == "default":
        return {"type": "commands"}
    return button


def _profile_methods(field: str, setter: str, getter: str, limit: int) -> None:
    """Register ``setMy<X>``/``getMy<X>`` for one per-language text of the bot's profile."""

    async def set_text(call: Call) -> bool:
        value = call.params.text(field) or ""
        if len(value) > limit:
            raise _bad(f"{field} is too long")
        key = (field, call.params.text("language_code") or "")
        if value:
            call.bot.profile[key] = value
        else:
            call.bot.profile.pop(key, None)
        call.state.changed()
        return True

    async def get_text(call: Call) -> dict[str, str]:
        language = call.params.text("language_code") or ""
        value = call.bot.profile.get((field, language)) or call.bot.profile.get((field, ""))
        if value is None and field == "name":
            value = call.bot.user.first_name
        return {field: value or ""}

    set_text.__doc__ = f"Set the bot's {field.replace('_', ' ')} (per language)."
    get_text.__doc__ = f"The bot's {field.replace('_', ' ')} (per language)."
    _method(setter)(set_text)
    _method(getter)(get_text)


_profile_methods("name", "setMyName", "getMyName", 64)
_profile_methods("description", "setMyDescription", "getMyDescription", 512)
_profile_methods("short_description", "setMyShortDescription", "getMyShortDescription", 120)


@_method("getChat")
async def get_chat(call: Call) -> dict[str, Any]:
    """Full information about a private chat (the fields python-telegram-bot requires)."""
    chat = _chat(call, sending=False)
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }

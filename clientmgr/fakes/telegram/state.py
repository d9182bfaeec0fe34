"""Everything the fake Telegram knows: bots, users, chats, messages, files, updates and queries.

One ``EmulatorState`` is shared by the Bot API server (the bot's side), the test driver and
the playground page (the user's side). It is plain in-memory data changed synchronously on
the event loop; every change bumps ``revision`` and wakes whoever waits on it, so waiting for
"the bot answered" is event-driven instead of sleeping and polling.

Only private chats between one user and one bot exist: that is all clientmgr's bot does.
A private chat's id is the user's id, as in Telegram; message ids count up per chat, shared
by both sides; dates are Unix seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import mimetypes
import re
import secrets
import struct
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import PurePosixPath
from typing import Any

from attrs import define, field, frozen

from clientmgr.fakes.telegram.entities import (
    Entity,
    detect_entities,
    entities_to_html,
)
from clientmgr.fakes.telegram.errors import ButtonNotFoundError, UserActionError
from clientmgr.fakes.telegram.flood import FloodControl
from clientmgr.fakes.telegram.markup import Markup, inline_buttons, reply_buttons

__all__ = [
    "DEFAULT_ALLOWED_UPDATES",
    "ApiCall",
    "BotState",
    "CallbackQuery",
    "Chat",
    "EmulatorState",
    "Message",
    "StoredFile",
    "Update",
    "User",
    "Webhook",
]

# What Telegram sends when allowed_updates was never set: everything except these three.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
DEFAULT_ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
_TOKEN = re.compile(r"^(\d{1,20}):([A-Za-z0-9_-]{1,100})$")
_MAX_TEXT = 4096
_MAX_CAPTION = 1024


@define(eq=False)
class User:
    """A Telegram account: a person using the bot, or the bot itself."""

    id: int
    first_name: str
    is_bot: bool = False
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``User`` object."""
        data: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for name in ("last_name", "username", "language_code"):
            if getattr(self, name) is not None:
                data[name] = getattr(self, name)
        return data


@define(eq=False, repr=False)
class StoredFile:
    """Bytes someone uploaded, addressable by ``file_id`` and downloadable by ``file_path``."""

    file_id: str
    file_unique_id: str
    kind: str  # "document" or "photo"
    data: bytes
    file_path: str
    file_name: str | None = None
    mime_type: str | None = None
    width: int = 0
    height: int = 0

    @property
    def size(self) -> int:
        """Size in bytes."""
        return len(self.data)

    def __repr__(self) -> str:
        return f"<StoredFile {self.kind} {self.file_name or self.file_path} {self.size} bytes>"

    def to_api_file(self) -> dict[str, Any]:
        """The Bot API ``File`` object that ``getFile`` returns."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
            "file_path": self.file_path,
        }

    def to_api_document(self) -> dict[str, Any]:
        """The Bot API ``Document`` object."""
        data: dict[str, Any] = {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": self.size,
        }
        if self.file_name:
            data["file_name"] = self.file_name
        if self.mime_type:
            data["mime_type"] = self.mime_type
        return data

    def to_api_photo(self) -> list[dict[str, Any]]:
        """The Bot API list of ``PhotoSize`` (one size: the emulator does not resample)."""
        return [
            {
                "file_id": self.file_id,
                "file_unique_id": self.file_unique_id,
                "file_size": self.size,
                "width": self.width,
                "height": self.height,
            }
        ]


@define(eq=False, repr=False)
class Message:
    """One message in a chat, changed in place when the bot edits or deletes it."""

    chat: Chat
    message_id: int
    sender: User
    date: int
    revision: int
    text: str | None = None
    entities: list[Entity] = field(factory=list)
    caption: str | None = None
    caption_entities: list[Entity] = field(factory=list)
    source: str | None = None  # text or caption exactly as the bot sent it
    parse_mode: str | None = None
    reply_markup: Markup | None = None
    document: StoredFile | None = None
    photo: StoredFile | None = None
    reply_to: Message | None = None
    edit_date: int | None = None
    deleted: bool = False

    @property
    def chat_id(self) -> int:
        """Id of the chat the message is in."""
        return self.chat.id

    @property
    def from_bot(self) -> bool:
        """Whether the bot sent it (as opposed to the user)."""
        return self.sender.is_bot

    @property
    def content(self) -> str:
        """What the user reads: the text, else the caption, else ``""``."""
        return self.text if self.text is not None else (self.caption or "")

    @property
    def html(self) -> str:
        """The content as canonical Telegram HTML, rebuilt from the entities."""
        if self.text is not None:
            return entities_to_html(self.text, self.entities)
        return entities_to_html(self.caption or "", self.caption_entities)

    @property
    def keyboard(self) -> list[list[dict[str, Any]]]:
        """Rows of inline buttons (dicts as the bot sent them)."""
        return inline_buttons(self.reply_markup)

    @property
    def buttons(self) -> list[str]:
        """Labels of the inline buttons, row by row."""
        return [button["text"] for row in self.keyboard for button in row]

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Rows of reply-keyboard labels this message showed (``[]`` if none)."""
        return reply_buttons(self.reply_markup)

    @property
    def edited(self) -> bool:
        """Whether the bot edited it after sending."""
        return self.edit_date is not None

    def button(self, label: str) -> dict[str, Any] | None:
        """The inline button with exactly this label, if any."""
        return next((b for row in self.keyboard for b in row if b["text"] == label), None)

    def __repr__(self) -> str:
        who = "bot" if self.from_bot else f"user {self.sender.id}"
        flags = "".join([" (edited)" if self.edited else "", " (deleted)" if self.deleted else ""])
        parts = [f"<Message #{self.message_id} from {who}{flags}: {self.content!r}"]
        if self.document:
            parts.append(f" document={self.document.file_name!r}")
        if self.photo:
            parts.append(" photo")
        if self.buttons:
            parts.append(f" buttons={self.buttons}")
        if self.reply_keyboard:
            parts.append(f" reply_keyboard={self.reply_keyboard}")
        return "".join(parts) + ">"

    def to_api(self, *, with_reply: bool = True) -> dict[str, Any]:
        """The Bot API ``Message`` object (only inline keyboards are part of it, as in Telegram)."""
        data: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.to_api(),
            "chat": self.chat.to_api(),
            "date": self.date,
        }
        if self.text is not None:
            data["text"] = self.text
            if self.entities:
                data["entities"] = self.entities
        if self.document is not None:
            data["document"] = self.document.to_api_document()
        if self.photo is not None:
            data["photo"] = self.photo.to_api_photo()
        if self.caption is not None:
            data["caption"] = self.caption
            if self.caption_entities:
                data["caption_entities"] = self.caption_entities
        if self.edit_date is not None:
            data["edit_date"] = self.edit_date
        if with_reply and self.reply_to is not None:
            data["reply_to_message"] = self.reply_to.to_api(with_reply=False)
        if self.keyboard:
            data["reply_markup"] = {"inline_keyboard": self.keyboard}
        return data

    def to_view(self) -> dict[str, Any]:
        """What a chat screen needs to draw the message (used by the playground page)."""

        def file_view(stored: StoredFile | None) -> dict[str, Any] | None:
            if stored is None:
                return None
            return {
                "file_id": stored.file_id,
                "file_name": stored.file_name,
                "mime_type": stored.mime_type,
                "file_size": stored.size,
                "width": stored.width or None,
                "height": stored.height or None,
                "url": f"/_emulator/files/{stored.file_id}",
            }

        return {
            "message_id": self.message_id,
            "chat_id": self.chat_id,
            "from_bot": self.from_bot,
            "sender": self.sender.to_api(),
            "date": self.date,
            "text": self.text,
            "caption": self.caption,
            "html": self.html,
            "entities": self.entities if self.text is not None else self.caption_entities,
            "buttons": self.keyboard,
            "reply_keyboard": self.reply_keyboard or None,
            "document": file_view(self.document),
            "photo": file_view(self.photo),
            "reply_to_message_id": self.reply_to.message_id if self.reply_to else None,
            "edit_date": self.edit_date,
            "deleted": self.deleted,
            "revision": self.revision,
        }


@define(eq=False, repr=False)
class Chat:
    """The private chat between one user and one bot."""

    id: int
    bot: BotState
    user: User
    chat_instance: str = field(factory=lambda: str(secrets.randbits(62)))
    messages: dict[int, Message] = field(factory=dict)
    next_message_id: int = 1
    reply_keyboard: Markup | None = None  # the reply keyboard currently shown, if any
    actions: deque[tuple[int, str]] = field(factory=lambda: deque(maxlen=100))
    blocked: bool = False  # the user blocked the bot

    def __repr__(self) -> str:
        return f"<Chat {self.id} with {self.user.first_name} ({len(self.messages)} messages)>"

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``Chat`` object."""
        data: dict[str, Any] = {"id": self.id, "type": "private"}
        data["first_name"] = self.user.first_name
        if self.user.last_name:
            data["last_name"] = self.user.last_name
        if self.user.username:
            data["username"] = self.user.username
        return data

    def history(self, *, include_deleted: bool = False) -> list[Message]:
        """Messages in order; deleted ones only if asked for."""
        return [m for m in self.messages.values() if include_deleted or not m.deleted]


@define(eq=False, repr=False)
class CallbackQuery:
    """A press on an inline button, and the bot's answer once it gives one."""

    id: str
    user: User
    message: Message
    data: str
    revision: int
    answered: bool = False
    answer_text: str | None = None
    show_alert: bool = False
    url: str | None = None

    def __repr__(self) -> str:
        answer = f"answered {self.answer_text!r}" if self.answered else "unanswered"
        return f"<CallbackQuery {self.data!r} on message #{self.message.message_id}, {answer}>"

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``CallbackQuery`` object."""
        return {
            "id": self.id,
            "from": self.user.to_api(),
            "message": self.message.to_api(),
            "chat_instance": self.message.chat.chat_instance,
            "data": self.data,
        }


@frozen
class Update:
    """One incoming update, frozen as JSON when it happened (later edits do not change it)."""

    update_id: int
    kind: str
    payload: dict[str, Any]

    def to_api(self) -> dict[str, Any]:
        """The Bot API ``Update`` object."""
        return {"update_id": self.update_id, self.kind: self.payload}


@define
class Webhook:
    """Where updates are POSTed instead of waiting for ``getUpdates``."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    allowed_updates: list[str] | None = None
    ip_address: str | None = None
    has_custom_certificate: bool = False
    last_error_date: int | None = None
    last_error_message: str | None = None
    failures: int = 0
    next_attempt: float = 0.0  # time.monotonic() of the next delivery attempt


@frozen
class ApiCall:
    """One Bot API request as the server saw it, kept for error messages and the playground."""

    method: str
    params: dict[str, Any]
    status: int
    description: str | None
    at: float


@define(eq=False, repr=False)
class BotState:
    """One bot: its identity, chats, pending updates and settings."""

    token: str
    user: User
    chats: dict[int, Chat] = field(factory=dict)
    updates: list[Update] = field(factory=list)
    next_update_id: int = 1
    allowed_updates: list[str] | None = None
    webhook: Webhook | None = None
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(factory=dict)
    menu_buttons: dict[int | None, dict[str, Any]] = field(factory=dict)
    profile: dict[tuple[str, str], str] = field(factory=dict)
    callback_queries: dict[str, CallbackQuery] = field(factory=dict)
    flood: FloodControl | None = None
    calls: deque[ApiCall] = field(factory=lambda: deque(maxlen=500))
    poller: object | None = None  # identifies the getUpdates call currently waiting

    def __repr__(self) -> str:
        return f"<BotState @{self.user.username} ({len(self.chats)} chats)>"

    @property
    def id(self) -> int:
        """The bot's user id (the number before the colon of its token)."""
        return self.user.id

    def to_api_me(self) -> dict[str, Any]:
        """What ``getMe`` returns."""
        return {
            **self.user.to_api(),
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def accepts(self, kind: str) -> bool:
        """Whether updates of this kind are wanted (``allowed_updates``)."""
        allowed = self.webhook.allowed_updates if self.webhook else None
        allowed = allowed if allowed is not None else self.allowed_updates
        if not allowed:
            return kind not in _OPT_IN_UPDATES
        return kind in allowed

    def failed_calls(self) -> list[ApiCall]:
        """Calls the server refused (status other than 200)."""
        return [call for call in self.calls if call.status != 200]


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height of a PNG, GIF or JPEG, else a placeholder (the emulator never decodes)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24:
        return struct.unpack(">II", data[16:24])
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return struct.unpack("<HH", data[6:10])
    if data.startswith(b"\xff\xd8"):
        i = 2
        while i + 9 < len(data) and data[i] == 0xFF:
            marker, length = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
            if marker in (0xC0, 0xC1, 0xC2):
                height, width = struct.unpack(">HH", data[i + 5 : i + 9])
                return width, height
            i += 2 + length
    return 320, 320


class EmulatorState:
    """The whole fake Telegram: bots by token, users by id, files by id, and change tracking."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self.bots: dict[str, BotState] = {}
        self.users: dict[int, User] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.revision = 0
        self.in_flight = 0
        self.last_activity = time.monotonic()
        self.closing = False
        self._changed = asyncio.Event()

    # -- identities ---------------------------------------------------------------------

    def add_bot(
        self, token: str, *, username: str | None = None, first_name: str = "Bot de teste"
    ) -> BotState:
        """Register a bot; its id is the number before the token's colon, as in Telegram."""
        match = _TOKEN.match(token)
        if not match:
            raise ValueError(f"{token!r} does not look like a bot token (123456:ABC-def)")
        bot_id = int(match[1])
        if any(bot.id == bot_id for bot in self.bots.values()):
            raise ValueError(f"a bot with id {bot_id} is already registered")
        user = User(
            id=bot_id,
            first_name=first_name,
            is_bot=True,
            username=username or f"emulated_{bot_id}_bot",
        )
        bot = BotState(token=token, user=user)
        self.bots[token] = bot
        self.changed()
        return bot

    def bot_for_token(self, token: str) -> BotState | None:
        """The bot a token belongs to, or ``None`` (the server answers 401)."""
        return self.bots.get(token)

    def bot(self, ref: int | str | None = None) -> BotState:
        """A bot by id, username or token; the first one registered when ``ref`` is ``None``."""
        for bot in self.bots.values():
            if ref is None or ref in (bot.id, bot.token, bot.user.username, str(bot.id)):
                return bot
        raise LookupError(f"no bot {ref!r}" if ref is not None else "no bot registered")

    def add_user(
        self,
        id: int,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "pt-br",
    ) -> User:
        """Register a person (or update the name of one already known)."""
        if id <= 0:
            raise UserActionError("user ids are positive integers")
        user = self.users.get(id)
        if user is None:
            user = User(id=id, first_name=first_name)
            self.users[id] = user
        user.first_name = first_name
        user.last_name = last_name
        user.username = username
        user.language_code = language_code
        self.changed()
        return user

    def private_chat(self, bot: BotState, user: User) -> Chat:
        """The chat between ``user`` and ``bot``, opened if it is the first contact."""
        chat = bot.chats.get(user.id)
        if chat is None:
            chat = Chat(id=user.id, bot=bot, user=user)
            bot.chats[user.id] = chat
        return chat

    # -- change tracking and waiting ----------------------------------------------------

    def changed(self) -> None:
        """Record that something changed and wake every waiter."""
        self.revision += 1
        self.mark_activity()
        self.wake()

    def wake(self) -> None:
        """Wake every waiter without recording a change (they re-check their condition)."""
        event, self._changed = self._changed, asyncio.Event()
        event.set()

    def mark_activity(self) -> None:
        """Restart the quiet period ``wait_idle`` waits for."""
        self.last_activity = time.monotonic()

    def close(self) -> None:
        """Release long polls and stop webhook delivery: the server is going away."""
        self.closing = True
        self.wake()

    # The waits below take a timeout and return False instead of raising, so that callers
    # (the driver, long polls) can explain what they were waiting for.
    async def wait_for_change(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        """Wait for the next change (or ``wake``); ``False`` if ``timeout`` passed first."""
        event = self._changed
        try:
            await asyncio.wait_for(event.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_until(
        self,
        predicate: Callable[[], bool],
        timeout: float,  # noqa: ASYNC109
    ) -> bool:
        """Wait until ``predicate()`` holds (checked after every change); ``False`` on timeout."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            remaining = deadline - loop.time()
            if remaining <= 0:
                return False
            await self.wait_for_change(remaining)
        return True

    @contextlib.contextmanager
    def request_in_flight(self) -> Iterator[None]:
        """Count a bot request as activity for ``wait_idle`` while it runs."""
        self.in_flight += 1
        self.last_activity = time.monotonic()
        try:
            yield
        finally:
            self.in_flight -= 1
            self.changed()

    def pending_update_count(self) -> int:
        """Updates not yet confirmed by ``getUpdates`` or accepted by the webhook."""
        return sum(len(bot.updates) for bot in self.bots.values())

    async def wait_idle(
        self,
        *,
        quiet: float = 0.05,
        timeout: float = 5.0,  # noqa: ASYNC109
    ) -> bool:
        """Wait until no update is pending, no request runs and nothing changed for ``quiet`` s.

        A handler that computes for longer than ``quiet`` between two Bot API calls looks
        idle; waiting for the message you expect is the sturdier check.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            wait = deadline - loop.time()
            if wait <= 0:
                return False
            if not self.in_flight and not self.pending_update_count():
                quiet_left = quiet - (time.monotonic() - self.last_activity)
                if quiet_left <= 0:
                    return True
                wait = min(wait, quiet_left)
            await self.wait_for_change(wait)

    # -- updates ------------------------------------------------------------------------

    def enqueue(self, bot: BotState, kind: str, payload: dict[str, Any]) -> Update | None:
        """Queue an update for the bot unless its ``allowed_updates`` exclude the kind."""
        if not bot.accepts(kind):
            return None
        update = Update(update_id=bot.next_update_id, kind=kind, payload=payload)
        bot.next_update_id += 1
        bot.updates.append(update)
        self.changed()
        return update

    def confirm_updates(self, bot: BotState, offset: int | None) -> None:
        """Forget updates below ``offset``; a negative offset keeps only the last ``-offset``."""
        if offset is None or offset == 0:
            return
        before = len(bot.updates)
        if offset < 0:
            bot.updates = bot.updates[offset:]
        else:
            bot.updates = [u for u in bot.updates if u.update_id >= offset]
        if len(bot.updates) != before:
            self.changed()

    # -- messages and files -------------------------------------------------------------

    def now(self) -> int:
        """The current Unix time in whole seconds (message dates)."""
        return int(self.clock())

    def add_message(self, chat: Chat, sender: User, **fields: Any) -> Message:
        """Append a message to a chat with the next message id."""
        message = Message(
            chat=chat,
            message_id=chat.next_message_id,
            sender=sender,
            date=self.now(),
            revision=0,
            **fields,
        )
        chat.next_message_id += 1
        chat.messages[message.message_id] = message
        if sender.is_bot and message.reply_markup is not None:
            if "keyboard" in message.reply_markup:
                chat.reply_keyboard = message.reply_markup
            elif "remove_keyboard" in message.reply_markup:
                chat.reply_keyboard = None
        self.touch(message)
        return message

    def touch(self, message: Message) -> None:
        """Mark a message as changed in place (edited or deleted)."""
        self.changed()
        message.revision = self.revision

    def store_file(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
    ) -> StoredFile:
        """Keep uploaded bytes and give them a ``file_id`` and a download path."""
        prefix = {"document": "BQACAgEAAxkBAA", "photo": "AgACAgEAAxkBAA"}[kind]
        suffix = PurePosixPath(file_name).suffix if file_name else ""
        if kind == "photo":
            suffix = ".jpg"
        folder = "documents" if kind == "document" else "photos"
        file_path = f"{folder}/file_{len(self.files)}{suffix}"
        if kind == "document" and mime_type is None and file_name:
            mime_type = mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        width, height = _image_size(data) if kind == "photo" else (0, 0)
        stored = StoredFile(
            file_id=prefix + secrets.token_urlsafe(24),
            file_unique_id="AgAD" + secrets.token_urlsafe(9),
            kind=kind,
            data=bytes(data),
            file_path=file_path,
            file_name=file_name,
            mime_type=mime_type,
            width=width,
            height=height,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[file_path] = stored
        return stored

    # -- the user's side ----------------------------------------------------------------

    def _open_chat_for(self, bot: BotState, user: User) -> Chat:
        chat = self.private_chat(bot, user)
        chat.blocked = False  # writing to a blocked bot is Telegram's "restart bot"
        return chat

    def user_sends_text(
        self, bot: BotState, user: User, text: str, *, reply_to: Message | None = None
    ) -> Message:
        """The user types and sends ``text``; commands get ``bot_command`` entities."""
        if not text.strip():
            raise UserActionError("Telegram does not send an empty message")
        if len(text) > _MAX_TEXT:
            raise UserActionError(f"a message holds at most {_MAX_TEXT} characters")
        chat = self._open_chat_for(bot, user)
        message = self.add_message(
            chat, user, text=text, entities=detect_entities(text), reply_to=reply_to
        )
        self.enqueue(bot, "message", message.to_api())
        return message

    def user_sends_file(
        self,
        bot: BotState,
        user: User,
        data: bytes,
        *,
        kind: str = "document",
        file_name: str | None = None,
        mime_type: str | None = None,
        caption: str | None = None,
    ) -> Message:
        """The user sends a file (``kind`` "document" or "photo"), with an optional caption."""
        if not data:
            raise UserActionError("Telegram does not send an empty file")
        if caption is not None and len(caption) > _MAX_CAPTION:
            raise UserActionError(f"a caption holds at most {_MAX_CAPTION} characters")
        chat = self._open_chat_for(bot, user)
        stored = self.store_file(kind, data, file_name=file_name, mime_type=mime_type)
        message = self.add_message(
            chat,
            user,
            caption=caption,
            caption_entities=detect_entities(caption) if caption else [],
            **{kind: stored},
        )
        self.enqueue(bot, "message", message.to_api())
        return message

    def user_presses(self, user: User, message: Message, button: dict[str, Any]) -> CallbackQuery:
        """The user taps an inline callback button on a message the bot sent them."""
        chat = message.chat
        if chat.user is not user or not message.from_bot or message.deleted:
            raise UserActionError(f"user {user.id} cannot press buttons on {message!r}")
        if not any(button is b or button == b for row in message.keyboard for b in row):
            raise UserActionError(f"{message!r} has no button {button.get('text')!r}")
        if "callback_data" not in button:
            kinds = [k for k in button if k != "text"]
            raise UserActionError(
                f"button {button['text']!r} is a {'/'.join(kinds)} button: a tap sends nothing "
                "to the bot"
            )
        chat.blocked = False
        query = CallbackQuery(
            id=str(secrets.randbits(63)),
            user=user,
            message=message,
            data=button["callback_data"],
            revision=self.revision + 1,
        )
        chat.bot.callback_queries[query.id] = query
        self.enqueue(chat.bot, "callback_query", query.to_api())
        return query

    def user_sends_callback_data(self, user: User, message: Message, data: str) -> CallbackQuery:
        """A tampered client: a callback query with any ``data`` on a message of this chat.

        Telegram does not check callback data against the buttons it sent, so a modified
        app can send anything; bots must verify what comes back.
        """
        chat = message.chat
        if chat.user is not user or not message.from_bot or message.deleted:
            raise UserActionError(f"user {user.id} cannot press buttons on {message!r}")
        query = CallbackQuery(
            id=str(secrets.randbits(63)),
            user=user,
            message=message,
            data=data,
            revision=self.revision + 1,
        )
        chat.bot.callback_queries[query.id] = query
        self.enqueue(chat.bot, "callback_query", query.to_api())
        return query

    def user_presses_label(
        self, bot: BotState, user: User, label: str, *, message: Message | None = None
    ) -> CallbackQuery | Message:
        """The user taps the button labelled ``label``, as they would find it on screen.

        Inline buttons are searched on ``message``, or else on the bot's messages newest
        first; failing that, a button of the reply keyboard sends its label as text (and a
        one-time keyboard hides).
        """
        chat = bot.chats.get(user.id)
        history = chat.history() if chat else []
        candidates = [message] if message is not None else list(reversed(history))
        for candidate in candidates:
            button = candidate.button(label) if candidate.from_bot else None
            if button is not None and not candidate.deleted:
                return self.user_presses(user, candidate, button)
        keyboard = [b for row in reply_buttons(chat.reply_keyboard if chat else None) for b in row]
        if message is None and chat is not None and label in keyboard:
            if chat.reply_keyboard and chat.reply_keyboard.get("one_time_keyboard"):
                chat.reply_keyboard = None
            return self.user_sends_text(bot, user, label)
        on_screen = [
            f"#{m.message_id}: {m.buttons}" for m in candidates[:5] if m.from_bot and m.buttons
        ]
        raise ButtonNotFoundError(
            f"no button {label!r} for user {user.id}"
            + (f" on message #{message.message_id}" if message is not None else "")
            + f"; inline buttons: {'; '.join(on_screen) or 'none'}"
            + f"; reply keyboard: {keyboard or 'none'}"
        )

    def user_blocks(self, bot: BotState, user: User, *, blocked: bool = True) -> None:
        """The user blocks (or unblocks) the bot: sends to them fail with 403."""
        self.private_chat(bot, user).blocked = blocked
        self.changed()

"""Drive the fake Telegram from Python: start the server, be a user, wait for the bot's answers.

::

    async with Emulator(token="123:ABC") as emu:
        app = emu.application_builder().build()        # base_url/base_file_url preset
        ...start the app (polling or webhook)...
        user = emu.user(id=1001, first_name="Ana")
        await user.send("/start")
        msg = await user.wait_for_message(contains="Bem-vindo", timeout=5)
        await user.press("Clientes")                   # by label, on the newest message with it
        await user.upload("clientes.csv", data, mime="text/csv")
        await emu.wait_idle()                          # nothing pending, nothing in flight

Two transports: ``"http"`` (default) serves the app with uvicorn on a free loopback port,
which polling and webhooks need to be realistic and the playground needs anyway;
``"asgi"`` skips sockets and hands python-telegram-bot an ``httpx.ASGITransport`` through
``emu.request()`` — faster, but only for polling.

Waiting is event-driven: every change to the state wakes the waiters. Waits that run out
raise ``EmulatorTimeoutError`` (an ``AssertionError``) describing what the user saw and
which Bot API calls the emulator refused, which is usually the bug (an HTML parse error, a
message too long).
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import httpx

from clientmgr.fakes.telegram.api import create_app
from clientmgr.fakes.telegram.errors import EmulatorTimeoutError, UserActionError
from clientmgr.fakes.telegram.flood import FloodControl
from clientmgr.fakes.telegram.markup import reply_buttons
from clientmgr.fakes.telegram.serving import BackgroundServer
from clientmgr.fakes.telegram.state import (
    ApiCall,
    BotState,
    CallbackQuery,
    Chat,
    EmulatorState,
    Message,
    StoredFile,
    User,
)

if TYPE_CHECKING:
    from telegram.ext import ApplicationBuilder
    from telegram.request import HTTPXRequest

__all__ = ["DEFAULT_TOKEN", "Emulator", "EmulatorUser", "Transport"]

DEFAULT_TOKEN = "123456:TEST-emulator-token"
Transport = Literal["http", "asgi"]
_ASGI_ORIGIN = "http://telegram-emulator.invalid"


class Emulator:
    """A fake Telegram Bot API server plus the means to act as its users.

    ``token`` may be several tokens, one emulated bot each (``bot=`` picks one later; the
    first is the default). ``flood`` applies to the first bot; set ``emu.bot.flood`` (or any
    ``BotState.flood``) to change it while running.
    """

    def __init__(
        self,
        token: str | Sequence[str] = DEFAULT_TOKEN,
        *,
        transport: Transport = "http",
        host: str = "127.0.0.1",
        port: int = 0,
        bot_username: str | None = None,
        bot_name: str = "Bot de teste",
        flood: FloodControl | None = None,
        quiet: float = 0.1,
        state: EmulatorState | None = None,
    ) -> None:
        if transport not in ("http", "asgi"):
            raise ValueError("transport is 'http' or 'asgi'")
        self.state = state or EmulatorState()
        tokens = [token] if isinstance(token, str) else list(token)
        if not tokens:
            raise ValueError("at least one bot token is needed")
        for index, each in enumerate(tokens):
            if self.state.bot_for_token(each) is None:
                self.state.add_bot(
                    each, username=bot_username if index == 0 else None, first_name=bot_name
                )
        self.tokens = tokens
        if flood is not None:
            self.state.bot(tokens[0]).flood = flood
        self.transport: Transport = transport
        self.host = host
        self.port = port
        self.quiet = quiet
        self.app = create_app(self.state)
        self._server: BackgroundServer | None = None
        self._lifespan: contextlib.AbstractAsyncContextManager[None] | None = None
        self._users: dict[tuple[int, int], EmulatorUser] = {}
        self._origin: str | None = None

    # -- lifecycle ------------------------------------------------------------------------

    async def __aenter__(self) -> Emulator:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> None:
        """Serve the app (uvicorn on a free port, or just its lifespan for ``"asgi"``)."""
        if self._origin is not None:
            raise RuntimeError("the emulator is already running")
        if self.transport == "asgi":
            self._lifespan = self.app.router.lifespan_context(self.app)
            await self._lifespan.__aenter__()
            self._origin = _ASGI_ORIGIN
            return
        self._server = BackgroundServer(self.app, host=self.host, port=self.port)
        self._origin = await self._server.start()

    async def stop(self) -> None:
        """Release long polls, stop webhook delivery and shut the server down."""
        self.state.close()
        if self._lifespan is not None:
            lifespan, self._lifespan = self._lifespan, None
            await lifespan.__aexit__(None, None, None)
        if self._server is not None:
            server, self._server = self._server, None
            await server.stop()
        self._origin = None

    # -- addresses ------------------------------------------------------------------------

    @property
    def origin(self) -> str:
        """``http://127.0.0.1:<port>`` (a placeholder host in ``"asgi"`` mode)."""
        if self._origin is None:
            raise RuntimeError("start the emulator first (async with Emulator() as emu)")
        return self._origin

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url``: PTB appends the token."""
        return f"{self.origin}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder.base_file_url``: PTB appends the token."""
        return f"{self.origin}/file/bot"

    @property
    def token(self) -> str:
        """The first (default) bot's token."""
        return self.tokens[0]

    @property
    def bot(self) -> BotState:
        """The first (default) bot's state."""
        return self.state.bot(self.token)

    # -- python-telegram-bot wiring -------------------------------------------------------

    def request(self, **kwargs: Any) -> HTTPXRequest:
        """An ``HTTPXRequest`` (``kwargs`` as for it) that reaches this emulator.

        It ignores proxy settings from the environment (an ``HTTP_PROXY`` meant for the
        internet would otherwise capture loopback traffic) and, in ``"asgi"`` mode, goes
        through ``httpx.ASGITransport`` instead of a socket.
        """
        from telegram.request import HTTPXRequest

        httpx_kwargs = {"trust_env": False, **(kwargs.pop("httpx_kwargs", None) or {})}
        if self.transport == "asgi":
            httpx_kwargs["transport"] = httpx.ASGITransport(app=self.app)
        return HTTPXRequest(httpx_kwargs=httpx_kwargs, **kwargs)

    def application_builder(
        self, token: str | None = None, **request_kwargs: Any
    ) -> ApplicationBuilder:
        """``Application.builder()`` with token, URLs and both requests set.

        Because the requests are set, configure them here (``request_kwargs``, passed to
        ``HTTPXRequest``) rather than with the builder's ``connection_pool_size()`` & co.
        """
        from telegram.ext import Application

        return (
            Application.builder()
            .token(token or self.token)
            .base_url(self.base_url)
            .base_file_url(self.base_file_url)
            .request(self.request(**{"connection_pool_size": 256, **request_kwargs}))
            .get_updates_request(self.request(**{"connection_pool_size": 1, **request_kwargs}))
        )

    # -- users and observation ------------------------------------------------------------

    def user(
        self,
        id: int = 1001,
        first_name: str = "Ana",
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "pt-br",
        bot: int | str | None = None,
    ) -> EmulatorUser:
        """A person talking to ``bot`` (the default bot); the same id gives the same user."""
        bot_state = self.state.bot(self.token if bot is None else bot)
        user = self.state.add_user(
            id, first_name, last_name=last_name, username=username, language_code=language_code
        )
        key = (bot_state.id, id)
        if key not in self._users:
            self._users[key] = EmulatorUser(self, bot_state, user)
        return self._users[key]

    @property
    def calls(self) -> list[ApiCall]:
        """The default bot's recent Bot API calls (empty long polls left out)."""
        return list(self.bot.calls)

    @property
    def failed_calls(self) -> list[ApiCall]:
        """The default bot's calls the emulator refused."""
        return self.bot.failed_calls()

    async def wait_idle(
        self,
        *,
        quiet: float | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - running out is explained, not a bare TimeoutError
    ) -> None:
        """Wait until no update is pending, no request is in flight and ``quiet`` s passed."""
        if not await self.state.wait_idle(
            quiet=self.quiet if quiet is None else quiet, timeout=timeout
        ):
            pending = {bot.user.username: len(bot.updates) for bot in self.state.bots.values()}
            raise EmulatorTimeoutError(
                f"the bot did not go idle within {timeout} s: {self.state.in_flight} request(s) "
                f"in flight, pending updates {pending}. Is the Application running against "
                f"{self._origin}?\n{_describe_calls(self.bot)}"
            )


def _describe_calls(bot: BotState, limit: int = 5) -> str:
    failed = bot.failed_calls()[-limit:]
    if not failed:
        return "The emulator refused no Bot API call."
    lines = ["Bot API calls the emulator refused (newest last):"]
    for call in failed:
        shown = {k: v for k, v in call.params.items() if k in ("chat_id", "text", "caption")}
        lines.append(f"  {call.method} → {call.status} {call.description}  {shown}")
    return "\n".join(lines)


class EmulatorUser:
    """One person in a private chat with a bot: sends, taps buttons, uploads, waits, reads.

    ``wait_for_message`` looks at the bot's messages that appeared or changed since this
    user's last action (so a reply that came before the wait started is not missed), oldest
    first, each at most once per version; an edit counts as a new version.
    """

    def __init__(self, emulator: Emulator, bot: BotState, user: User) -> None:
        self.emulator = emulator
        self.state = emulator.state
        self.bot = bot
        self.user = user
        self._mark = 0
        self._taken: set[tuple[int, int]] = set()

    def __repr__(self) -> str:
        bot = self.bot.user.username
        return f"<EmulatorUser {self.user.id} {self.user.first_name!r} with @{bot}>"

    @property
    def id(self) -> int:
        """The user's Telegram id (also the private chat's id)."""
        return self.user.id

    @property
    def first_name(self) -> str:
        """The user's first name."""
        return self.user.first_name

    @property
    def chat(self) -> Chat | None:
        """The chat with the bot, once the user has written to it."""
        return self.bot.chats.get(self.user.id)

    @property
    def messages(self) -> list[Message]:
        """Every message in the chat (both sides), oldest first; deleted ones left out."""
        return self.chat.history() if self.chat else []

    @property
    def bot_messages(self) -> list[Message]:
        """The bot's messages, oldest first; deleted ones left out."""
        return [message for message in self.messages if message.from_bot]

    @property
    def last_message(self) -> Message | None:
        """The bot's newest message (edits applied), if any."""
        messages = self.bot_messages
        return messages[-1] if messages else None

    @property
    def reply_keyboard(self) -> list[list[str]]:
        """Labels of the reply keyboard currently shown (``[]`` when none)."""
        return reply_buttons(self.chat.reply_keyboard if self.chat else None)

    @property
    def callback_queries(self) -> list[CallbackQuery]:
        """This user's button presses, oldest first, with the bot's answers."""
        return [q for q in self.bot.callback_queries.values() if q.user is self.user]

    def _acted(self) -> None:
        self._mark = self.state.revision
        self._taken.clear()

    # -- actions --------------------------------------------------------------------------

    async def send(self, text: str, *, reply_to: Message | None = None) -> Message:
        """Type and send ``text`` (``/commands`` get their entity, as in Telegram)."""
        message = self.state.user_sends_text(self.bot, self.user, text, reply_to=reply_to)
        self._acted()
        await asyncio.sleep(0)
        return message

    async def press(self, label: str, *, message: Message | None = None) -> CallbackQuery | Message:
        """Tap the button labelled ``label``.

        An inline button (on ``message``, else on the newest bot message that has it)
        produces a callback query, returned so its answer can be checked; a reply-keyboard
        button sends its label as a message, which is returned.
        """
        result = self.state.user_presses_label(self.bot, self.user, label, message=message)
        self._acted()
        await asyncio.sleep(0)
        return result

    async def press_data(self, data: str, *, message: Message | None = None) -> CallbackQuery:
        """Send raw callback ``data`` from ``message`` (default: the newest bot message), as a
        tampered client could: for testing that the bot refuses forged or replayed buttons."""
        target = message or next((m for m in reversed(self.bot_messages) if not m.deleted), None)
        if target is None:
            raise UserActionError(f"user {self.id} has no bot message to press on")
        query = self.state.user_sends_callback_data(self.user, target, data)
        self._acted()
        await asyncio.sleep(0)
        return query

    async def upload(
        self,
        filename: str,
        data: bytes,
        mime: str | None = None,
        *,
        caption: str | None = None,
    ) -> Message:
        """Send a file as a document (the bot gets a ``file_id`` it can ``getFile``)."""
        message = self.state.user_sends_file(
            self.bot, self.user, data, file_name=filename, mime_type=mime, caption=caption
        )
        self._acted()
        await asyncio.sleep(0)
        return message

    async def send_photo(self, data: bytes, *, caption: str | None = None) -> Message:
        """Send a picture (PNG, GIF or JPEG bytes; its size is read from the header)."""
        message = self.state.user_sends_file(
            self.bot, self.user, data, kind="photo", caption=caption
        )
        self._acted()
        await asyncio.sleep(0)
        return message

    async def block(self, blocked: bool = True) -> None:
        """Block the bot (its sends fail with 403) or, with ``False``, unblock it."""
        self.state.user_blocks(self.bot, self.user, blocked=blocked)
        self._acted()
        await asyncio.sleep(0)

    async def download(self, source: Message | StoredFile | str) -> bytes:
        """The bytes of a document or photo (a message, a stored file or a ``file_id``)."""
        if isinstance(source, Message):
            stored = source.document or source.photo
            if stored is None:
                raise UserActionError(f"{source!r} has no file")
        elif isinstance(source, StoredFile):
            stored = source
        else:
            found = self.state.files.get(source)
            if found is None:
                raise UserActionError(f"no file with id {source!r}")
            stored = found
        return stored.data

    # -- waiting --------------------------------------------------------------------------

    async def wait_for_message(
        self,
        contains: str | None = None,
        *,
        matches: str | re.Pattern[str] | None = None,
        where: Callable[[Message], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109 - see wait_idle
    ) -> Message:
        """The next new or edited bot message (since the last action) that fits every filter.

        ``contains`` is a substring of the text (or caption) as displayed, ``matches`` a
        regular expression searched in it, ``where`` any predicate.
        """
        pattern = re.compile(matches) if isinstance(matches, str) else matches

        def fits(message: Message) -> bool:
            return (
                (contains is None or contains in message.content)
                and (pattern is None or pattern.search(message.content) is not None)
                and (where is None or where(message))
            )

        def candidates() -> list[Message]:
            return [
                message
                for message in self.bot_messages
                if message.revision > self._mark
                and (message.message_id, message.revision) not in self._taken
                and fits(message)
            ]

        if not await self.state.wait_until(lambda: bool(candidates()), timeout):
            wanted = ", ".join(
                f"{name}={value!r}"
                for name, value in (("contains", contains), ("matches", matches), ("where", where))
                if value is not None
            )
            raise EmulatorTimeoutError(self._explain(f"message ({wanted or 'any'})", timeout))
        found = sorted(candidates(), key=lambda message: message.revision)[0]
        self._taken.add((found.message_id, found.revision))
        return found

    async def wait_for_answer(
        self,
        query: CallbackQuery,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - see wait_idle
    ) -> CallbackQuery:
        """Wait until the bot answers a button press (``answerCallbackQuery``)."""
        if not await self.state.wait_until(lambda: query.answered, timeout):
            raise EmulatorTimeoutError(self._explain(f"answer to {query!r}", timeout))
        return query

    def _explain(self, wanted: str, timeout: float) -> str:
        name = f"{self.user.first_name} ({self.user.id})"
        recent = [m for m in self.bot_messages if m.revision > self._mark]
        lines = [f"{name} got no {wanted} from the bot within {timeout} s."]
        lines.append("Bot messages since the user's last action:")
        lines += [f"  {message!r}" for message in recent] or ["  (none)"]
        lines.append("Last messages in the chat:")
        lines += [f"  {message!r}" for message in self.messages[-6:]] or ["  (none)"]
        lines.append(_describe_calls(self.bot))
        if self.bot.updates:
            mode = f"webhook {self.bot.webhook.url}" if self.bot.webhook else "getUpdates"
            lines.append(
                f"{len(self.bot.updates)} update(s) still wait for the bot ({mode}); is the "
                "Application running against this emulator?"
            )
            if self.bot.webhook and self.bot.webhook.last_error_message:
                lines.append(f"Last webhook error: {self.bot.webhook.last_error_message}")
        return "\n".join(lines)

"""StatePersistence: a real ConversationHandler picks up where it was after a restart.

Each "restart" is a new ``Application`` with a new ``StatePersistence`` (and, for SQLite, a
new engine) over the same stored state. The apps really initialise and shut down: a fake
Bot API (a ``BaseRequest`` answering ``getMe`` and ``sendMessage`` in-process) stands in
for Telegram, and updates arrive as the JSON Telegram would send.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import date
from enum import IntEnum
from itertools import count
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    PersistenceInput,
    filters,
)
from telegram.request import BaseRequest, RequestData

from clientmgr.adapters.memory import InMemoryBotStateStore
from clientmgr.adapters.sql.bot_state import SqlAlchemyBotStateStore
from clientmgr.adapters.sql.engine import create_engine, create_session_factory
from clientmgr.adapters.sql.migrate import migrate
from clientmgr.adapters.telegram.persistence import StatePersistence
from clientmgr.ports.bot_state import BotStateStore

USER_ID = 5551234
OTHER_USER_ID = 5559999
BOT_ID = 1000


class FakeBotApi(BaseRequest):
    """Answers the Bot API calls these tests make and remembers what the bot sent."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self._message_ids = count(1000)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        parameters = request_data.parameters if request_data else {}
        if api_method == "getMe":
            result: Any = {"id": BOT_ID, "is_bot": True, "first_name": "Bot", "username": "t_bot"}
        elif api_method == "sendMessage":
            self.sent.append(parameters)
            result = {
                "message_id": next(self._message_ids),
                "date": 0,
                "chat": {"id": parameters["chat_id"], "type": "private"},
                "text": parameters["text"],
            }
        elif api_method == "answerCallbackQuery":
            result = True
        else:
            return 400, json.dumps(
                {"ok": False, "description": f"not faked: {api_method}"}
            ).encode()
        return 200, json.dumps({"ok": True, "result": result}).encode()

    @property
    def texts(self) -> list[str]:
        return [str(message["text"]) for message in self.sent]


class Step(IntEnum):
    NAME = 1
    PHONE = 2


async def new_client(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    assert update.effective_message is not None
    assert context.user_data is not None
    context.user_data["draft"] = {"started": True}
    await update.effective_message.reply_text("Nome do cliente?")
    return Step.NAME


async def got_name(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Step:
    assert update.effective_message is not None
    assert context.user_data is not None
    context.user_data["draft"]["name"] = update.effective_message.text
    await update.effective_message.reply_text("Telefone?")
    return Step.PHONE


async def got_phone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    assert update.effective_message is not None
    assert context.user_data is not None
    draft = context.user_data.pop("draft")
    await update.effective_message.reply_text(
        f"Cliente {draft['name']} ({update.effective_message.text}) cadastrado."
    )
    return ConversationHandler.END


def conversation() -> ConversationHandler[Any]:
    text = filters.TEXT & ~filters.COMMAND
    return ConversationHandler(
        entry_points=[CommandHandler("novo", new_client)],
        states={
            Step.NAME: [MessageHandler(text, got_name)],
            Step.PHONE: [MessageHandler(text, got_phone)],
        },
        fallbacks=[],
        persistent=True,
        name="t",
    )


def build_app(
    persistence: StatePersistence, api: FakeBotApi, *, callback_data: bool = False
) -> Application[Any, Any, Any, Any, Any, Any]:
    builder = Application.builder().token("1000:fake").request(api).updater(None)
    builder = builder.persistence(persistence).arbitrary_callback_data(callback_data)
    app = builder.build()
    app.add_handler(conversation())
    return app


_update_ids = count(1)


def message(
    app: Application[Any, Any, Any, Any, Any, Any], text: str, user_id: int = USER_ID
) -> Update:
    user = {"id": user_id, "is_bot": False, "first_name": "Ana"}
    payload: dict[str, Any] = {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "date": 0,
            "chat": {"id": user_id, "type": "private"},
            "from": user,
            "text": text,
        },
    }
    if text.startswith("/"):
        command = text.split()[0]
        payload["message"]["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(command)}
        ]
    update = Update.de_json(payload, app.bot)
    assert update is not None
    return update


Opener = Callable[[], BotStateStore]


@pytest.fixture(params=["memory", "sqlite"])
async def open_store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Opener]:
    """Opens the same stored state afresh, as a restarted process would."""
    if request.param == "memory":
        store = InMemoryBotStateStore()
        yield lambda: store
        return
    url = f"sqlite:///{tmp_path / 'bot.db'}"
    await migrate(url)
    engines: list[AsyncEngine] = []

    def opener() -> BotStateStore:
        engine = create_engine(url)
        engines.append(engine)
        return SqlAlchemyBotStateStore(create_session_factory(engine))

    try:
        yield opener
    finally:
        for engine in engines:
            await engine.dispose()


@asynccontextmanager
async def running(app: Application[Any, Any, Any, Any, Any, Any]) -> AsyncIterator[None]:
    """``initialize`` + ``start`` (the periodic persistence writer runs), then a clean stop."""
    async with app:
        await app.start()
        try:
            yield
        finally:
            await app.stop()


async def test_a_conversation_continues_after_a_restart(open_store: Opener) -> None:
    first_api, second_api = FakeBotApi(), FakeBotApi()

    first = build_app(StatePersistence(open_store()), first_api)
    async with first:
        await first.process_update(message(first, "/novo"))
        await first.process_update(message(first, "Maria Souza"))
    assert first_api.texts == ["Nome do cliente?", "Telefone?"]

    second = build_app(StatePersistence(open_store()), second_api)
    async with second:
        assert second.user_data[USER_ID] == {"draft": {"started": True, "name": "Maria Souza"}}
        await second.process_update(message(second, "(11) 98888-7777"))
        assert second_api.texts == ["Cliente Maria Souza ((11) 98888-7777) cadastrado."]
        assert second.user_data[USER_ID] == {}

    store = open_store()
    assert await store.load("conversations:t") == {}
    assert await store.load("user_data") == {}


async def test_state_is_saved_while_running_so_a_crash_loses_at_most_an_interval(
    open_store: Opener,
) -> None:
    first = build_app(StatePersistence(open_store(), update_interval=0.05), FakeBotApi())
    async with running(first):
        await first.process_update(message(first, "/novo"))
        await first.process_update(message(first, "Maria"))
        store = open_store()
        for _ in range(100):
            if await store.load("conversations:t"):
                break
            await asyncio.sleep(0.02)
        # the first app is still running: nothing was written by a shutdown
        assert await store.load("conversations:t") == {f"[{USER_ID},{USER_ID}]": Step.PHONE}
        assert await store.load("user_data") == {
            str(USER_ID): {"draft": {"started": True, "name": "Maria"}}
        }

        api = FakeBotApi()
        second = build_app(StatePersistence(open_store()), api)
        async with second:
            await second.process_update(message(second, "11 98888-7777"))
        assert api.texts == ["Cliente Maria (11 98888-7777) cadastrado."]


async def test_each_user_resumes_their_own_step(open_store: Opener) -> None:
    first = build_app(StatePersistence(open_store()), FakeBotApi())
    async with first:
        await first.process_update(message(first, "/novo", USER_ID))
        await first.process_update(message(first, "Maria", USER_ID))
        await first.process_update(message(first, "/novo", OTHER_USER_ID))

    api = FakeBotApi()
    second = build_app(StatePersistence(open_store()), api)
    async with second:
        await second.process_update(message(second, "João", OTHER_USER_ID))
        await second.process_update(message(second, "11 97777-0000", USER_ID))
    assert api.texts == ["Telefone?", "Cliente Maria (11 97777-0000) cadastrado."]
    assert await open_store().load("conversations:t") == {
        f"[{OTHER_USER_ID},{OTHER_USER_ID}]": Step.PHONE
    }


async def test_bot_data_is_left_alone_by_default(open_store: Opener) -> None:
    services = object()  # the BotServices handlers reach through context.services
    app = build_app(StatePersistence(open_store()), FakeBotApi())
    app.bot_data["services"] = services
    async with app:
        await app.process_update(message(app, "/novo"))
        assert app.bot_data["services"] is services
    assert await open_store().load("bot_data") == {}


async def test_bot_data_is_kept_when_asked_for(open_store: Opener) -> None:
    everything = PersistenceInput()
    app = build_app(StatePersistence(open_store(), store_data=everything), FakeBotApi())
    async with app:
        app.bot_data["announcement"] = "Manutenção às 22h"
    again = build_app(StatePersistence(open_store(), store_data=everything), FakeBotApi())
    async with again:
        assert again.bot_data == {"announcement": "Manutenção às 22h"}


async def test_data_that_is_not_plain_json_reaches_the_error_handler(open_store: Opener) -> None:
    errors: list[object] = []

    async def remember(_update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        errors.append(context.error)

    async def remember_a_date(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert context.user_data is not None
        context.user_data["due"] = date(2026, 3, 10)

    app = build_app(StatePersistence(open_store()), FakeBotApi())
    app.add_handler(CommandHandler("vencimento", remember_a_date))
    app.add_error_handler(remember)
    async with app:
        await app.process_update(message(app, "/vencimento"))
    assert len(errors) == 1
    assert isinstance(errors[0], TypeError)
    assert "value['due']" in str(errors[0])
    assert await open_store().load("user_data") == {}


async def test_inline_buttons_with_arbitrary_callback_data_still_work_after_a_restart(
    open_store: Opener,
) -> None:
    async def offer(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        button = InlineKeyboardButton("Pagar", callback_data={"action": "pay", "client": 7})
        await update.effective_message.reply_text(
            "Cobrar?", reply_markup=InlineKeyboardMarkup([[button]])
        )

    chosen: list[object] = []

    async def on_button(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        chosen.append(update.callback_query.data)

    api = FakeBotApi()
    first = build_app(StatePersistence(open_store()), api, callback_data=True)
    first.add_handler(CommandHandler("cobrar", offer))
    async with first:
        await first.process_update(message(first, "/cobrar"))
    markup = api.sent[0]["reply_markup"]
    assert isinstance(markup, dict)
    token = markup["inline_keyboard"][0][0]["callback_data"]
    assert isinstance(token, str)

    second = build_app(StatePersistence(open_store()), FakeBotApi(), callback_data=True)
    second.add_handler(CallbackQueryHandler(on_button))
    async with second:
        payload = {
            "update_id": next(_update_ids),
            "callback_query": {
                "id": "cq-1",
                "from": {"id": USER_ID, "is_bot": False, "first_name": "Ana"},
                "chat_instance": "ci",
                "data": token,
            },
        }
        update = Update.de_json(payload, second.bot)
        assert update is not None
        second.bot.insert_callback_data(update)  # what the Updater / webhook do on arrival
        await second.process_update(update)
    assert chosen == [{"action": "pay", "client": 7}]


# -- StatePersistence on its own ----------------------------------------------------------


class CountingStore(InMemoryBotStateStore):
    """Counts writes and can be told to fail the next ones."""

    def __init__(self) -> None:
        super().__init__()
        self.writes = 0
        self.failures_left = 0

    def _maybe_fail(self) -> None:
        self.writes += 1
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("database went away")

    async def save(self, namespace: str, key: str, value: Any) -> None:
        self._maybe_fail()
        await super().save(namespace, key, value)

    async def delete(self, namespace: str, key: str) -> None:
        self._maybe_fail()
        await super().delete(namespace, key)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


async def test_conversation_keys_and_states_round_trip(store: CountingStore) -> None:
    persistence = StatePersistence(store)
    await persistence.update_conversation("a", (1, 2), 3)
    await persistence.update_conversation("a", (-100123, 2, "inline-msg"), "WAITING")
    await persistence.update_conversation("b", (1, 2), 4)
    await persistence.update_conversation("a", (1, 2), None)
    again = StatePersistence(store)
    assert await again.get_conversations("a") == {(-100123, 2, "inline-msg"): "WAITING"}
    assert await again.get_conversations("b") == {(1, 2): 4}
    assert await again.get_conversations("never") == {}


async def test_user_and_chat_data_come_back_under_int_ids(store: CountingStore) -> None:
    persistence = StatePersistence(store)
    await persistence.update_user_data(7, {"draft": {"name": "Ana"}})
    await persistence.update_user_data(8, {"x": 1})
    await persistence.update_chat_data(-100200, {"lang": "pt"})
    await persistence.drop_user_data(8)
    await persistence.drop_chat_data(404)
    again = StatePersistence(store)
    assert await again.get_user_data() == {7: {"draft": {"name": "Ana"}}}
    assert await again.get_chat_data() == {-100200: {"lang": "pt"}}
    assert await again.get_bot_data() == {}
    assert await again.get_callback_data() is None


async def test_empty_data_is_not_stored(store: CountingStore) -> None:
    persistence = StatePersistence(store)
    await persistence.update_user_data(7, {"a": 1})
    await persistence.update_user_data(7, {})
    assert await store.load("user_data") == {}
    writes = store.writes
    await persistence.update_user_data(7, {})  # known absent: no second delete
    assert store.writes == writes


async def test_unchanged_values_are_not_written_again(store: CountingStore) -> None:
    await store.save("user_data", "7", {"a": [1, 2]})
    persistence = StatePersistence(store)
    await persistence.get_user_data()
    store.writes = 0
    await persistence.update_user_data(7, {"a": [1, 2]})
    await persistence.update_conversation("t", (7, 7), 2)
    await persistence.update_conversation("t", (7, 7), 2)
    await persistence.update_callback_data(([("u1", 1.5, {"b": "x"})], {"q": "u1"}))
    await persistence.update_callback_data(([("u1", 1.5, {"b": "x"})], {"q": "u1"}))
    assert store.writes == 2


async def test_callback_data_comes_back_as_ptbs_tuples(store: CountingStore) -> None:
    data = ([("uuid-1", 1_700_000_000.25, {"btn": {"client": 7}})], {"query-1": "uuid-1"})
    await StatePersistence(store).update_callback_data(data)
    assert await StatePersistence(store).get_callback_data() == data


async def test_a_failed_write_is_retried_by_flush(store: CountingStore) -> None:
    persistence = StatePersistence(store)
    store.failures_left = 2
    with pytest.raises(ConnectionError):
        await persistence.update_conversation("t", (7, 7), 2)
    with pytest.raises(ConnectionError):
        await persistence.update_user_data(7, {"draft": {"name": "Ana"}})
    assert await store.load("conversations:t") == {}
    await persistence.flush()
    assert await store.load("conversations:t") == {"[7,7]": 2}
    assert await store.load("user_data") == {"7": {"draft": {"name": "Ana"}}}
    writes = store.writes
    await persistence.flush()  # nothing left to retry
    assert store.writes == writes


async def test_a_newer_value_replaces_a_failed_one(store: CountingStore) -> None:
    persistence = StatePersistence(store)
    store.failures_left = 1
    with pytest.raises(ConnectionError):
        await persistence.update_conversation("t", (7, 7), 1)
    await persistence.update_conversation("t", (7, 7), None)  # the conversation ended meanwhile
    await persistence.flush()
    assert await store.load("conversations:t") == {}


async def test_flush_reports_writes_it_still_cannot_make(store: CountingStore) -> None:
    persistence = StatePersistence(store)
    store.failures_left = 2  # the write, then the first flush
    with pytest.raises(ConnectionError):
        await persistence.update_user_data(7, {"a": 1})
    with pytest.raises(RuntimeError, match="1 piece"):
        await persistence.flush()
    await persistence.flush()
    assert await store.load("user_data") == {"7": {"a": 1}}


async def test_a_value_that_is_not_json_is_refused_before_the_store_is_called(
    store: CountingStore,
) -> None:
    persistence = StatePersistence(store)
    with pytest.raises(TypeError, match="tuple"):
        await persistence.update_user_data(7, {"pair": (1, 2)})
    assert store.writes == 0
    await persistence.flush()  # a refused value is not queued for retry
    assert store.writes == 0

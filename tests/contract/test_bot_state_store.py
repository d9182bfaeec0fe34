"""BotStateStore contract: plain-JSON values by (namespace, key), upserted, copied, isolated."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clientmgr.adapters.memory import InMemoryBotStateStore
from clientmgr.adapters.sql.bot_state import SqlAlchemyBotStateStore
from clientmgr.ports.bot_state import BotStateStore

NESTED: dict[str, Any] = {
    "step": "ask_phone",
    "draft": {
        "name": "José da Silva Araújo",
        "markup": "<b>_*[x]</b> `code` ~riscado~ \\ \"aspas\" 'simples'",
        "emoji": "💸✅🇧🇷👩🏽‍💻",
        "plans": [{"name": "Básico", "price": "49.90"}, {"name": "Pro", "price": "99.90"}],
        "notes": "ç" * 10_000,
        "nul": "antes\u0000depois",
        "empty": {"list": [], "dict": {}, "text": ""},
    },
    "numbers": [0, -1, 2**63 - 1, 10**30, 0.1, -2.5e-300, 1e300],
    "flags": [True, False, None],
    "deep": [[[[{"a": [[[]]]}]]]],
}


@pytest.fixture
def store(session_factory: async_sessionmaker[AsyncSession] | None) -> BotStateStore:
    if session_factory is None:
        return InMemoryBotStateStore()
    return SqlAlchemyBotStateStore(session_factory)


async def test_an_unknown_namespace_is_empty(store: BotStateStore) -> None:
    assert await store.load("user_data") == {}


async def test_nested_json_round_trips(store: BotStateStore) -> None:
    await store.save("user_data", "123456789", NESTED)
    await store.save("conversations:add_client", "[123,456]", 3)
    await store.save("conversations:add_client", "[123,789]", "ASK_NAME")
    assert await store.load("user_data") == {"123456789": NESTED}
    assert await store.load("conversations:add_client") == {"[123,456]": 3, "[123,789]": "ASK_NAME"}


@pytest.mark.parametrize(
    "value", [None, True, 0, -7, 3.25, "", "texto", [], {}, [1, "dois", None], {"k": "v"}]
)
async def test_scalars_and_empty_containers_round_trip(store: BotStateStore, value: Any) -> None:
    await store.save("bot_data", "value", value)
    loaded = (await store.load("bot_data"))["value"]
    assert loaded == value
    assert type(loaded) is type(value)


async def test_save_replaces_only_that_key(store: BotStateStore) -> None:
    await store.save("user_data", "1", {"step": "name"})
    await store.save("user_data", "2", {"step": "name"})
    await store.save("user_data", "1", {"step": "phone", "name": "Ana"})
    assert await store.load("user_data") == {
        "1": {"step": "phone", "name": "Ana"},
        "2": {"step": "name"},
    }


async def test_delete_removes_the_key_and_absent_keys_are_fine(store: BotStateStore) -> None:
    await store.save("chat_data", "10", {"a": 1})
    await store.save("chat_data", "20", {"b": 2})
    await store.delete("chat_data", "10")
    await store.delete("chat_data", "10")
    await store.delete("chat_data", "never-there")
    await store.delete("no-such-namespace", "10")
    assert await store.load("chat_data") == {"20": {"b": 2}}
    await store.delete("chat_data", "20")
    assert await store.load("chat_data") == {}


async def test_namespaces_are_isolated(store: BotStateStore) -> None:
    await store.save("user_data", "42", {"who": "user"})
    await store.save("chat_data", "42", {"who": "chat"})
    await store.save("conversations:a", "[42,42]", 1)
    await store.save("conversations:b", "[42,42]", 2)
    await store.delete("chat_data", "42")
    assert await store.load("user_data") == {"42": {"who": "user"}}
    assert await store.load("chat_data") == {}
    assert await store.load("conversations:a") == {"[42,42]": 1}
    assert await store.load("conversations:b") == {"[42,42]": 2}
    assert await store.load("conversations:") == {}


async def test_values_are_copies_both_ways(store: BotStateStore) -> None:
    value = {"draft": {"name": "Ana"}, "items": [1, 2]}
    await store.save("user_data", "1", value)
    value["draft"]["name"] = "changed after save"
    value["items"].append(3)

    loaded = await store.load("user_data")
    assert loaded == {"1": {"draft": {"name": "Ana"}, "items": [1, 2]}}
    loaded["1"]["draft"]["name"] = "changed after load"
    loaded["1"]["items"].clear()
    loaded["2"] = {}

    assert await store.load("user_data") == {"1": {"draft": {"name": "Ana"}, "items": [1, 2]}}


@pytest.mark.parametrize(
    "value",
    [
        {1: "int key"},
        {"nested": {(1, 2): "tuple key"}},
        (1, 2),
        {"items": [1, (2, 3)]},
        {1, 2},
        b"bytes",
        datetime(2026, 3, 4, tzinfo=UTC),
        float("nan"),
        {"inf": float("inf")},
        object(),
    ],
    ids=repr,
)
async def test_what_is_not_plain_json_is_refused_and_nothing_stored(
    store: BotStateStore, value: Any
) -> None:
    await store.save("user_data", "1", {"kept": True})
    with pytest.raises(TypeError, match="cannot be stored as JSON"):
        await store.save("user_data", "1", value)
    with pytest.raises(TypeError):
        await store.save("user_data", "2", value)
    assert await store.load("user_data") == {"1": {"kept": True}}


async def test_a_value_containing_itself_is_refused(store: BotStateStore) -> None:
    loop: list[Any] = [1]
    loop.append({"back": loop})
    with pytest.raises(TypeError, match="contains itself"):
        await store.save("user_data", "1", loop)
    shared = [1, 2]
    await store.save("user_data", "2", {"a": shared, "b": shared})  # shared is not a cycle
    assert await store.load("user_data") == {"2": {"a": [1, 2], "b": [1, 2]}}


async def test_the_error_names_where_the_bad_part_is(store: BotStateStore) -> None:
    with pytest.raises(TypeError, match=r"value\['draft'\]\['items'\]\[1\].*tuple"):
        await store.save("user_data", "1", {"draft": {"items": [1, (2, 3)]}})


async def test_enum_subclasses_come_back_as_their_plain_values(store: BotStateStore) -> None:
    from enum import IntEnum, StrEnum

    class Step(IntEnum):
        NAME = 1

    class Kind(StrEnum):
        PIX = "pix"

    await store.save("conversations:x", "[1]", Step.NAME)
    await store.save("user_data", "1", {"kind": Kind.PIX})
    assert await store.load("conversations:x") == {"[1]": 1}
    assert await store.load("user_data") == {"1": {"kind": "pix"}}


async def test_concurrent_saves_of_different_keys_all_land(store: BotStateStore) -> None:
    # python-telegram-bot saves every changed user at once with asyncio.gather.
    await asyncio.gather(*(store.save("user_data", str(i), {"n": i}) for i in range(25)))
    await asyncio.gather(*(store.delete("user_data", str(i)) for i in range(0, 25, 2)))
    assert await store.load("user_data") == {str(i): {"n": i} for i in range(1, 25, 2)}


async def test_keys_may_be_any_text(store: BotStateStore) -> None:
    keys = ["", " ", "[1,2]", '["a","b"]', "ação 🇧🇷", "k" * 2_000, "a'b\"c;--"]
    for index, key in enumerate(keys):
        await store.save("ns with spaces:ção", key, index)
    assert await store.load("ns with spaces:ção") == {key: i for i, key in enumerate(keys)}

"""The bot-state port: a small JSON key-value store, so conversations survive a restart.

The Telegram adapter keeps each seller's conversation step and half-typed answers here
(python-telegram-bot's ``user_data``, ``chat_data`` and conversation states), grouped by
namespace: ``"user_data"``, ``"chat_data"``, ``"bot_data"``, ``"conversations:<name>"``,
``"callback_data"``. Every call is its own transaction, committed when it returns: this
state belongs to the bot process, not to a use case's unit of work.

Values are *plain* JSON, checked by ``encode_json`` before anything is stored: dicts with
str keys, lists, str, int, finite float, bool and None. Python's ``json`` would quietly turn
``{1: "a"}`` into ``{"1": "a"}`` and a tuple into a list, so a handler would see different
data after a restart than before it; refusing those up front makes the mistake show up the
first time the state is saved, not the first time the bot restarts. The encoder lives here,
beside the port, so every implementation accepts and returns exactly the same values.
"""

from __future__ import annotations

import json
import math
from typing import Any, Protocol

__all__ = ["BotStateStore", "decode_json", "encode_json"]


class BotStateStore(Protocol):
    async def load(self, namespace: str) -> dict[str, Any]:
        """Every key in ``namespace`` with its value; empty when there are none.

        The values are fresh copies: changing them changes nothing stored.
        """

    async def save(self, namespace: str, key: str, value: Any) -> None:
        """Insert or replace ``key``'s value (a copy is stored, never the object itself).

        Raises TypeError, storing nothing, when ``value`` is not plain JSON (see the module
        docstring).
        """

    async def delete(self, namespace: str, key: str) -> None:
        """Remove ``key`` from ``namespace``; a key that is not there is fine."""


class _UnstorableError(Exception):
    """Internal: where in a value the first non-JSON part sits, built while unwinding."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = []


def encode_json(value: Any) -> str:
    """``value`` as compact JSON text; TypeError naming the spot when it is not plain JSON."""
    try:
        _check(value, set())
    except _UnstorableError as exc:
        where = "value" + "".join(reversed(exc.path))
        raise TypeError(f"{where} cannot be stored as JSON: {exc.reason}") from None
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def decode_json(text: str) -> Any:
    """The value ``encode_json`` turned into ``text`` (always a new object)."""
    return json.loads(text)


def _check(value: Any, open_containers: set[int]) -> None:
    # bool and IntEnum are ints, StrEnum a str: they come back as the plain type, which
    # compares (and hashes) equal, so a ConversationHandler state enum still matches.
    if value is None or isinstance(value, str | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _UnstorableError(f"{value!r} is not a finite number")
        return
    if not isinstance(value, list | dict):
        raise _UnstorableError(
            f"a {type(value).__name__} is not plain JSON (use dict, list, str, int, float, "
            "bool or None)"
        )
    if id(value) in open_containers:
        raise _UnstorableError("it contains itself")
    open_containers.add(id(value))
    try:
        if isinstance(value, list):
            for index, item in enumerate(value):
                _check_item(item, f"[{index}]", open_containers)
        else:
            for key, item in value.items():
                if not isinstance(key, str):
                    raise _UnstorableError(
                        f"dict key {key!r} is a {type(key).__name__}; JSON keys are str"
                    )
                _check_item(item, f"[{key!r}]", open_containers)
    finally:
        open_containers.discard(id(value))


def _check_item(item: Any, step: str, open_containers: set[int]) -> None:
    try:
        _check(item, open_containers)
    except _UnstorableError as exc:
        exc.path.append(step)
        raise

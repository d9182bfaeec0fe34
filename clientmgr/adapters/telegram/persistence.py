"""python-telegram-bot persistence over a ``BotStateStore``: conversations survive a restart.

A seller halfway through "add client" (name typed, phone not yet) finds the bot still
waiting for the phone after a deploy. PTB hands us ``user_data``, ``chat_data``, conversation
states and (if used) arbitrary callback data; each goes to the store as plain JSON::

    namespace                 key                        value
    "user_data"               str(user_id)               the user's dict
    "chat_data"               str(chat_id)               the chat's dict
    "bot_data"                "bot_data"                 the whole dict (off by default)
    "conversations:<name>"    JSON of the key tuple      the state, e.g. 2 or "ASK_PHONE"
    "callback_data"           "callback_data"            PTB's CallbackDataCache contents

Rules for handlers (enforced: anything else is refused with TypeError, which PTB reports to
the error handler the next time it saves):

* Put only plain JSON in ``context.user_data`` / ``chat_data``: dicts with **str** keys,
  lists, str, int, float, bool, None. No attrs objects, Decimals, dates or tuples: store
  ``str(amount)``, ``day.isoformat()``, a list. An IntEnum/StrEnum comes back as its plain
  int/str (equal to the member, so it still works as a ConversationHandler state).
* ``bot_data`` is not persisted unless asked for: it carries the ``BotServices`` the handlers
  reach through ``context.services``, which is rebuilt at start-up and is not JSON (PTB would
  also replace it with the stored dict on ``initialize()``).

PTB calls the ``update_*`` methods every ``update_interval`` seconds (1 s here, so little is
lost if the process is killed) and once more in ``Application.shutdown()``; unchanged values
are not written again. A write that fails is kept and retried by ``flush()``, which PTB runs
last on a clean shutdown.
"""

from __future__ import annotations

import json
from typing import Any, Final

from telegram.ext import BasePersistence, PersistenceInput

from clientmgr.ports.bot_state import BotStateStore, encode_json

__all__ = ["DEFAULT_STORE_DATA", "StatePersistence"]

Data = dict[str, Any]
ConversationKey = tuple[int | str, ...]
CallbackCacheData = tuple[list[tuple[str, float, dict[str, Any]]], dict[str, str]]
"""What ``CallbackDataCache.persistence_data`` holds (PTB's private ``CallbackCacheData``)."""

DEFAULT_STORE_DATA: Final = PersistenceInput(
    bot_data=False, chat_data=True, user_data=True, callback_data=True
)
"""What is persisted unless told otherwise: everything but ``bot_data`` (see the module doc)."""

USER_DATA: Final = "user_data"
CHAT_DATA: Final = "chat_data"
BOT_DATA: Final = "bot_data"
CALLBACK_DATA: Final = "callback_data"
CONVERSATIONS: Final = "conversations:"

_DELETED: Final = object()
"""Marks a failed delete waiting in ``_unsaved``."""


class StatePersistence(BasePersistence[Data, Data, Data]):
    """``BasePersistence`` writing through to a ``BotStateStore`` (one row per user, chat, state).

    Reads happen once, when the application initialises; ``refresh_*`` do nothing because
    this process is the only writer (Telegram delivers each bot's updates to one consumer).
    """

    __slots__ = ("_saved", "_store", "_unsaved")

    def __init__(
        self,
        store: BotStateStore,
        *,
        store_data: PersistenceInput = DEFAULT_STORE_DATA,
        update_interval: float = 1.0,
    ) -> None:
        super().__init__(store_data=store_data, update_interval=update_interval)
        self._store = store
        # JSON text last known to be in the store per (namespace, key), None when known to be
        # absent: PTB hands over every user it saw each run (and the callback cache every
        # run), mostly unchanged, and an empty user_data for each user with nothing stored.
        self._saved: dict[tuple[str, str], str | None] = {}
        # Writes that failed, newest value per (namespace, key); retried by flush().
        self._unsaved: dict[tuple[str, str], Any] = {}

    # -- loading (once, in Application.initialize) ------------------------------------------

    async def get_user_data(self) -> dict[int, Data]:
        return {int(key): value for key, value in (await self._load(USER_DATA)).items()}

    async def get_chat_data(self) -> dict[int, Data]:
        return {int(key): value for key, value in (await self._load(CHAT_DATA)).items()}

    async def get_bot_data(self) -> Data:
        stored = (await self._load(BOT_DATA)).get(BOT_DATA)
        return {} if stored is None else stored

    async def get_callback_data(self) -> CallbackCacheData | None:
        stored = (await self._load(CALLBACK_DATA)).get(CALLBACK_DATA)
        if stored is None:
            return None
        keyboards = [(uuid, float(stamp), buttons) for uuid, stamp, buttons in stored["keyboards"]]
        return keyboards, dict(stored["queries"])

    async def get_conversations(self, name: str) -> dict[ConversationKey, object]:
        stored = await self._load(CONVERSATIONS + name)
        return {_conversation_key(key): state for key, state in stored.items()}

    # -- saving (every update_interval and at shutdown) --------------------------------------

    async def update_user_data(self, user_id: int, data: Data) -> None:
        await self._write(USER_DATA, str(user_id), data or _DELETED)

    async def update_chat_data(self, chat_id: int, data: Data) -> None:
        await self._write(CHAT_DATA, str(chat_id), data or _DELETED)

    async def update_bot_data(self, data: Data) -> None:
        await self._write(BOT_DATA, BOT_DATA, data)

    async def update_callback_data(self, data: CallbackCacheData) -> None:
        keyboards, queries = data
        value = {
            "keyboards": [[uuid, stamp, buttons] for uuid, stamp, buttons in keyboards],
            "queries": queries,
        }
        await self._write(CALLBACK_DATA, CALLBACK_DATA, value)

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        # PTB passes None when the conversation ended (or its key was dropped).
        value = _DELETED if new_state is None else new_state
        await self._write(CONVERSATIONS + name, _conversation_text(key), value)

    async def drop_user_data(self, user_id: int) -> None:
        await self._write(USER_DATA, str(user_id), _DELETED)

    async def drop_chat_data(self, chat_id: int) -> None:
        await self._write(CHAT_DATA, str(chat_id), _DELETED)

    # -- the rest of the interface ------------------------------------------------------------

    async def refresh_user_data(self, user_id: int, user_data: Data) -> None:
        """Nothing to do: no other process changes this bot's state."""

    async def refresh_chat_data(self, chat_id: int, chat_data: Data) -> None:
        """Nothing to do: no other process changes this bot's state."""

    async def refresh_bot_data(self, bot_data: Data) -> None:
        """Nothing to do: no other process changes this bot's state."""

    async def flush(self) -> None:
        """Retry the writes that failed; raise if some still cannot be saved.

        Every successful ``update_*`` already reached the store, so this is all a clean
        shutdown has left to do.
        """
        failures: list[Exception] = []
        for (namespace, key), value in list(self._unsaved.items()):
            try:
                await self._write(namespace, key, value)
            except Exception as exc:  # keep trying the others; report them all below
                failures.append(exc)
        if failures:
            raise RuntimeError(
                f"{len(failures)} piece(s) of bot state could not be saved: {failures[0]!r}"
            ) from failures[0]

    # -- helpers ------------------------------------------------------------------------------

    async def _load(self, namespace: str) -> dict[str, Any]:
        stored = await self._store.load(namespace)
        for key, value in stored.items():
            self._saved[namespace, key] = encode_json(value)
        return stored

    async def _write(self, namespace: str, key: str, value: Any) -> None:
        slot = (namespace, key)
        text = None if value is _DELETED else encode_json(value)  # TypeError: not plain JSON
        if slot not in self._unsaved and slot in self._saved and self._saved[slot] == text:
            return
        self._saved.pop(slot, None)  # unknown until this write is known to have landed
        try:
            if text is None:
                await self._store.delete(namespace, key)
            else:
                await self._store.save(namespace, key, value)
        except Exception:
            self._unsaved[slot] = value
            raise
        self._unsaved.pop(slot, None)
        self._saved[slot] = text


def _conversation_text(key: ConversationKey) -> str:
    """A conversation key tuple, e.g. ``(chat_id, user_id)``, as a store key: ``"[1,2]"``."""
    return json.dumps(list(key), separators=(",", ":"))


def _conversation_key(text: str) -> ConversationKey:
    return tuple(json.loads(text))

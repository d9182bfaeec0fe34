"""The bot's conversation state in a dict, held to the same contract as the SQL table."""

from __future__ import annotations

from typing import Any

from clientmgr.ports.bot_state import decode_json, encode_json

__all__ = ["InMemoryBotStateStore"]


class InMemoryBotStateStore:
    """Implements ``BotStateStore``; lost with the process (tests and the offline playground).

    Values are kept as the JSON text the SQL adapter would store, so saving and loading copy
    them (a caller can never change stored state by mutating what it passed or got back) and
    the fake accepts and returns exactly what the database does.
    """

    def __init__(self) -> None:
        self._namespaces: dict[str, dict[str, str]] = {}

    async def load(self, namespace: str) -> dict[str, Any]:
        stored = self._namespaces.get(namespace, {})
        return {key: decode_json(text) for key, text in stored.items()}

    async def save(self, namespace: str, key: str, value: Any) -> None:
        text = encode_json(value)
        self._namespaces.setdefault(namespace, {})[key] = text

    async def delete(self, namespace: str, key: str) -> None:
        stored = self._namespaces.get(namespace)
        if stored is None:
            return
        stored.pop(key, None)
        if not stored:
            del self._namespaces[namespace]

"""The bot's conversation state in SQL: one ``bot_state`` row per (namespace, key)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from clientmgr.adapters.sql.repositories._common import insert_for
from clientmgr.adapters.sql.tables import bot_state_table as t
from clientmgr.ports.bot_state import decode_json, encode_json
from clientmgr.ports.clock import Clock, SystemClock

__all__ = ["SqlAlchemyBotStateStore"]


class SqlAlchemyBotStateStore:
    """Implements ``BotStateStore``; each call is one short transaction of its own.

    Not part of the unit of work on purpose: python-telegram-bot saves this state on its own
    schedule, after the handler's use case has committed or rolled back.
    """

    def __init__(
        self, session_factory: async_sessionmaker[AsyncSession], clock: Clock | None = None
    ) -> None:
        self._session_factory = session_factory
        self._clock = clock or SystemClock()

    async def load(self, namespace: str) -> dict[str, Any]:
        query = select(t.c.key, t.c.value).where(t.c.namespace == namespace)
        async with self._session_factory() as session:
            rows = (await session.execute(query)).all()
        return {key: decode_json(value) for key, value in rows}

    async def save(self, namespace: str, key: str, value: Any) -> None:
        text = encode_json(value)  # refuses what is not plain JSON before touching the database
        async with self._session_factory() as session:
            statement = insert_for(session, t).values(
                namespace=namespace, key=key, value=text, updated_at=self._clock.now()
            )
            statement = statement.on_conflict_do_update(
                index_elements=[t.c.namespace, t.c.key],
                set_={
                    "value": statement.excluded.value,
                    "updated_at": statement.excluded.updated_at,
                },
            )
            await session.execute(statement)
            await session.commit()

    async def delete(self, namespace: str, key: str) -> None:
        async with self._session_factory() as session:
            await session.execute(delete(t).where(t.c.namespace == namespace, t.c.key == key))
            await session.commit()

"""Alembic environment, async-aware and usable without alembic.ini.

``clientmgr.adapters.sql.migrate`` hands over an open connection in
``config.attributes["connection"]``; the plain ``alembic`` command (for writing new
revisions: ``alembic -x url=sqlite:///dev.db revision --autogenerate -m "..."`` with
``script_location`` pointing here) connects itself from ``-x url=``, ``sqlalchemy.url`` or
``DATABASE_URL``. SQLite runs in batch mode, since it cannot ALTER most things in place.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from clientmgr.adapters.sql.engine import create_engine
from clientmgr.adapters.sql.tables import metadata
from clientmgr.adapters.sql.urls import is_sqlite, resolve_database_url

config = context.config


def _url() -> str:
    raw = (
        context.get_x_argument(as_dictionary=True).get("url")
        or config.get_main_option("sqlalchemy.url")
        or os.environ.get("DATABASE_URL")
    )
    return resolve_database_url(raw)


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run)
            await connection.commit()
    finally:
        await engine.dispose()


def run_migrations_offline() -> None:
    url = _url()
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=is_sqlite(url),
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
    else:
        asyncio.run(_run_with_own_engine(_url()))


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

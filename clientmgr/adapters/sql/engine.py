"""The async engine and session factory, with the SQLite settings that make it a fair database.

SQLite needs care to behave like PostgreSQL does for a unit of work:

* ``PRAGMA foreign_keys=ON`` (off by default), WAL (readers never block the writer) and a
  busy timeout so a second writer waits instead of failing at once;
* transactions that hold: Python's sqlite3 driver does not BEGIN before a SAVEPOINT, so
  a released savepoint would escape a later ROLLBACK. We take transaction control from
  the driver and emit ``BEGIN IMMEDIATE`` ourselves right before the first statement that
  writes (or opens a savepoint). Reads before that see the latest committed data, like
  PostgreSQL's READ COMMITTED, and a transaction that read first and writes later queues
  for the write lock instead of failing with "database is locked" as a deferred BEGIN
  would once another connection has committed in between.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.ext.asyncio import create_async_engine as _create_async_engine

from clientmgr.adapters.sql.urls import normalise_database_url
from clientmgr.errors import ConfigError

__all__ = ["SQLITE_BUSY_TIMEOUT", "create_engine", "create_session_factory"]

SQLITE_BUSY_TIMEOUT = 15.0
"""Seconds a SQLite writer waits for another one to finish before giving up."""

_WRITE_VERBS = frozenset(
    {"INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "CREATE", "DROP", "ALTER", "WITH"}
)


def create_engine(url: str, *, echo: bool = False, **engine_options: Any) -> AsyncEngine:
    """An async engine for ``url`` (normalised first, so a raw DATABASE_URL is fine).

    ``engine_options`` go to SQLAlchemy unchanged (e.g. ``connect_args`` with a PostgreSQL
    ``server_settings`` search path); they override the defaults chosen here.
    """
    normalised = normalise_database_url(url)
    is_sqlite = normalised.startswith("sqlite")
    options: dict[str, Any] = {"echo": echo}
    if is_sqlite:
        _create_parent_directory(normalised)
        connect_args = {"timeout": SQLITE_BUSY_TIMEOUT, "isolation_level": None}
        connect_args.update(engine_options.pop("connect_args", {}))
        options["connect_args"] = connect_args
    elif "poolclass" not in engine_options:
        # Small pools: each replica (bot, web, worker) holds its own, and hosted Postgres
        # plans often cap connections around 20-100.
        options.update(pool_size=5, max_overflow=5, pool_pre_ping=True, pool_recycle=1800)
    options.update(engine_options)
    try:
        engine = _create_async_engine(normalised, **options)
    except (ArgumentError, InvalidRequestError, ModuleNotFoundError) as exc:
        raise ConfigError(f"cannot use DATABASE_URL {_redacted(normalised)}: {exc}") from exc
    if is_sqlite:
        _configure_sqlite(engine)
    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose loaded values stay readable after commit (no lazy I/O behind our back)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _begin_before_first_write(
        conn: Connection,
        cursor: Any,
        statement: str,
        _parameters: Any,
        _context: Any,
        _executemany: bool,
    ) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else ""
        if verb not in _WRITE_VERBS:
            return
        dbapi_connection = conn.connection.dbapi_connection
        if not _in_transaction(dbapi_connection):
            cursor.execute("BEGIN IMMEDIATE")


def _create_parent_directory(url: str) -> None:
    # "sqlite:///data/clientmgr.db" on a fresh volume: SQLite creates the file, not the folder.
    database = make_url(url).database
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).parent.mkdir(parents=True, exist_ok=True)


def _in_transaction(dbapi_connection: Any) -> bool:
    # aiosqlite's adapter wraps aiosqlite.Connection (``_connection``), which reports the
    # sqlite3 connection's own flag; a plain sqlite3 connection has it directly.
    inner = getattr(dbapi_connection, "_connection", dbapi_connection)
    return bool(inner.in_transaction)


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)

"""Backends for the contract suite: in-memory, SQLite (a migrated temp file) and PostgreSQL.

PostgreSQL comes from ``TEST_DATABASE_URL`` (default: the local ``test`` database). Each run
migrates a fresh schema ``cm_test_<random>`` (reached through the connection's
``search_path``) and drops it at the end; tables are truncated before every test. When the
server cannot be reached the postgres tests fail, naming the URL and how to start it: a
skipped backend would let a broken adapter through unnoticed.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.pool import NullPool

from clientmgr.adapters.memory import InMemoryStore
from clientmgr.adapters.sql.engine import create_engine, create_session_factory
from clientmgr.adapters.sql.migrate import migrate
from clientmgr.adapters.sql.tables import metadata
from clientmgr.adapters.sql.unit_of_work import sql_unit_of_work_factory
from clientmgr.ports.repositories import UnitOfWorkFactory

BACKENDS = ["memory", "sqlite", "postgres"]
SQL_BACKENDS = ["sqlite", "postgres"]
POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
_HOW_TO_START = (
    "start it with `pg_ctlcluster --skip-systemctl-redirect 15 main start` "
    "or point TEST_DATABASE_URL at a PostgreSQL you can create schemas in"
)


@dataclass(frozen=True)
class Backend:
    """How a test reaches one storage backend."""

    name: str
    url: str | None = None
    engine_options: dict[str, Any] = field(default_factory=dict)

    def engine(self) -> AsyncEngine:
        assert self.url is not None
        return create_engine(self.url, **self.engine_options)


def postgres_options(schema: str) -> dict[str, Any]:
    return {"connect_args": {"server_settings": {"search_path": schema}, "timeout": 10}}


async def postgres_admin(sql: str) -> None:
    """Run one statement outside any test schema (CREATE/DROP SCHEMA)."""
    engine = create_engine(POSTGRES_URL, poolclass=NullPool, connect_args={"timeout": 10})
    try:
        async with engine.connect() as connection:
            await connection.exec_driver_sql(sql)
            await connection.commit()
    finally:
        await engine.dispose()


def create_postgres_schema(prefix: str = "cm_test") -> str:
    """A new empty schema; fails the calling test when PostgreSQL is unreachable."""
    schema = f"{prefix}_{secrets.token_hex(4)}"
    problem = None
    try:
        asyncio.run(postgres_admin(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:  # failed outside the except block, to keep the report short
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is not usable ({problem}); {_HOW_TO_START}.",
            pytrace=False,
        )
    return schema


def drop_postgres_schema(schema: str) -> None:
    asyncio.run(postgres_admin(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


@pytest.fixture(scope="session")
def postgres_schema() -> Iterator[str]:
    """One migrated schema for the whole run."""
    schema = create_postgres_schema()
    try:
        engine = create_engine(POSTGRES_URL, poolclass=NullPool, **postgres_options(schema))

        async def _migrate() -> None:
            try:
                await migrate(engine)
            finally:
                await engine.dispose()

        asyncio.run(_migrate())
        yield schema
    finally:
        drop_postgres_schema(schema)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file each test copies, so migrating happens once per run."""
    path = tmp_path_factory.mktemp("sqlite-template") / "clientmgr.db"
    asyncio.run(migrate(f"sqlite:///{path}"))
    return path


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Backend:
    name: str = request.param
    if name == "sqlite":
        path = tmp_path / "clientmgr.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        return Backend(name, f"sqlite:///{path}")
    if name == "postgres":
        schema = request.getfixturevalue("postgres_schema")
        return Backend(name, POSTGRES_URL, postgres_options(schema))
    return Backend(name)


@pytest.fixture
async def uow_factory(backend: Backend) -> AsyncIterator[UnitOfWorkFactory]:
    """A ``UnitOfWorkFactory`` on an empty, migrated database of each backend."""
    if backend.name == "memory":
        yield InMemoryStore().unit_of_work
        return
    engine = backend.engine()
    try:
        await _empty_tables(backend, engine)
        yield sql_unit_of_work_factory(create_session_factory(engine))
    finally:
        await engine.dispose()


@pytest.fixture
async def session_factory(
    backend: Backend,
) -> AsyncIterator[async_sessionmaker[AsyncSession] | None]:
    """Sessions on an empty, migrated database, for adapters that live outside the unit of
    work (e.g. the bot state store); None for the memory backend."""
    if backend.name == "memory":
        yield None
        return
    engine = backend.engine()
    try:
        await _empty_tables(backend, engine)
        yield create_session_factory(engine)
    finally:
        await engine.dispose()


async def _empty_tables(backend: Backend, engine: AsyncEngine) -> None:
    # SQLite tests get a fresh copy of the template; the PostgreSQL schema is shared per run.
    if backend.name == "postgres":
        tables = ", ".join(table.name for table in metadata.sorted_tables)
        async with engine.begin() as connection:
            await connection.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")


@pytest.fixture(params=SQL_BACKENDS)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    """A database with nothing in it, not even alembic's table (for migration tests)."""
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'empty.db'}")
        return
    schema = create_postgres_schema("cm_test_empty")
    try:
        yield Backend("postgres", POSTGRES_URL, postgres_options(schema))
    finally:
        drop_postgres_schema(schema)

"""Migrations and DATABASE_URL handling: upgrade is repeatable, start-up refuses an old schema."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection

from clientmgr.adapters.sql.migrate import (
    current_revision,
    ensure_schema_current,
    head_revision,
    migrate,
)
from clientmgr.adapters.sql.tables import metadata
from clientmgr.adapters.sql.urls import (
    DEFAULT_DATABASE_URL,
    normalise_database_url,
    resolve_database_url,
)
from clientmgr.errors import ConfigError, SchemaOutdatedError

from .conftest import Backend


async def test_empty_database_is_refused_with_the_command_to_run(empty_database: Backend) -> None:
    engine = empty_database.engine()
    try:
        assert await current_revision(engine) is None
        with pytest.raises(SchemaOutdatedError) as raised:
            await ensure_schema_current(engine)
    finally:
        await engine.dispose()
    assert raised.value.current is None
    assert raised.value.head == head_revision()
    assert "clientmgr migrate" in str(raised.value)


async def test_migrate_reaches_head_and_twice_is_a_no_op(empty_database: Backend) -> None:
    engine = empty_database.engine()
    try:
        await migrate(engine)
        await migrate(engine)
        assert await current_revision(engine) == head_revision()
        await ensure_schema_current(engine)
    finally:
        await engine.dispose()


async def test_migrated_schema_matches_the_table_definitions(empty_database: Backend) -> None:
    def differences(connection: Connection) -> list[object]:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))

    engine = empty_database.engine()
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(differences) == []
    finally:
        await engine.dispose()


async def test_a_revision_from_a_newer_release_is_a_config_error(empty_database: Backend) -> None:
    engine = empty_database.engine()
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'ffff9999'"))
        with pytest.raises(ConfigError, match="ffff9999"):
            await ensure_schema_current(engine)
    finally:
        await engine.dispose()


async def test_migrate_takes_a_plain_sqlite_url(tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    with pytest.raises(SchemaOutdatedError):
        await ensure_schema_current(url)
    await migrate(url)
    assert await current_revision(url) == head_revision()
    await ensure_schema_current(url)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("postgres://u:p@host:5432/railway", "postgresql+asyncpg://u:p@host:5432/railway"),
        ("postgresql://u:p@host/db", "postgresql+asyncpg://u:p@host/db"),
        ("postgresql://u:p%40ss@host/db", "postgresql+asyncpg://u:p%40ss@host/db"),
        ("postgres://u@h/db?sslmode=require", "postgresql+asyncpg://u@h/db?ssl=require"),
        ("postgresql+asyncpg://u@h/db", "postgresql+asyncpg://u@h/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:///./clientmgr.db", "sqlite+aiosqlite:///./clientmgr.db"),
        ("sqlite:////var/data/c.db", "sqlite+aiosqlite:////var/data/c.db"),
        ("sqlite+aiosqlite:///x.db", "sqlite+aiosqlite:///x.db"),
        ("  postgres://u@h/db  ", "postgresql+asyncpg://u@h/db"),
    ],
)
def test_database_url_normalisation(raw: str, expected: str) -> None:
    assert normalise_database_url(raw) == expected
    assert normalise_database_url(expected) == expected


@pytest.mark.parametrize("raw", ["", "   ", "mysql://u@h/db", "not a url"])
def test_unusable_database_urls_are_config_errors(raw: str) -> None:
    with pytest.raises(ConfigError):
        normalise_database_url(raw)


def test_unset_database_url_means_embedded_sqlite() -> None:
    assert resolve_database_url(None) == DEFAULT_DATABASE_URL
    assert resolve_database_url(" ") == DEFAULT_DATABASE_URL
    assert DEFAULT_DATABASE_URL.startswith("sqlite+aiosqlite:///")
    assert resolve_database_url("postgres://u@h/db") == "postgresql+asyncpg://u@h/db"

"""Run and check alembic migrations from code (``clientmgr migrate``, start-up checks, tests).

The alembic configuration is built here, pointing at the migrations inside this package,
so it works from an installed wheel with no ``alembic.ini`` around. Each function takes a
database URL (raw DATABASE_URL is fine) or an existing ``AsyncEngine``.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from clientmgr.adapters.sql.engine import create_engine
from clientmgr.errors import ConfigError, SchemaOutdatedError

__all__ = [
    "MIGRATIONS_DIR",
    "alembic_config",
    "current_revision",
    "ensure_schema_current",
    "head_revision",
    "migrate",
]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

# Several replicas may start (and migrate) at once on PostgreSQL: they take turns.
_MIGRATION_LOCK_ID = 0x636C69656E746D67  # "clientmg"


def alembic_config(url: str | None = None) -> Config:
    """An alembic ``Config`` for this package's migrations; ``url`` only for the plain CLI path."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str:
    """The newest revision this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


async def migrate(target: str | AsyncEngine, revision: str = "head") -> None:
    """Upgrade the database to ``revision`` (the newest by default); a no-op when already there."""
    engine, owned = _engine(target)
    try:
        async with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                await _migrate_sqlite(connection, revision)
            else:
                await connection.execute(
                    text("SELECT pg_advisory_xact_lock(:id)"), {"id": _MIGRATION_LOCK_ID}
                )
                await connection.run_sync(_upgrade, revision)
                await connection.commit()
    finally:
        if owned:
            await engine.dispose()


async def current_revision(target: str | AsyncEngine) -> str | None:
    """The database's revision, None when it was never migrated."""
    engine, owned = _engine(target)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_current)
    finally:
        if owned:
            await engine.dispose()


async def ensure_schema_current(target: str | AsyncEngine) -> None:
    """Raise SchemaOutdatedError (run ``clientmgr migrate``) unless the database is at the head.

    A revision this code does not know means the database was migrated by a newer
    release: that raises ConfigError, since migrating cannot help.
    """
    current = await current_revision(target)
    head = head_revision()
    if current == head:
        return
    if current is not None:
        try:
            known = ScriptDirectory.from_config(alembic_config()).get_revision(current)
        except CommandError:
            known = None
        if known is None:
            raise ConfigError(
                f"The database is at revision {current}, which this version of clientmgr does "
                "not know (was it migrated by a newer release?)."
            )
    raise SchemaOutdatedError(current, head)


def _engine(target: str | AsyncEngine) -> tuple[AsyncEngine, bool]:
    if isinstance(target, AsyncEngine):
        return target, False
    return create_engine(target), True


async def _migrate_sqlite(connection: AsyncConnection, revision: str) -> None:
    # Batch mode rebuilds a table to change it, which foreign keys would block or cascade
    # through; they are switched off meanwhile (only possible outside a transaction) and
    # checked as a whole before the migration commits.
    await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    try:
        await connection.run_sync(_upgrade, revision)
        broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
        if broken:
            await connection.rollback()
            raise RuntimeError(f"migration left rows with broken foreign keys: {broken[:5]}")
        await connection.commit()
    finally:
        await connection.exec_driver_sql("PRAGMA foreign_keys=ON")


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()

"""DATABASE_URL as hosts hand it out (``postgres://…`` on Railway) made an async SQLAlchemy URL."""

from __future__ import annotations

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from clientmgr.errors import ConfigError

__all__ = [
    "DEFAULT_DATABASE_URL",
    "is_sqlite",
    "normalise_database_url",
    "resolve_database_url",
]

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./clientmgr.db"
"""The embedded database used when DATABASE_URL is not set: a file in the working directory."""

_ASYNC_DRIVERS = {
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "sqlite": "sqlite+aiosqlite",
}

# libpq spells TLS as ``sslmode=``; asyncpg takes the same values as ``ssl=``. Passing
# ``sslmode`` through would make asyncpg.connect() fail with an unexpected keyword.
_LIBPQ_TO_ASYNCPG = {"sslmode": "ssl", "connect_timeout": "timeout"}


def _parse(raw: str) -> URL:
    try:
        return make_url(raw.strip())
    except ArgumentError as exc:
        raise ConfigError(
            "DATABASE_URL is not a database URL: expected something like "
            "postgresql://user:password@host:5432/dbname or sqlite:///./clientmgr.db"
        ) from exc


def normalise_database_url(raw: str) -> str:
    """An async SQLAlchemy URL for ``raw``; explicit drivers (``postgresql+asyncpg``) are kept.

    ``postgres://`` and ``postgresql://`` become ``postgresql+asyncpg://`` (``sslmode`` and
    ``connect_timeout`` renamed for asyncpg); ``sqlite:///path`` becomes
    ``sqlite+aiosqlite:///path``. Raises ConfigError for empty or unsupported URLs.
    """
    if not raw or not raw.strip():
        raise ConfigError(
            "DATABASE_URL is empty: unset it to use SQLite, or give a postgresql:// URL"
        )
    url = _parse(raw)
    backend, _, driver = url.drivername.partition("+")
    if backend not in _ASYNC_DRIVERS:
        raise ConfigError(
            f"DATABASE_URL uses {backend!r}, but clientmgr supports PostgreSQL and SQLite only"
        )
    if not driver:
        url = url.set(drivername=_ASYNC_DRIVERS[backend])
    if url.get_backend_name() == "postgresql" and url.get_driver_name() == "asyncpg":
        query = dict(url.query)
        for libpq, asyncpg in _LIBPQ_TO_ASYNCPG.items():
            if libpq in query:
                value = query.pop(libpq)
                query.setdefault(asyncpg, value)
        url = url.set(query=query)
    return url.render_as_string(hide_password=False)


def resolve_database_url(raw: str | None) -> str:
    """``raw`` normalised, or the embedded SQLite default when it is None or blank."""
    if raw is None or not raw.strip():
        return DEFAULT_DATABASE_URL
    return normalise_database_url(raw)


def is_sqlite(url: str) -> bool:
    """Whether ``url`` (normalised or not) points at SQLite."""
    return _parse(url).get_backend_name() == "sqlite"

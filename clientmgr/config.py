"""Settings read once from the environment at start, validated with messages a person can act on."""

from __future__ import annotations

import os
from collections.abc import Mapping

from attrs import frozen

from clientmgr.adapters.sql.urls import DEFAULT_DATABASE_URL
from clientmgr.errors import ConfigError

__all__ = ["DEFAULT_DATABASE_URL", "Settings"]

_LOG_LEVELS = {"TRACE", "DEBUG", "INFO", "SUCCESS", "WARNING", "ERROR", "CRITICAL"}
_LOG_FORMATS = {"auto", "json", "text"}


@frozen
class Settings:
    """Every environment variable clientmgr reads (the README lists them with examples)."""

    database_url: str = DEFAULT_DATABASE_URL
    log_level: str = "INFO"
    log_format: str = "auto"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        log_level = env.get("LOG_LEVEL", "INFO").strip().upper()
        if log_level not in _LOG_LEVELS:
            raise ConfigError(
                f"LOG_LEVEL={log_level!r} is not a level: use one of {sorted(_LOG_LEVELS)}."
            )
        log_format = env.get("LOG_FORMAT", "auto").strip().lower()
        if log_format not in _LOG_FORMATS:
            raise ConfigError(f"LOG_FORMAT={log_format!r} is not known: use auto, json or text.")
        url = env.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL
        if "://" not in url:
            raise ConfigError(
                f"DATABASE_URL={url!r} is not a URL: use postgresql://user:pass@host/db "
                "(as Railway gives it) or sqlite:///path/to/file.db."
            )
        return cls(database_url=url, log_level=log_level, log_format=log_format)

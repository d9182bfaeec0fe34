"""Railway entry point: migrate, then run the role in CLIENTMGR_ROLE: bot, web or worker."""

from __future__ import annotations

import asyncio
import os
import sys

from clientmgr.adapters.sql.migrate import migrate
from clientmgr.config import Settings
from clientmgr.errors import ConfigError
from runners.bot import run_bot

__all__ = ["ROLES", "main"]

ROLES = ("bot", "web", "worker")


def main() -> None:
    role = os.environ.get("CLIENTMGR_ROLE", "bot").strip().lower() or "bot"
    try:
        if role not in ROLES:
            raise ConfigError(f"CLIENTMGR_ROLE={role!r} is not a role: use one of {ROLES}.")
        settings = Settings.from_env()
        asyncio.run(migrate(settings.database_url))
        if role == "web":
            from runners.web import run_web

            asyncio.run(run_web(settings))
        elif role == "worker":
            from runners.worker import run_worker

            asyncio.run(run_worker(settings))
        else:
            asyncio.run(run_bot(settings))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    main()

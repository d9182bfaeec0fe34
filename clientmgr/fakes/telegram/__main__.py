"""Serve the emulator on its own: ``python -m clientmgr.fakes.telegram --port 8081``.

Point a bot at it with ``base_url=http://127.0.0.1:8081/bot`` and
``base_file_url=http://127.0.0.1:8081/file/bot``; act as users through ``/_emulator/...``.
"""

from __future__ import annotations

import argparse

import uvicorn

from clientmgr.fakes.telegram.api import create_app
from clientmgr.fakes.telegram.driver import DEFAULT_TOKEN
from clientmgr.fakes.telegram.state import EmulatorState

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the server until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--token", action="append", help=f"bot token (default {DEFAULT_TOKEN})")
    parser.add_argument("--bot-username", default=None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    state = EmulatorState()
    for index, token in enumerate(args.token or [DEFAULT_TOKEN]):
        state.add_bot(token, username=args.bot_username if index == 0 else None)
    uvicorn.run(create_app(state), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()

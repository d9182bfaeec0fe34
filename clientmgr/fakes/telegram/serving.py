"""Serve an ASGI app with uvicorn inside the running event loop, on a free loopback port.

The emulator needs a real socket for polling and webhooks to be wired as in production,
and tests need one for a webhook receiver; both want it in-process (same loop, same state,
no subprocess to clean up), quiet (no logging configuration of its own) and leaving Ctrl-C
to the test runner, which plain ``uvicorn.Server.serve`` does not.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from starlette.types import ASGIApp

__all__ = ["BackgroundServer"]

_STARTUP_TIMEOUT = 10.0


class _SignalFreeServer(uvicorn.Server):
    """uvicorn without its SIGINT/SIGTERM capture."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class BackgroundServer:
    """``await start()`` → origin URL; ``await stop()``. Also an async context manager."""

    def __init__(self, app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.origin: str | None = None
        self._server: _SignalFreeServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> str:
        return await self.start()

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    async def start(self) -> str:
        """Start serving (lifespan included) and return ``http://host:port``."""
        if self._task is not None:
            raise RuntimeError("the server is already running")
        config = uvicorn.Config(
            self.app,
            host=self.host,
            port=self.port,
            lifespan="on",
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=1,
        )
        server = self._server = _SignalFreeServer(config)
        task = self._task = asyncio.create_task(server.serve(), name=f"uvicorn-{self.host}")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _STARTUP_TIMEOUT
        # uvicorn only exposes a ``started`` flag, so startup is the one place that polls.
        while not server.started:
            if task.done():
                task.result()  # re-raises the startup error
                raise RuntimeError("the server stopped during startup")
            if loop.time() > deadline:
                await self.stop()
                raise TimeoutError("the server did not start")
            await asyncio.sleep(0.005)
        port = server.servers[0].sockets[0].getsockname()[1]
        self.origin = f"http://{self.host}:{port}"
        return self.origin

    async def stop(self) -> None:
        """Stop accepting, let requests finish (1 s at most) and run the lifespan's shutdown."""
        server, task = self._server, self._task
        self._server = self._task = None
        self.origin = None
        if server is None or task is None:
            return
        server.should_exit = True
        try:
            await asyncio.wait_for(asyncio.shield(task), 5)
        except TimeoutError:
            server.force_exit = True
            await task

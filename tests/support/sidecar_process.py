"""Run the Baileys sidecar (``baileys/src/main.js``) as a child process, for the tests that
need the real sidecar (contract, web events, worker).

``SidecarProcess.start()`` launches ``node src/main.js`` in ``baileys/`` with a clean
environment (a random ``SIDECAR_TOKEN`` and ``SIDECAR_STATE_KEY`` unless given, the state
in a temporary directory unless given, ``SIDECAR_FAKE=1`` by default so nothing reaches
WhatsApp), on a free port chosen by the sidecar itself (port 0, read back from its
``sidecar listening`` log line, so two runs never race for one port), and returns once
``GET /health`` answers. ``stop()`` sends SIGTERM (the sidecar closes its sockets and
flushes its state) and SIGKILL only if it does not exit in time.

For tests of the Python side against a sidecar that goes away: ``stop()`` +
``restart()`` (same port, same state directory and key: linked sessions resume without
a new QR, idempotency records survive), ``kill()`` (a crash) and ``pause()`` / ``resume()``
(SIGSTOP/SIGCONT: a hung sidecar, so calls time out). Each method has an ``a…`` twin that
runs it in a worker thread for use from async code.

The environment is not inherited beyond ``PATH``/``HOME``: the parent's ``LOG_LEVEL``
(loguru names like ``WARNING``) or ``DATABASE_URL`` must not change how the sidecar runs.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import weakref
from collections import deque
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Self

import httpx

from clientmgr.errors import ClientmgrError

__all__ = ["SIDECAR_DIR", "SidecarProcess", "SidecarStartError"]

SIDECAR_DIR = Path(__file__).resolve().parents[2] / "baileys"
"""The sidecar's sources in this checkout (``baileys/`` next to ``clientmgr/``)."""
_LISTENING = "sidecar listening"
_PASSED_THROUGH = ("PATH", "HOME", "TMPDIR", "LANG", "TZ", "NODE_EXTRA_CA_CERTS")
_running: weakref.WeakSet[SidecarProcess] = weakref.WeakSet()


class SidecarStartError(ClientmgrError, RuntimeError):
    """The sidecar could not be started; the message ends with its last log lines."""


class SidecarProcess:
    """One sidecar child process. Build it with ``start()`` / ``astart()``.

    ``url`` and ``token`` are what the Python side needs (``env()`` gives them as
    ``SIDECAR_URL`` / ``SIDECAR_TOKEN``); ``logs()`` returns its recent log lines.
    """

    def __init__(
        self,
        *,
        token: str,
        state_dir: Path,
        state_key: str,
        owns_state_dir: bool,
        fake: bool,
        events_url: str | None,
        events_secret: str | None,
        log_level: str,
        extra_env: Mapping[str, str],
        node: str,
        sidecar_dir: Path,
        log_path: Path | None,
        startup_timeout: float,
    ) -> None:
        self.token = token
        self.state_dir = state_dir
        self.state_key = state_key
        self.fake = fake
        self.events_url = events_url
        self.events_secret = events_secret
        self.log_level = log_level
        self.extra_env = dict(extra_env)
        self.node = node
        self.sidecar_dir = sidecar_dir
        self.log_path = log_path
        self.startup_timeout = startup_timeout
        self.port = 0
        self._owns_state_dir = owns_state_dir
        self._process: subprocess.Popen[bytes] | None = None
        self._pump: threading.Thread | None = None
        self._lines: deque[str] = deque(maxlen=500)
        self._listening = threading.Event()
        self._log_file: IO[str] | None = None

    # -- starting and stopping -----------------------------------------------------------

    @classmethod
    def start(
        cls,
        *,
        token: str | None = None,
        state_dir: Path | str | None = None,
        state_key: str | None = None,
        fake: bool = True,
        port: int = 0,
        events_url: str | None = None,
        events_secret: str | None = None,
        log_level: str = "info",
        extra_env: Mapping[str, str] | None = None,
        node: str | None = None,
        sidecar_dir: Path | str = SIDECAR_DIR,
        log_path: Path | str | None = None,
        startup_timeout: float = 20.0,
    ) -> SidecarProcess:
        """Start a sidecar and wait until ``/health`` answers; SidecarStartError if not.

        ``state_dir`` is kept as given; when omitted a temporary one is made and removed
        by ``stop()``. ``log_level`` must let ``info`` through (the port is read from an
        info line). ``log_path`` also writes every log line to that file.
        """
        sidecar_dir = Path(sidecar_dir)
        node = node or shutil.which("node")
        if node is None:
            raise SidecarStartError(
                "`node` is not on PATH: install Node.js 20 or newer to run the WhatsApp sidecar."
            )
        if not (sidecar_dir / "node_modules").is_dir():
            raise SidecarStartError(
                f"{sidecar_dir / 'node_modules'} is missing: run `npm ci` in {sidecar_dir} first."
            )
        if events_url and not events_secret:
            raise SidecarStartError("events_url needs events_secret (the sidecar signs events)")
        owns = state_dir is None
        directory = Path(tempfile.mkdtemp(prefix="clientmgr-sidecar-")) if owns else state_dir
        sidecar = cls(
            token=token or secrets.token_hex(16),
            state_dir=Path(directory),
            state_key=state_key or secrets.token_hex(32),
            owns_state_dir=owns,
            fake=fake,
            events_url=events_url,
            events_secret=events_secret,
            log_level=log_level,
            extra_env=extra_env or {},
            node=node,
            sidecar_dir=sidecar_dir,
            log_path=Path(log_path) if log_path else None,
            startup_timeout=startup_timeout,
        )
        try:
            sidecar._launch(port)
        except BaseException:
            sidecar.stop()
            raise
        return sidecar

    @classmethod
    async def astart(cls, **options: object) -> SidecarProcess:
        """``start()`` in a worker thread (it blocks while node boots)."""
        return await asyncio.to_thread(lambda: cls.start(**options))  # type: ignore[arg-type]

    def stop(self, grace: float = 15.0) -> None:
        """SIGTERM and wait (SIGKILL after ``grace`` seconds); removes an owned state
        directory. Safe to call twice."""
        self._terminate(grace)
        if self._owns_state_dir:
            shutil.rmtree(self.state_dir, ignore_errors=True)

    async def astop(self, grace: float = 15.0) -> None:
        await asyncio.to_thread(self.stop, grace)

    def restart(self, grace: float = 15.0) -> None:
        """Stop (if running) and start again on the same port with the same state."""
        self._terminate(grace)
        self._launch(self.port)

    async def arestart(self, grace: float = 15.0) -> None:
        await asyncio.to_thread(self.restart, grace)

    def kill(self) -> None:
        """SIGKILL: a crash, no clean shutdown (``restart()`` brings it back)."""
        process = self._process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        self._finish_pump()

    def pause(self) -> None:
        """SIGSTOP: the process holds its port but answers nothing until ``resume()``."""
        self._signal(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal(signal.SIGCONT)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.astop()

    # -- what callers read ---------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return None if self._process is None else self._process.pid

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def env(self) -> dict[str, str]:
        """``SIDECAR_URL`` and ``SIDECAR_TOKEN`` for the Python side."""
        return {"SIDECAR_URL": self.url, "SIDECAR_TOKEN": self.token}

    def logs(self) -> list[str]:
        """The sidecar's most recent log lines (JSON), oldest first."""
        return list(self._lines)

    def log_records(self) -> list[dict[str, object]]:
        """``logs()`` parsed; lines that are not JSON are skipped."""
        records = []
        for line in self.logs():
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    # -- internals ---------------------------------------------------------------------

    def _environment(self, port: int) -> dict[str, str]:
        env = {name: os.environ[name] for name in _PASSED_THROUGH if name in os.environ}
        env.update(
            SIDECAR_TOKEN=self.token,
            SIDECAR_HOST="127.0.0.1",
            SIDECAR_PORT=str(port),
            SIDECAR_STORE="file",
            SIDECAR_STATE_DIR=str(self.state_dir),
            SIDECAR_STATE_KEY=self.state_key,
            LOG_LEVEL=self.log_level,
        )
        if self.fake:
            env["SIDECAR_FAKE"] = "1"
        if self.events_url:
            env["SIDECAR_EVENTS_URL"] = self.events_url
            env["SIDECAR_EVENTS_SECRET"] = self.events_secret or ""
        env.update(self.extra_env)
        return env

    def _launch(self, port: int) -> None:
        self._lines.clear()
        self._listening.clear()
        if self.log_path is not None and self._log_file is None:
            self._log_file = self.log_path.open("a", encoding="utf-8")
        self._process = subprocess.Popen(
            [self.node, "src/main.js"],
            cwd=self.sidecar_dir,
            env=self._environment(port),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        _running.add(self)
        self._pump = threading.Thread(
            target=self._read_output,
            args=(self._process.stdout,),
            name=f"sidecar-log-{self._process.pid}",
            daemon=True,
        )
        self._pump.start()
        deadline = time.monotonic() + self.startup_timeout
        while not self._listening.wait(0.02):
            if self._process.poll() is not None:
                self._finish_pump()
                raise self._failed(f"the sidecar exited with code {self._process.returncode}")
            if time.monotonic() > deadline:
                raise self._failed(f"the sidecar did not listen within {self.startup_timeout}s")
        self._wait_healthy(deadline)

    def _read_output(self, stream: IO[bytes]) -> None:
        for raw in stream:
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            self._lines.append(line)
            if self._log_file is not None:
                self._log_file.write(line + "\n")
                self._log_file.flush()
            if not self._listening.is_set() and _LISTENING in line:
                try:
                    self.port = int(json.loads(line)["port"])
                except (ValueError, KeyError, TypeError):
                    continue
                self._listening.set()
        stream.close()

    def _wait_healthy(self, deadline: float) -> None:
        problem = "no answer"
        with httpx.Client(timeout=1.0, trust_env=False) as client:
            while time.monotonic() < deadline:
                if self._process is not None and self._process.poll() is not None:
                    raise self._failed(f"the sidecar exited with code {self._process.returncode}")
                try:
                    response = client.get(f"{self.url}/health")
                except httpx.HTTPError as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                else:
                    if response.status_code == 200:
                        return
                    problem = f"{response.status_code} {response.text[:200]}"
                time.sleep(0.02)
        raise self._failed(f"GET {self.url}/health did not answer 200 in time ({problem})")

    def _failed(self, why: str) -> SidecarStartError:
        tail = "\n".join(list(self._lines)[-20:]) or "(no output)"
        return SidecarStartError(f"{why}; its last log lines:\n{tail}")

    def _terminate(self, grace: float) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            try:
                process.send_signal(signal.SIGCONT)  # a paused process cannot handle SIGTERM
                process.terminate()
                process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self._finish_pump()
        _running.discard(self)

    def _finish_pump(self) -> None:
        if self._pump is not None:
            self._pump.join(timeout=5)
            self._pump = None
        if self._log_file is not None and (self._process is None or not self.running):
            self._log_file.close()
            self._log_file = None

    def _signal(self, signum: int) -> None:
        if not self.running:
            raise RuntimeError("the sidecar is not running")
        assert self._process is not None
        self._process.send_signal(signum)


@atexit.register
def _stop_leftovers() -> None:
    """A test run or runner that forgot ``stop()`` must not leave node processes behind."""
    for sidecar in list(_running):
        sidecar.stop(grace=2)

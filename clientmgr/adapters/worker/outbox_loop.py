"""The outbox dispatcher's worker loop, and its settings read from the environment.

``DispatchLoop`` calls ``Dispatcher.dispatch_once`` (``clientmgr.services.sending``) over
and over: at once again after a full batch, after ``idle_delay`` when nothing was due,
after the settings' ``unavailable_delay`` when the sidecar could not be reached, and after
``error_delay`` when a tick failed (a database hiccup must not end the worker). ``stop()``
lets the batch in hand finish, so a deploy does not leave messages leased for nothing.
Any number of loops may run, in one process or many, on one database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from loguru import logger

from clientmgr.errors import ConfigError
from clientmgr.services.sending import Dispatcher, DispatchReport, DispatchSettings

__all__ = ["DispatchLoop", "dispatch_settings_from_env"]


class DispatchLoop:
    """Runs a ``Dispatcher`` until ``stop()``; ``ticks`` and ``last_report`` are for health
    checks and tests."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        *,
        idle_delay: float = 1.0,
        error_delay: float = 5.0,
    ) -> None:
        if idle_delay < 0 or error_delay < 0:
            raise ValueError("delays cannot be negative")
        self.dispatcher = dispatcher
        self.idle_delay = idle_delay
        self.error_delay = error_delay
        self.ticks = 0
        self.last_report: DispatchReport | None = None
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        """Ask the loop to end after the batch in hand (safe from any task of its loop)."""
        self._stopping.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    async def run(self) -> None:
        """Dispatch until ``stop()`` (at once if it was already called)."""
        logger.info("outbox dispatcher {} started", self.dispatcher.name)
        while not self._stopping.is_set():
            delay = await self.tick()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=delay)
            else:
                await asyncio.sleep(0)
        logger.info("outbox dispatcher {} stopped", self.dispatcher.name)

    async def tick(self) -> float:
        """One ``dispatch_once``, logged; returns how long to wait before the next."""
        self.ticks += 1
        try:
            report = await self.dispatcher.dispatch_once()
        except Exception:
            logger.exception("outbox dispatch failed; trying again in {}s", self.error_delay)
            return self.error_delay
        self.last_report = report
        for error in report.errors:
            logger.opt(exception=error).error("unexpected error while sending a message")
        if report.claimed:
            logger.debug(
                "outbox: {} claimed, {} sent, {} retried, {} failed, {} cancelled, {} waiting",
                report.claimed,
                report.sent,
                report.retried,
                report.failed,
                report.cancelled,
                report.deferred,
            )
        if report.unavailable:
            delay = self.dispatcher.settings.unavailable_delay.total_seconds()
            logger.warning("WhatsApp sidecar unavailable; the queue waits {}s", delay)
            return delay
        if report.claimed == 0:
            return self.idle_delay
        return 0.0


_INT_SETTINGS = {
    "DISPATCH_BATCH_SIZE": "batch_size",
    "DISPATCH_PER_SESSION": "per_session",
    "DISPATCH_DAILY_CAP": "daily_cap",
    "DISPATCH_MAX_ATTEMPTS": "max_attempts",
    "DISPATCH_CONCURRENCY": "concurrency",
    "DISPATCH_TYPING_CHARS_PER_SECOND": "typing_chars_per_second",
}
_SECONDS_SETTINGS = {
    "DISPATCH_MIN_GAP_SECONDS": "min_gap",
    "DISPATCH_MAX_GAP_SECONDS": "max_gap",
    "DISPATCH_LEASE_SECONDS": "lease",
    "DISPATCH_RETRY_BASE_SECONDS": "retry_base",
    "DISPATCH_RETRY_MAX_SECONDS": "retry_max",
    "DISPATCH_UNAVAILABLE_DELAY_SECONDS": "unavailable_delay",
    "DISPATCH_SESSION_RECHECK_SECONDS": "session_recheck",
    "DISPATCH_TYPING_MIN_SECONDS": "typing_min",
    "DISPATCH_TYPING_MAX_SECONDS": "typing_max",
}


def dispatch_settings_from_env(env: Mapping[str, str]) -> DispatchSettings:
    """``DispatchSettings`` from ``DISPATCH_*`` variables; unset ones keep the defaults.

    Integers: ``DISPATCH_BATCH_SIZE``, ``_PER_SESSION``, ``_DAILY_CAP``, ``_MAX_ATTEMPTS``,
    ``_CONCURRENCY``, ``_TYPING_CHARS_PER_SECOND``; seconds: ``DISPATCH_MIN_GAP_SECONDS``,
    ``_MAX_GAP_SECONDS``, ``_LEASE_SECONDS``, ``_RETRY_BASE_SECONDS``, ``_RETRY_MAX_SECONDS``,
    ``_UNAVAILABLE_DELAY_SECONDS``, ``_SESSION_RECHECK_SECONDS``, ``_TYPING_MIN_SECONDS``,
    ``_TYPING_MAX_SECONDS``; ``DISPATCH_WARMUP_CAPS`` is a comma-separated list of daily caps
    for the first days ("30,60,120"; empty: none).
    """
    values: dict[str, object] = {}
    for name, attribute in _INT_SETTINGS.items():
        if raw := env.get(name, "").strip():
            values[attribute] = _number(name, raw, int)
    for name, attribute in _SECONDS_SETTINGS.items():
        if raw := env.get(name, "").strip():
            values[attribute] = timedelta(seconds=_number(name, raw, float))
    if "DISPATCH_WARMUP_CAPS" in env:
        raw = env["DISPATCH_WARMUP_CAPS"].strip()
        parts = [part.strip() for part in raw.split(",") if part.strip()]
        values["warmup_caps"] = tuple(_number("DISPATCH_WARMUP_CAPS", p, int) for p in parts)
    try:
        return DispatchSettings(**values)  # type: ignore[arg-type]
    except ValueError as exc:
        raise ConfigError(f"The DISPATCH_* settings do not fit together: {exc}.") from exc


def _number(name: str, raw: str, kind: type[int] | type[float]) -> Any:
    try:
        value = kind(raw)
    except ValueError:
        raise ConfigError(
            f"{name}={raw!r} is not a {'whole ' if kind is int else ''}number: "
            f"use e.g. {name}={'10' if kind is int else '12.5'}."
        ) from None
    if value < 0:
        raise ConfigError(f"{name}={raw!r} cannot be negative.")
    return value

"""The circuit breaker in front of the sidecar: pybreaker's state machine, driven around awaits.

Why not ``CircuitBreaker.call``: pybreaker 1.x guards plain calls (and tornado coroutines
through ``call_async``, which needs tornado); an ``async def`` passed to ``call`` would
only have its coroutine *created* inside the breaker, so every call would count as a
success. So ``SidecarBreaker`` splits a call in two around the ``await``:

- admission, done here (the only part pybreaker cannot do for a coroutine): while
  ``open`` and ``reset_timeout`` has not passed since it opened, refuse at once with
  WhatsAppUnavailableError, without touching the network (the outbox then waits instead
  of burning an attempt); once it has passed, move pybreaker to ``half-open`` and let
  exactly one trial call through (others keep being refused until it answers);
- the verdict, replayed into pybreaker with ``CircuitBreaker.call``: a success as a call
  that returns, a transient failure as one that raises. pybreaker keeps the failure
  counter, opens after ``fail_max`` failures in a row, closes after a successful trial,
  re-opens after a failed one, and tells its listeners.

Only WhatsAppUnavailableError raised inside ``attempt()`` counts as a failure (the
gateway raises it for connection errors, timeouts and 5xx answers). Any other way out of
the block is no verdict: a cancelled call says nothing about the sidecar. The time
since opening is measured on ``clock`` (``time.monotonic`` by default), so tests can
move it by hand.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from enum import StrEnum
from typing import Any

import pybreaker
from loguru import logger

from clientmgr.errors import WhatsAppUnavailableError

__all__ = ["BreakerState", "SidecarBreaker"]


class BreakerState(StrEnum):
    """pybreaker's state names (what the metrics show)."""

    CLOSED = pybreaker.STATE_CLOSED
    OPEN = pybreaker.STATE_OPEN
    HALF_OPEN = pybreaker.STATE_HALF_OPEN


class _TransientFailure(Exception):
    """Stands in for the real error inside pybreaker, so the original keeps its traceback."""


def _succeed() -> None:
    return None


def _fail(reason: str) -> None:
    raise _TransientFailure(reason)


class _Listener(pybreaker.CircuitBreakerListener):
    def __init__(self, owner: SidecarBreaker) -> None:
        self._owner = owner

    def state_change(self, cb: pybreaker.CircuitBreaker, old_state: Any, new_state: Any) -> None:
        self._owner._changed(old_state.name if old_state else None, new_state.name)


class SidecarBreaker:
    """Opens after ``fail_max`` transient failures in a row; tries again after
    ``reset_timeout`` seconds with one trial call. See the module docstring."""

    def __init__(
        self,
        fail_max: int = 5,
        reset_timeout: float = 30.0,
        *,
        name: str = "whatsapp-sidecar",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if fail_max < 1:
            raise ValueError("fail_max must be at least 1")
        if reset_timeout < 0:
            raise ValueError("reset_timeout must not be negative")
        self._clock = clock
        self._opened_at = 0.0
        self._trial_in_flight = False
        self._watchers: list[Callable[[BreakerState], None]] = []
        self._breaker = pybreaker.CircuitBreaker(
            fail_max=fail_max,
            reset_timeout=reset_timeout,
            name=name,
            throw_new_error_on_trip=False,  # the failure itself goes on, not a CircuitBreakerError
            listeners=[_Listener(self)],
        )

    # -- what the metrics and the logs read -----------------------------------------------

    @property
    def state(self) -> BreakerState:
        """``open`` stays ``open`` after ``reset_timeout`` until a call tries again."""
        return BreakerState(self._breaker.current_state)

    @property
    def fail_counter(self) -> int:
        """Transient failures in a row so far (reset by any answer from the sidecar)."""
        return self._breaker.fail_counter

    @property
    def fail_max(self) -> int:
        return self._breaker.fail_max

    @property
    def reset_timeout(self) -> float:
        return self._breaker.reset_timeout

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a trial call through (0 when not open)."""
        if self.state is not BreakerState.OPEN:
            return 0.0
        return max(0.0, self._opened_at + self.reset_timeout - self._clock())

    def on_change(self, watcher: Callable[[BreakerState], None]) -> None:
        """Call ``watcher(new_state)`` on every transition (e.g. to update a gauge)."""
        self._watchers.append(watcher)

    # -- guarding a call ----------------------------------------------------------------

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """Guard one call to the sidecar (``with breaker.attempt(): await ...``).

        Raises WhatsAppUnavailableError on entry while open. Leaving the block normally is
        a success; leaving it with WhatsAppUnavailableError is a failure; anything else
        (cancellation, a bug) records nothing.
        """
        trial = self._admit()
        try:
            yield
        except WhatsAppUnavailableError as exc:
            self._record_failure(exc)
            raise
        else:
            self._record_success()
        finally:
            if trial:
                self._trial_in_flight = False

    def _admit(self) -> bool:
        """Let a call through or refuse it; True when it is the half-open trial."""
        state = self.state
        if state is BreakerState.OPEN:
            wait = self.retry_in()
            if wait > 0:
                raise WhatsAppUnavailableError(
                    f"the WhatsApp sidecar failed {self.fail_max} times in a row: circuit "
                    f"breaker open, next try in {wait:.1f}s"
                )
            self._breaker.half_open()
            state = BreakerState.HALF_OPEN
        if state is BreakerState.HALF_OPEN:
            if self._trial_in_flight:
                raise WhatsAppUnavailableError(
                    "the WhatsApp sidecar is being tried again (circuit breaker half-open)"
                )
            self._trial_in_flight = True
            return True
        return False

    def _record_success(self) -> None:
        if self.state is BreakerState.OPEN:
            return  # a call let in before the breaker opened: the trial decides, not this
        self._breaker.call(_succeed)

    def _record_failure(self, exc: BaseException) -> None:
        if self.state is BreakerState.OPEN:
            return  # already open: a late failure must not push the next trial back
        with suppress(_TransientFailure):
            self._breaker.call(_fail, str(exc))

    def _changed(self, old: str | None, new: str) -> None:
        state = BreakerState(new)
        if state is BreakerState.OPEN:
            self._opened_at = self._clock()
            logger.warning(
                "whatsapp sidecar breaker open after {} failures; next try in {}s",
                self.fail_counter,
                self.reset_timeout,
            )
        elif state is BreakerState.CLOSED and old is not None:
            logger.info("whatsapp sidecar breaker closed: the sidecar answers again")
        for watcher in self._watchers:
            watcher(state)

"""A token bucket per key: quick taps are fine, a runaway client cannot flood the bot."""

from __future__ import annotations

from collections.abc import Callable, Hashable

from cachetools import TTLCache

__all__ = ["TokenBuckets"]


class TokenBuckets:
    """``capacity`` actions at once, refilled at ``rate`` per second, per key.

    Buckets of keys idle for a while are forgotten (bounded memory for any number of users).
    """

    def __init__(
        self, capacity: float, rate: float, clock: Callable[[], float], max_keys: int = 100_000
    ) -> None:
        if capacity < 1 or rate <= 0:
            raise ValueError("capacity must be >= 1 and rate > 0")
        self.capacity = capacity
        self.rate = rate
        self._clock = clock
        idle = capacity / rate * 2
        self._buckets: TTLCache[Hashable, tuple[float, float]] = TTLCache(
            max_keys, ttl=idle, timer=clock
        )

    def allow(self, key: Hashable, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens from ``key``'s bucket if it has them."""
        now = self._clock()
        tokens, last = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - last) * self.rate)
        allowed = tokens >= cost
        self._buckets[key] = (tokens - cost if allowed else tokens, now)
        return allowed

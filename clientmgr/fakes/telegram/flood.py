"""Flood control: answer 429 "Too Many Requests" once a chat gets too many messages too fast.

Telegram's real limits are fuzzy (about one message per second per chat, 20 a minute in a
group); the emulator makes them exact and configurable so a test can drive the bot over a
limit on purpose and check that ``AIORateLimiter`` waits ``retry_after`` and sends again.
Like Telegram, once a chat is limited every send to it is refused until ``retry_after`` has
passed, each refusal saying how many whole seconds remain.
"""

from __future__ import annotations

import math
from collections import deque

from attrs import define, field

__all__ = ["FloodControl"]


@define
class FloodControl:
    """At most ``limit`` messages per chat within ``per`` seconds, then 429 for ``retry_after``."""

    limit: int
    per: float = 1.0
    retry_after: int = 1
    _sent: dict[int, deque[float]] = field(factory=dict, init=False, repr=False)
    _blocked_until: dict[int, float] = field(factory=dict, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if self.limit < 1 or self.per <= 0 or self.retry_after < 1:
            raise ValueError("FloodControl needs limit >= 1, per > 0 and retry_after >= 1")

    def check(self, chat_id: int, now: float) -> int | None:
        """Seconds the bot must wait before sending to ``chat_id``, or ``None`` if it may send."""
        blocked_until = self._blocked_until.get(chat_id, 0.0)
        if now < blocked_until:
            return max(1, math.ceil(blocked_until - now))
        window = self._sent.setdefault(chat_id, deque())
        while window and window[0] <= now - self.per:
            window.popleft()
        if len(window) >= self.limit:
            self._blocked_until[chat_id] = now + self.retry_after
            return self.retry_after
        return None

    def record(self, chat_id: int, now: float) -> None:
        """Count one message that went through."""
        self._sent.setdefault(chat_id, deque()).append(now)

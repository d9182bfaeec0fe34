"""A seller notifier that only records: what the use cases told which seller, in order."""

from __future__ import annotations

from attrs import frozen

from clientmgr.ports.notifier import SellerNotice, SellerUnreachableError

__all__ = ["RecordingNotifier", "SentNotice"]


@frozen
class SentNotice:
    telegram_id: int
    notice: SellerNotice


class RecordingNotifier:
    """Implements ``SellerNotifier`` for tests and the playground.

    ``fail_next(n)`` makes the next ``n`` notices raise SellerUnreachableError (Telegram
    down) without recording them.
    """

    def __init__(self) -> None:
        self.sent: list[SentNotice] = []
        self._failures = 0

    async def notify(self, telegram_id: int, notice: SellerNotice) -> None:
        if self._failures:
            self._failures -= 1
            raise SellerUnreachableError("Telegram is unreachable (simulated)")
        self.sent.append(SentNotice(telegram_id, notice))

    def fail_next(self, n: int = 1) -> None:
        self._failures += n

    def keys(self, telegram_id: int | None = None) -> list[str]:
        """The catalog keys sent (to ``telegram_id`` only, when given), oldest first."""
        return [
            s.notice.key for s in self.sent if telegram_id is None or s.telegram_id == telegram_id
        ]

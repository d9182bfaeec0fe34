"""The seller's account: trial, paid period, derived status and what each status may do."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from attrs import field, frozen

from clientmgr.core.reminders import ReminderPolicy

__all__ = [
    "DEFAULT_TIMEZONE",
    "GRACE_PERIOD",
    "TRIAL_PERIOD",
    "Account",
    "AccountStatus",
]

DEFAULT_TIMEZONE = "America/Sao_Paulo"
TRIAL_PERIOD = timedelta(days=7)
# After the paid period (or the trial) ends the seller keeps working for a few days while
# the PIX goes through; reminders to their clients must not stop the minute a month ends.
GRACE_PERIOD = timedelta(days=3)


class AccountStatus(StrEnum):
    """Derived from the clock, never stored."""

    TRIAL = "trial"
    ACTIVE = "active"
    GRACE = "grace"
    EXPIRED = "expired"

    @property
    def can_write(self) -> bool:
        """Whether the seller may add clients and send messages."""
        return self is not AccountStatus.EXPIRED


@frozen
class Account:
    """One Telegram user of the bot (a seller)."""

    telegram_id: int
    name: str
    created_at: datetime
    trial_ends_at: datetime
    id: int | None = None
    paid_until: datetime | None = None
    timezone: str = DEFAULT_TIMEZONE
    business_name: str | None = None
    pix_key: str | None = None
    pix_name: str | None = None
    pix_city: str | None = None
    reminder_policy: ReminderPolicy = field(factory=ReminderPolicy)

    @classmethod
    def new(cls, telegram_id: int, name: str, now: datetime, **extra: object) -> Account:
        """A fresh account on a 7-day trial starting ``now``."""
        return cls(
            telegram_id=telegram_id,
            name=name,
            created_at=now,
            trial_ends_at=now + TRIAL_PERIOD,
            **extra,  # type: ignore[arg-type]
        )

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def access_until(self) -> datetime:
        """The end of the trial or of the paid period, whichever is later."""
        if self.paid_until is None:
            return self.trial_ends_at
        return max(self.paid_until, self.trial_ends_at)

    def status(self, now: datetime) -> AccountStatus:
        """trial / active / grace / expired at ``now``."""
        paid = self.paid_until is not None and self.paid_until > self.trial_ends_at
        if now < self.access_until:
            return AccountStatus.ACTIVE if paid else AccountStatus.TRIAL
        if now < self.access_until + GRACE_PERIOD:
            return AccountStatus.GRACE
        return AccountStatus.EXPIRED

    def days_left(self, now: datetime) -> int:
        """Whole days until access ends (0 when it already ended)."""
        remaining = self.access_until - now
        if remaining <= timedelta(0):
            return 0
        return remaining.days + (1 if remaining.seconds or remaining.microseconds else 0)

    def local_now(self, now: datetime) -> datetime:
        """``now`` in the seller's timezone."""
        return now.astimezone(self.zone)

    def in_send_window(self, now: datetime) -> bool:
        """Whether a WhatsApp message may go out at ``now`` local time."""
        local: time = self.local_now(now).time()
        return self.reminder_policy.window_start <= local < self.reminder_policy.window_end

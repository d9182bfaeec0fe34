"""When reminders go out: day offsets around the due date, each with its template, and a send window."""

from __future__ import annotations

from datetime import time

from attrs import field, frozen

from clientmgr.core.templates import TemplateKind

__all__ = ["DEFAULT_OFFSETS", "ReminderPolicy", "kind_for_offset"]

DEFAULT_OFFSETS: tuple[int, ...] = (-3, 0, 1, 3)


def kind_for_offset(offset: int) -> TemplateKind:
    """Negative offsets remind ahead, zero is the due day, positive ones chase a late payment."""
    if offset < 0:
        return TemplateKind.BEFORE_DUE
    if offset == 0:
        return TemplateKind.DUE_TODAY
    return TemplateKind.OVERDUE


def _sorted_unique(offsets: object) -> tuple[int, ...]:
    return tuple(sorted({int(o) for o in offsets}))  # type: ignore[attr-defined]


@frozen
class ReminderPolicy:
    """Offsets in days relative to the due date (-3 = three days before) and the local send window."""

    offsets: tuple[int, ...] = field(default=DEFAULT_OFFSETS, converter=_sorted_unique)
    window_start: time = time(8, 0)
    window_end: time = time(20, 0)

    def __attrs_post_init__(self) -> None:
        if any(not -30 <= o <= 30 for o in self.offsets):
            raise ValueError("reminder offsets must be within 30 days of the due date")
        if self.window_start >= self.window_end:
            raise ValueError("the send window must start before it ends")

    def schedule(self) -> list[tuple[int, TemplateKind]]:
        """Each offset with the template kind it uses."""
        return [(o, kind_for_offset(o)) for o in self.offsets]

"""When reminders go out: day offsets around the due date, each with its template, a window."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time

from attrs import field, frozen

from clientmgr.core.i18n import _
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import InvalidInputError

__all__ = ["DEFAULT_OFFSETS", "ReminderPolicy", "kind_for_offset"]

DEFAULT_OFFSETS: tuple[int, ...] = (-3, 0, 1, 3)


def kind_for_offset(offset: int) -> TemplateKind:
    """Negative offsets remind ahead, zero is the due day, positive ones chase a late payment."""
    if offset < 0:
        return TemplateKind.BEFORE_DUE
    if offset == 0:
        return TemplateKind.DUE_TODAY
    return TemplateKind.OVERDUE


def _sorted_unique(offsets: Iterable[object]) -> tuple[int, ...]:
    """Whole days only: 1.5 days before the due date means nothing to a seller."""
    days = set()
    for offset in offsets:
        if isinstance(offset, bool) or not isinstance(offset, int | str):
            raise InvalidInputError(_("Use dias inteiros, como -3, 0 ou 2."), "-3, 0, 1, 3")
        try:
            days.add(int(offset))
        except ValueError as exc:
            raise InvalidInputError(
                _("{offset} não é um número de dias.").format(offset=repr(offset)), "-3, 0, 1, 3"
            ) from exc
    return tuple(sorted(days))


@frozen
class ReminderPolicy:
    """Offsets in days around the due date (-3 = three days before) and the local send window."""

    offsets: tuple[int, ...] = field(default=DEFAULT_OFFSETS, converter=_sorted_unique)
    window_start: time = time(8, 0)
    window_end: time = time(20, 0)

    def __attrs_post_init__(self) -> None:
        if any(not -30 <= o <= 30 for o in self.offsets):
            raise InvalidInputError(
                _("Os lembretes precisam ficar até 30 dias antes ou depois do vencimento."),
                "-3, 0, 1, 3",
            )
        if self.window_start >= self.window_end:
            raise InvalidInputError(
                _("O horário de envio precisa começar antes de terminar."), _("08:00 às 20:00")
            )

    def schedule(self) -> list[tuple[int, TemplateKind]]:
        """Each offset with the template kind it uses."""
        return [(o, kind_for_offset(o)) for o in self.offsets]

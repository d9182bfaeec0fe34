"""Billing cycles and due-date math (monthly, every N months, weekly, yearly), clamped at month end.

A client due on the 31st pays on 28/29 February and again on 31 March: the day of month a
client signed up on (the *anchor day*) is kept apart from the current due date, so a short
month never drags every later due date down to the 28th.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from enum import StrEnum

from attrs import frozen
from dateutil.relativedelta import relativedelta

from clientmgr.core.i18n import _
from clientmgr.errors import InvalidCycleError

__all__ = ["BillingCycle", "CycleUnit", "advance_due_date", "parse_cycle"]


class CycleUnit(StrEnum):
    """The calendar unit a cycle counts in."""

    MONTH = "month"
    WEEK = "week"
    YEAR = "year"


@frozen
class BillingCycle:
    """How often a client pays: ``every`` units of ``unit`` (every 1 month, every 3 months...)."""

    unit: CycleUnit = CycleUnit.MONTH
    every: int = 1

    def __attrs_post_init__(self) -> None:
        if not 1 <= self.every <= 60:
            raise InvalidCycleError(
                _("O ciclo precisa ser de 1 a 60 períodos."), _("a cada 3 meses")
            )

    @classmethod
    def monthly(cls, every: int = 1) -> BillingCycle:
        return cls(CycleUnit.MONTH, every)

    @classmethod
    def weekly(cls, every: int = 1) -> BillingCycle:
        return cls(CycleUnit.WEEK, every)

    @classmethod
    def yearly(cls, every: int = 1) -> BillingCycle:
        return cls(CycleUnit.YEAR, every)

    @property
    def code(self) -> str:
        """Compact storage form: ``month``, ``month:3``, ``week``, ``year``."""
        return self.unit.value if self.every == 1 else f"{self.unit.value}:{self.every}"

    @classmethod
    def from_code(cls, code: str) -> BillingCycle:
        unit, _sep, every = code.partition(":")
        try:
            return cls(CycleUnit(unit), int(every) if every else 1)
        except ValueError as exc:
            raise InvalidCycleError(
                _("Ciclo desconhecido: {code}.").format(code=repr(code))
            ) from exc

    def label(self) -> str:
        """The pt-BR name a seller reads: mensal, a cada 3 meses, semanal, anual."""
        if self.every == 1:
            single = {
                CycleUnit.MONTH: _("mensal"),
                CycleUnit.WEEK: _("semanal"),
                CycleUnit.YEAR: _("anual"),
            }
            return single[self.unit]
        if self.unit is CycleUnit.MONTH and self.every == 2:
            return _("bimestral")
        if self.unit is CycleUnit.MONTH and self.every == 3:
            return _("trimestral")
        if self.unit is CycleUnit.MONTH and self.every == 6:
            return _("semestral")
        plural = {
            CycleUnit.MONTH: _("a cada {n} meses"),
            CycleUnit.WEEK: _("a cada {n} semanas"),
            CycleUnit.YEAR: _("a cada {n} anos"),
        }
        return plural[self.unit].format(n=self.every)


def advance_due_date(
    due: date, cycle: BillingCycle, anchor_day: int | None = None, n: int = 1
) -> date:
    """The due date ``n`` cycles after ``due``, keeping the anchor day when the month allows it.

    ``anchor_day`` is the day of month the client originally pays on (defaults to ``due.day``);
    monthly and yearly cycles land on it, clamped to the month's last day.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if cycle.unit is CycleUnit.WEEK:
        return due + timedelta(weeks=cycle.every * n)
    anchor = anchor_day or due.day
    months = cycle.every * n * (12 if cycle.unit is CycleUnit.YEAR else 1)
    shifted = due + relativedelta(months=months)
    last = calendar.monthrange(shifted.year, shifted.month)[1]
    return shifted.replace(day=min(anchor, last))


_CYCLE_WORDS = {
    "mensal": (CycleUnit.MONTH, 1),
    "mes": (CycleUnit.MONTH, 1),
    "month": (CycleUnit.MONTH, 1),
    "week": (CycleUnit.WEEK, 1),
    "year": (CycleUnit.YEAR, 1),
    "monthly": (CycleUnit.MONTH, 1),
    "bimestral": (CycleUnit.MONTH, 2),
    "trimestral": (CycleUnit.MONTH, 3),
    "quadrimestral": (CycleUnit.MONTH, 4),
    "semestral": (CycleUnit.MONTH, 6),
    "semanal": (CycleUnit.WEEK, 1),
    "semana": (CycleUnit.WEEK, 1),
    "weekly": (CycleUnit.WEEK, 1),
    "anual": (CycleUnit.YEAR, 1),
    "ano": (CycleUnit.YEAR, 1),
    "yearly": (CycleUnit.YEAR, 1),
    "annual": (CycleUnit.YEAR, 1),
}
_UNIT_WORDS = {
    "mes": CycleUnit.MONTH,
    "meses": CycleUnit.MONTH,
    "month": CycleUnit.MONTH,
    "months": CycleUnit.MONTH,
    "semana": CycleUnit.WEEK,
    "semanas": CycleUnit.WEEK,
    "week": CycleUnit.WEEK,
    "weeks": CycleUnit.WEEK,
    "ano": CycleUnit.YEAR,
    "anos": CycleUnit.YEAR,
    "year": CycleUnit.YEAR,
    "years": CycleUnit.YEAR,
}
_EVERY_N = re.compile(r"^(?:a cada|cada|every)?\s*(\d{1,2})\s*([a-z]+)$")


def parse_cycle(text: str) -> BillingCycle:
    """Read a cycle as sellers write it: "mensal", "trimestral", "a cada 3 meses", "month:3"."""
    raw = (text or "").strip().lower()
    cleaned = raw.translate(str.maketrans("êéáç", "eeac"))
    if not cleaned:
        return BillingCycle.monthly()
    if cleaned in _CYCLE_WORDS:
        unit, every = _CYCLE_WORDS[cleaned]
        return BillingCycle(unit, every)
    if ":" in cleaned:
        return BillingCycle.from_code(cleaned)
    match = _EVERY_N.match(cleaned)
    if match and match.group(2) in _UNIT_WORDS:
        return BillingCycle(_UNIT_WORDS[match.group(2)], int(match.group(1)))
    raise InvalidCycleError(
        _(
            "Não entendi o ciclo {cycle}. Use mensal, trimestral, semanal, anual "
            'ou "a cada N meses".'
        ).format(cycle=repr(text.strip())),
        _("mensal"),
    )

"""Dates as Brazilians write them: parse relative to the seller's today, format as dd/mm/aaaa.

``today`` is always passed in (the caller derives it from the account's timezone), so the
parser stays pure and "amanhã" means the seller's tomorrow, not the server's.

Choices for inputs that could mean more than one day:

- "dia 10" or just "10": the next day 10 counting today, so on the 10th it is today and on
  the 11th it is the 10th of next month. Days past the end of a month are clamped: "dia 31"
  in February is the 28th (or 29th).
- "segunda", "sexta-feira", "sáb": the next one strictly after today. On a Monday,
  "segunda" means a week from now; a seller who means today writes "hoje".
- "10/12" without a year: this year, unless that day is more than ~6 months (183 days) in
  the past, then next year; so in January "10/12" is this December and in December "10/01"
  is next January. Due dates are about the near future, which this rule favours.
- Two-digit years are 20xx. Years before 2000 or more than 10 years ahead are refused as
  typos.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from clientmgr.core.i18n import _
from clientmgr.errors import InvalidDateError

__all__ = ["format_date", "parse_date"]

_MAX_INPUT = 64
_PAST_WINDOW = timedelta(days=183)
_MIN_YEAR = 2000
_MAX_YEARS_AHEAD = 10

_MONTH_NAMES = (
    "janeiro",
    "fevereiro",
    "março",
    "abril",
    "maio",
    "junho",
    "julho",
    "agosto",
    "setembro",
    "outubro",
    "novembro",
    "dezembro",
)
# Accent-free names and their 3-letter abbreviations, as typed on a phone keyboard.
_MONTHS = {name: i for i, name in enumerate(_MONTH_NAMES, start=1)} | {
    "marco": 3,
    **{name[:3]: i for i, name in enumerate(_MONTH_NAMES, start=1) if name != "março"},
    "mar": 3,
}

# Monday is 0, like date.weekday().
_WEEKDAYS = {
    "segunda": 0,
    "seg": 0,
    "terca": 1,
    "ter": 1,
    "quarta": 2,
    "qua": 2,
    "quinta": 3,
    "qui": 3,
    "sexta": 4,
    "sex": 4,
    "sabado": 5,
    "sab": 5,
    "domingo": 6,
    "dom": 6,
}
_RELATIVE = {"ontem": -1, "hoje": 0, "amanha": 1, "depois de amanha": 2}

_PREFIX = re.compile(r"^(?:(?:no|na|dia|proximo|proxima|para|pra)\s+)+")
_DAY = re.compile(r"[0-9]{1,3}")
_NUMERIC = re.compile(
    r"(?P<d>[0-9]{1,3})\s*(?P<sep>[/.-])\s*(?P<m>[0-9]{1,3})(?:\s*(?P=sep)\s*(?P<y>[0-9]+))?"
)
_ISO = re.compile(
    r"(?P<y>[0-9]{4})\s*(?P<sep>[/.-])\s*(?P<m>[0-9]{1,2})\s*(?P=sep)\s*(?P<d>[0-9]{1,2})"
)
_WRITTEN = re.compile(r"(?P<d>[0-9]{1,3})\s+de\s+(?P<m>[a-z]+)(?:\s+de\s+(?P<y>[0-9]+))?")
_FEIRA = re.compile(r"[\s-]*feira$")


def format_date(value: date) -> str:
    """10/12/2026."""
    return value.strftime("%d/%m/%Y")


def parse_date(text: str, today: date) -> date:
    """Read a date the way a Brazilian seller writes it, relative to ``today``.

    Accepts "10/12", "10/12/2026", "10-12-26", "10.12.2026", "2026-12-10", "dia 10", "10",
    "10 de dezembro", "hoje", "amanhã", "depois de amanhã", "ontem" and weekday names
    ("segunda", "terça-feira", "sáb"). Raises InvalidDateError with a pt-BR reason otherwise.
    """
    cleaned = _PREFIX.sub("", _normalise(text))
    if cleaned in _RELATIVE:
        return today + timedelta(days=_RELATIVE[cleaned])

    if match := _ISO.fullmatch(cleaned):
        return _build(int(match["d"]), int(match["m"]), int(match["y"]), today)
    if match := _NUMERIC.fullmatch(cleaned):
        day, month = int(match["d"]), int(match["m"])
        if match["y"] is None:
            return _without_year(day, month, today)
        return _build(day, month, _full_year(match["y"]), today)
    if match := _WRITTEN.fullmatch(cleaned):
        month = _MONTHS.get(match["m"])
        if month is None:
            raise InvalidDateError(
                _('Não conheço o mês "{month}".').format(month=match["m"]), _("10 de dezembro")
            )
        if match["y"] is None:
            return _without_year(int(match["d"]), month, today)
        return _build(int(match["d"]), month, _full_year(match["y"]), today)
    if _DAY.fullmatch(cleaned):
        return _next_day_of_month(int(cleaned), today)
    if (weekday := _WEEKDAYS.get(_FEIRA.sub("", cleaned))) is not None:
        ahead = (weekday - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)
    raise InvalidDateError(_("Não entendi a data."))


def _normalise(text: str) -> str:
    """Lower case, no accents, single spaces: "Terça-Feira " and "terca-feira" look alike."""
    if len(text) > _MAX_INPUT * 4:
        raise InvalidDateError(_("Isso está comprido demais para ser uma data."))
    decomposed = unicodedata.normalize("NFKD", text.lower())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    cleaned = " ".join(plain.split())
    if not cleaned:
        raise InvalidDateError(_("Você não escreveu a data."))
    if len(cleaned) > _MAX_INPUT:
        raise InvalidDateError(_("Isso está comprido demais para ser uma data."))
    return cleaned


def _full_year(text: str) -> int:
    """ "26" is 2026; 3-digit years are refused instead of guessed."""
    if len(text) == 2:
        return 2000 + int(text)
    if len(text) == 4:
        return int(text)
    raise InvalidDateError(_("Escreva o ano com 2 ou 4 números."), "10/12/2026")


def _check_day_month(day: int, month: int) -> None:
    """Refuse days and months that exist in no year, before any year is chosen."""
    if not 1 <= month <= 12:
        raise InvalidDateError(_("O mês precisa ser de 1 a 12."))
    if not 1 <= day <= 31:
        raise InvalidDateError(_("O dia precisa ser de 1 a 31."))
    if day > calendar.monthrange(2000, month)[1]:  # 2000 is a leap year: the widest month
        raise InvalidDateError(
            _("{month} não tem dia {day}.").format(
                month=_MONTH_NAMES[month - 1].capitalize(), day=day
            )
        )


def _build(day: int, month: int, year: int, today: date) -> date:
    """The date, or a reason naming what is wrong with it."""
    _check_day_month(day, month)
    latest = today + relativedelta(years=_MAX_YEARS_AHEAD)
    if not _MIN_YEAR <= year <= latest.year:
        raise InvalidDateError(
            _("O ano precisa ser entre {first} e {last}.").format(first=_MIN_YEAR, last=latest.year)
        )
    if day > calendar.monthrange(year, month)[1]:
        month_name = _MONTH_NAMES[month - 1].capitalize()
        raise InvalidDateError(
            _("{month} de {year} não tem dia {day}.").format(month=month_name, year=year, day=day)
        )
    result = date(year, month, day)
    if result > latest:
        raise InvalidDateError(
            _("Essa data está longe demais: o limite é {limit}.").format(limit=format_date(latest))
        )
    return result


def _without_year(day: int, month: int, today: date) -> date:
    """This year's day/month, or next year's if this year's is long past."""
    _check_day_month(day, month)
    year = today.year
    # Compare with the clamped day so "29/02" long past in a common year looks ahead too.
    if today - _clamped(year, month, day) > _PAST_WINDOW:
        year += 1
    return _build(day, month, year, today)


def _next_day_of_month(day: int, today: date) -> date:
    """The next day ``day`` counting today, clamped to shorter months."""
    if not 1 <= day <= 31:
        raise InvalidDateError(_("O dia precisa ser de 1 a 31."))
    candidate = _clamped(today.year, today.month, day)
    if candidate < today:
        following = today + relativedelta(months=1)
        candidate = _clamped(following.year, following.month, day)
    return candidate


def _clamped(year: int, month: int, day: int) -> date:
    """Day ``day`` of the month, or its last day if the month is shorter."""
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))

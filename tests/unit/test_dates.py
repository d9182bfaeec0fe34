"""parse_date and format_date: dates relative to the seller's today, with reasons for refusals."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientmgr.core.dates import format_date, parse_date
from clientmgr.errors import InvalidDateError, InvalidInputError

TODAY = date(2026, 2, 10)  # a Tuesday


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10/12", date(2026, 12, 10)),
        ("10/12/2026", date(2026, 12, 10)),
        ("10-12-26", date(2026, 12, 10)),
        ("10.12.2026", date(2026, 12, 10)),
        ("1/3", date(2026, 3, 1)),
        ("10 / 12 / 2026", date(2026, 12, 10)),
        ("2026-12-10", date(2026, 12, 10)),
        ("2027/01/05", date(2027, 1, 5)),
        ("１０/１２", date(2026, 12, 10)),
        ("29/02/2028", date(2028, 2, 29)),
        ("10/02/2036", date(2036, 2, 10)),  # exactly ten years ahead is still fine
        ("01/01/2000", date(2000, 1, 1)),
        # without a year: this year unless more than ~6 months past
        ("10/01", date(2026, 1, 10)),
        ("10/08", date(2026, 8, 10)),
        ("10 de dezembro", date(2026, 12, 10)),
        ("10 de março de 2027", date(2027, 3, 10)),
        ("5 de jan", date(2026, 1, 5)),
        # day of month: next occurrence counting today, clamped to month end
        ("dia 10", date(2026, 2, 10)),
        ("10", date(2026, 2, 10)),
        ("dia 9", date(2026, 3, 9)),
        ("9", date(2026, 3, 9)),
        ("dia 28", date(2026, 2, 28)),
        ("dia 31", date(2026, 2, 28)),
        ("no dia 15", date(2026, 2, 15)),
        ("Dia 1", date(2026, 3, 1)),
        # relative words
        ("hoje", date(2026, 2, 10)),
        ("HOJE", date(2026, 2, 10)),
        ("amanhã", date(2026, 2, 11)),
        ("amanha", date(2026, 2, 11)),
        ("pra amanhã", date(2026, 2, 11)),
        ("depois de amanhã", date(2026, 2, 12)),
        ("Depois  de  amanha", date(2026, 2, 12)),
        ("ontem", date(2026, 2, 9)),
        # weekdays: the next one strictly after today
        ("terça", date(2026, 2, 17)),
        ("terca-feira", date(2026, 2, 17)),
        ("quarta", date(2026, 2, 11)),
        ("quinta-feira", date(2026, 2, 12)),
        ("sexta feira", date(2026, 2, 13)),
        ("próxima sexta", date(2026, 2, 13)),
        ("sábado", date(2026, 2, 14)),
        ("sabado", date(2026, 2, 14)),
        ("domingo", date(2026, 2, 15)),
        ("segunda", date(2026, 2, 16)),
        ("Segunda-Feira", date(2026, 2, 16)),
        ("seg", date(2026, 2, 16)),
    ],
)
def test_parses(text: str, expected: date) -> None:
    assert parse_date(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "today", "expected"),
    [
        # more than ~6 months past rolls to next year
        ("10/01", date(2026, 12, 20), date(2027, 1, 10)),
        ("10/06", date(2026, 12, 20), date(2027, 6, 10)),
        ("10/07", date(2026, 12, 20), date(2026, 7, 10)),  # 163 days back: still this year
        ("20/12", date(2026, 1, 5), date(2026, 12, 20)),
        ("29/02", date(2027, 10, 1), date(2028, 2, 29)),  # rolls into a leap year
        # day-of-month clamping across year end and leap years
        ("dia 5", date(2026, 12, 20), date(2027, 1, 5)),
        ("dia 31", date(2028, 2, 1), date(2028, 2, 29)),
        ("dia 31", date(2026, 4, 30), date(2026, 4, 30)),
        ("dia 30", date(2026, 1, 31), date(2026, 2, 28)),
        ("dia 31", date(2026, 1, 31), date(2026, 1, 31)),
        # weekday on the same weekday is next week
        ("terça", date(2026, 2, 10), date(2026, 2, 17)),
        ("segunda", date(2026, 2, 15), date(2026, 2, 16)),
        ("amanhã", date(2026, 12, 31), date(2027, 1, 1)),
    ],
)
def test_parses_relative_to_today(text: str, today: date, expected: date) -> None:
    assert parse_date(text, today) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("31/02", "Fevereiro não tem dia 31."),
        ("30/02/2028", "Fevereiro não tem dia 30."),
        ("31/04", "Abril não tem dia 31."),
        ("29/02", "Fevereiro de 2026 não tem dia 29."),
        ("29/02/2027", "Fevereiro de 2027 não tem dia 29."),
        ("00/10", "O dia precisa ser de 1 a 31."),
        ("32/01", "O dia precisa ser de 1 a 31."),
        ("dia 0", "O dia precisa ser de 1 a 31."),
        ("dia 32", "O dia precisa ser de 1 a 31."),
        ("0", "O dia precisa ser de 1 a 31."),
        ("10/13", "O mês precisa ser de 1 a 12."),
        ("10/00", "O mês precisa ser de 1 a 12."),
        ("2026-13-01", "O mês precisa ser de 1 a 12."),
        ("10/12/1999", "O ano precisa ser entre 2000 e 2036."),
        ("10/12/2037", "O ano precisa ser entre 2000 e 2036."),
        ("11/02/2036", "Essa data está longe demais: o limite é 10/02/2036."),
        ("10/12/236", "Escreva o ano com 2 ou 4 números."),
        ("", "Você não escreveu a data."),
        (" \t ", "Você não escreveu a data."),
        ("abc", "Não entendi a data."),
        ("dia", "Não entendi a data."),
        ("10/12-2026", "Não entendi a data."),
        ("20261210", "Não entendi a data."),
        ("segundona", "Não entendi a data."),
        ("10\x00/12", "Não entendi a data."),
        ("10 de abc", 'Não conheço o mês "abc".'),
    ],
)
def test_rejects_with_reason(text: str, reason: str) -> None:
    with pytest.raises(InvalidDateError) as info:
        parse_date(text, TODAY)
    assert info.value.reason == reason


@pytest.mark.parametrize("text", ["1" * 10_000, "10/12" * 2000, "hoje " * 2000, " " * 10_000])
def test_huge_input_is_refused_not_crashed(text: str) -> None:
    with pytest.raises(InvalidDateError):
        parse_date(text, TODAY)


def test_format_date() -> None:
    assert format_date(date(2026, 12, 10)) == "10/12/2026"
    assert format_date(date(2026, 1, 5)) == "05/01/2026"


_todays = st.dates(min_value=date(2001, 1, 1), max_value=date(2089, 12, 31))


def _outcome(text: str, today: date) -> date | InvalidInputError:
    """The parsed value, or the input error raised; anything else propagates and fails."""
    try:
        return parse_date(text, today)
    except InvalidInputError as exc:
        return exc


@given(st.text(), _todays)
def test_never_crashes_on_any_text(text: str, today: date) -> None:
    result = _outcome(text, today)
    if isinstance(result, InvalidInputError):
        assert isinstance(result, InvalidDateError)
        assert result.reason
    else:
        assert isinstance(result, date)


@given(st.text(alphabet="0123456789/-. diasegunhoj", max_size=16), _todays)
def test_never_crashes_on_date_like_text(text: str, today: date) -> None:
    result = _outcome(text, today)
    if isinstance(result, InvalidInputError):
        assert isinstance(result, InvalidDateError)
        assert result.reason
    else:
        assert date(2000, 1, 1) <= result


@given(st.data())
def test_round_trips_through_format_date(data: st.DataObject) -> None:
    today = data.draw(_todays)
    limit = date(today.year + 10, today.month, min(today.day, 28))
    value = data.draw(st.dates(min_value=date(2000, 1, 1), max_value=limit))
    assert parse_date(format_date(value), today) == value


@given(_todays, st.integers(min_value=1, max_value=31))
def test_day_of_month_is_never_in_the_past_nor_too_far(today: date, day: int) -> None:
    result = parse_date(f"dia {day}", today)
    assert today <= result
    assert (result - today).days <= 31

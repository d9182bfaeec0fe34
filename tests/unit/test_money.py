"""parse_money and format_brl: reais the way sellers type them, never through float."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientmgr.core.money import MAX_AMOUNT, format_brl, parse_money
from clientmgr.errors import InvalidInputError, InvalidMoneyError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("35", "35.00"),
        ("35,9", "35.90"),
        ("35,90", "35.90"),
        ("R$ 35,90", "35.90"),
        ("r$35", "35.00"),
        ("R$35,90", "35.90"),
        ("R$\u00a035,90", "35.90"),
        ("  35,90  ", "35.90"),
        ("35 reais", "35.00"),
        ("R$ 1.234,56", "1234.56"),
        ("1.234", "1234.00"),  # pt-BR thousands dot
        ("35.900", "35900.00"),
        ("1.000.000", "1000000.00"),
        ("999.999,99", "999999.99"),
        ("1234.56", "1234.56"),  # a single dot with 1-2 decimals is a decimal point
        ("35.9", "35.90"),
        ("1,234.56", "1234.56"),  # both separators: the last one is the decimal one
        ("1.234,5", "1234.50"),
        ("1234,56", "1234.56"),
        (",50", "0.50"),
        ("35,", "35.00"),
        ("0", "0.00"),  # free plans exist
        ("0,00", "0.00"),
        ("R$ 0,00", "0.00"),
        ("007", "7.00"),
        ("1.000.000,00", "1000000.00"),
        ("１２,５０", "12.50"),
    ],
)
def test_parses(text: str, expected: str) -> None:
    result = parse_money(text)
    assert result == Decimal(expected)
    assert str(result) == expected  # always exactly 2 places


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("", "não escreveu"),
        ("   ", "não escreveu"),
        ("-5", "negativo"),
        ("- 5,00", "negativo"),
        ("R$ -5", "negativo"),
        ("-R$ 3,00", "negativo"),
        ("−3", "negativo"),  # Unicode minus sign
        ("35,901", "2 números"),
        ("0,001", "2 números"),
        ("1,234", "2 números"),  # comma is always decimal in pt-BR
        ("1.2345", "2 números"),
        ("abc", "letras"),
        ("trinta reais", "letras"),
        ("35 conto", "letras"),
        ("1.000.000,01", "alto demais"),
        ("2.000.000", "alto demais"),
        ("9" * 60, "alto demais"),
        ("1,234,567", "Não entendi"),
        ("12.34,5", "ponto para milhar"),
        ("1.234.56", "ponto para milhar"),
        ("1,234,56.00", "ponto para milhar"),
        ("R$", "Não entendi"),
        (".", "Não entendi"),
        (",", "Não entendi"),
        ("35%", "Não entendi"),
        ("35 90", "Não entendi"),
        ("3\x005", "Não entendi"),
    ],
)
def test_rejects_with_reason(text: str, reason_part: str) -> None:
    with pytest.raises(InvalidMoneyError) as info:
        parse_money(text)
    assert reason_part in info.value.reason


def test_error_shows_an_example() -> None:
    with pytest.raises(InvalidMoneyError) as info:
        parse_money("abc")
    assert "Exemplo: 35,90" in str(info.value)


@pytest.mark.parametrize("text", ["9" * 10_000, "R$ " + "1" * 10_000, "x" * 10_000, " " * 10_000])
def test_huge_input_is_refused_not_crashed(text: str) -> None:
    with pytest.raises(InvalidMoneyError):
        parse_money(text)


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        ("35.9", "R$ 35,90"),
        ("1234.56", "R$ 1.234,56"),
        ("0", "R$ 0,00"),
        ("1000000", "R$ 1.000.000,00"),
    ],
)
def test_format_brl(amount: str, expected: str) -> None:
    assert format_brl(Decimal(amount)) == expected


def _outcome(text: str) -> Decimal | InvalidInputError:
    """The parsed value, or the input error raised; anything else propagates and fails."""
    try:
        return parse_money(text)
    except InvalidInputError as exc:
        return exc


@given(st.text())
def test_never_crashes_on_any_text(text: str) -> None:
    result = _outcome(text)
    if isinstance(result, InvalidInputError):
        assert isinstance(result, InvalidMoneyError)
        assert result.reason
    else:
        assert isinstance(result, Decimal)
        assert Decimal(0) <= result <= MAX_AMOUNT


@given(st.text(alphabet="0123456789.,-R$r ", max_size=20))
def test_never_crashes_on_money_like_text(text: str) -> None:
    result = _outcome(text)
    if isinstance(result, InvalidInputError):
        assert isinstance(result, InvalidMoneyError)
        assert result.reason
    else:
        assert result.as_tuple().exponent == -2
        assert parse_money(format_brl(result)) == result


@given(st.decimals(min_value=0, max_value=MAX_AMOUNT, places=2, allow_nan=False))
def test_round_trips_through_format_brl(amount: Decimal) -> None:
    assert parse_money(format_brl(amount)) == amount

"""parse_phone, format_phone and is_mobile: what sellers type, and why we refuse the rest."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientmgr.core.phones import format_phone, is_mobile, parse_phone
from clientmgr.errors import InvalidInputError, InvalidPhoneError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(11) 98888-7777", "+5511988887777"),
        ("11988887777", "+5511988887777"),
        ("+55 11 9 8888-7777", "+5511988887777"),
        ("011 98888-7777", "+5511988887777"),
        ("55 11 98888 7777", "+5511988887777"),
        ("+55 (11) 98888-7777", "+5511988887777"),
        ("(11)98888-7777", "+5511988887777"),
        ("11.98888.7777", "+5511988887777"),
        ("  (11) 98888-7777\n", "+5511988887777"),
        ("11\u00a098888-7777", "+5511988887777"),  # no-break space pasted from the web
        ("１１９８８８８７７７７", "+5511988887777"),  # full-width digits from some keyboards
        ("0 21 11 98888-7777", "+5511988887777"),  # with a carrier code
        ("(11) 3333-4444", "+551133334444"),
        ("+55 11 2888-7777", "+551128887777"),
        ("(55) 98888-7777", "+5555988887777"),  # DDD 55 is Santa Maria, RS
        ("(21) 99999-0000", "+5521999990000"),
        ("+1 650 253 0000", "+16502530000"),
        ("+44 7911 123456", "+447911123456"),
        ("+351 912 345 678", "+351912345678"),
    ],
)
def test_parses_to_e164(text: str, expected: str) -> None:
    assert parse_phone(text) == expected


@pytest.mark.parametrize(
    ("text", "reason_part"),
    [
        ("", "não escreveu"),
        ("   \t\n", "não escreveu"),
        ("abc", "letras"),
        ("11 98888-7777 ramal 2", "letras"),
        ("1-800-FLOWERS", "letras"),
        ("11 98888-7777 😀", "símbolos"),
        ("11\x0098888-7777", "símbolos"),
        ("11#98888*7777", "símbolos"),
        ("()-", "nenhum número"),
        ("11+98888-7777", "sinal +"),
        ("98888-7777", "Faltou o DDD"),
        ("3333-4444", "Faltou o DDD"),
        ("988887777", "Faltou o DDD"),
        ("(20) 98888-7777", "DDD 20 não existe"),
        ("(10) 3333-4444", "DDD 10 não existe"),
        ("(11) 8888-7777", "Faltou o 9"),
        ("11 98888-777", "9 números depois do DDD"),
        ("1234567", "curto"),
        ("+55 11", "curto"),
        ("119888877771234", "comprido"),
        ("+55 11 98888-7777 1234 5678", "comprido"),
        ("+1 555 555 5555", "não existe"),
        ("+999 1234 5678", "código do país"),
    ],
)
def test_rejects_with_reason(text: str, reason_part: str) -> None:
    with pytest.raises(InvalidPhoneError) as info:
        parse_phone(text)
    assert reason_part in info.value.reason


def test_missing_nine_suggests_the_fixed_number() -> None:
    with pytest.raises(InvalidPhoneError) as info:
        parse_phone("(11) 8888-7777")
    assert info.value.example == "(11) 98888-7777"


def test_missing_ddd_only_for_brazil() -> None:
    """Eight digits are a whole number elsewhere, so the DDD hint must not leak abroad."""
    with pytest.raises(InvalidPhoneError) as info:
        parse_phone("9888-7777", region="US")
    assert "DDD" not in info.value.reason


def test_other_default_region() -> None:
    assert parse_phone("(650) 253-0000", region="US") == "+16502530000"


@pytest.mark.parametrize(
    "text", ["1" * 10_000, "(11) 98888-7777" * 700, "a" * 10_000, " " * 10_000]
)
def test_huge_input_is_refused_not_crashed(text: str) -> None:
    with pytest.raises(InvalidPhoneError):
        parse_phone(text)


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+5511988887777", "(11) 98888-7777"),
        ("+551133334444", "(11) 3333-4444"),
        ("+5555988887777", "(55) 98888-7777"),
        ("+16502530000", "+1 650-253-0000"),
        ("+447911123456", "+44 7911 123456"),
    ],
)
def test_format_phone(e164: str, expected: str) -> None:
    assert format_phone(e164) == expected


@pytest.mark.parametrize(
    ("e164", "expected"),
    [
        ("+5511988887777", True),
        ("+551133334444", False),
        ("+558001234567", False),
        ("+447911123456", True),
        ("+16502530000", True),  # US plans don't tell mobiles apart: count them in
    ],
)
def test_is_mobile(e164: str, expected: bool) -> None:
    assert is_mobile(e164) is expected


@pytest.mark.parametrize("bad", ["", "11988887777", "garbage"])
def test_format_and_is_mobile_refuse_non_e164(bad: str) -> None:
    with pytest.raises(InvalidPhoneError):
        format_phone(bad)
    with pytest.raises(InvalidPhoneError):
        is_mobile(bad)


def _outcome(text: str) -> str | InvalidInputError:
    """The parsed value, or the input error raised; anything else propagates and fails."""
    try:
        return parse_phone(text)
    except InvalidInputError as exc:
        return exc


@given(st.text())
def test_never_crashes_on_any_text(text: str) -> None:
    result = _outcome(text)
    if isinstance(result, InvalidInputError):
        assert isinstance(result, InvalidPhoneError)
        assert result.reason
    else:
        assert result.startswith("+")
        assert result[1:].isdigit()


@given(st.text(alphabet="0123456789 ()-.+", max_size=30))
def test_never_crashes_on_phone_like_text(text: str) -> None:
    result = _outcome(text)
    if isinstance(result, InvalidInputError):
        assert isinstance(result, InvalidPhoneError)
        assert result.reason
    else:
        assert parse_phone(result) == result
        assert parse_phone(format_phone(result)) == result


@given(st.integers(min_value=0, max_value=99_999_999))
def test_mobile_round_trip(suffix: int) -> None:
    e164 = f"+55119{suffix:08d}"
    assert parse_phone(format_phone(e164)) == e164

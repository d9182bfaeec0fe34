"""Due-date math: month ends clamp without drifting, weeks are exact, words parse as typed."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientmgr.core.cycles import BillingCycle, CycleUnit, advance_due_date, parse_cycle
from clientmgr.errors import InvalidCycleError, InvalidInputError

MONTHLY = BillingCycle.monthly()


# --- monthly / every N months / weekly / yearly ----------------------------------------------


@pytest.mark.parametrize(
    ("due", "cycle", "expected"),
    [
        (date(2026, 12, 10), MONTHLY, date(2027, 1, 10)),
        (date(2026, 1, 15), MONTHLY, date(2026, 2, 15)),
        (date(2026, 1, 15), BillingCycle.monthly(3), date(2026, 4, 15)),
        (date(2026, 11, 30), BillingCycle.monthly(3), date(2027, 2, 28)),
        (date(2026, 8, 31), BillingCycle.monthly(6), date(2027, 2, 28)),
        (date(2026, 12, 10), BillingCycle.weekly(), date(2026, 12, 17)),
        (date(2026, 12, 28), BillingCycle.weekly(2), date(2027, 1, 11)),
        (date(2026, 3, 5), BillingCycle.yearly(), date(2027, 3, 5)),
        (date(2028, 2, 29), BillingCycle.yearly(), date(2029, 2, 28)),
    ],
)
def test_one_cycle(due: date, cycle: BillingCycle, expected: date) -> None:
    assert advance_due_date(due, cycle) == expected


def test_month_end_clamps_and_comes_back_to_the_31st() -> None:
    jan = date(2027, 1, 31)
    feb = advance_due_date(jan, MONTHLY, anchor_day=31)
    mar = advance_due_date(feb, MONTHLY, anchor_day=31)
    apr = advance_due_date(mar, MONTHLY, anchor_day=31)
    assert (feb, mar, apr) == (date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30))


def test_leap_year_february_gets_the_29th() -> None:
    feb = advance_due_date(date(2028, 1, 31), MONTHLY, anchor_day=31)
    assert feb == date(2028, 2, 29)
    assert advance_due_date(feb, MONTHLY, anchor_day=31) == date(2028, 3, 31)


def test_the_30th_goes_through_february_and_back() -> None:
    feb = advance_due_date(date(2027, 1, 30), MONTHLY, anchor_day=30)
    assert feb == date(2027, 2, 28)
    assert advance_due_date(feb, MONTHLY, anchor_day=30) == date(2027, 3, 30)


def test_a_year_of_31st_never_settles_on_the_28th() -> None:
    due = date(2027, 1, 31)
    seen = []
    for _ in range(12):
        due = advance_due_date(due, MONTHLY, anchor_day=31)
        seen.append(due.day)
    assert seen == [28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 31]


def test_yearly_anchor_brings_back_the_29th_of_february() -> None:
    due = advance_due_date(date(2028, 2, 29), BillingCycle.yearly(), anchor_day=29)
    assert due == date(2029, 2, 28)
    assert advance_due_date(due, BillingCycle.yearly(), anchor_day=29, n=3) == date(2032, 2, 29)


def test_anchor_defaults_to_the_due_dates_own_day() -> None:
    assert advance_due_date(date(2027, 2, 28), MONTHLY) == date(2027, 3, 28)


def test_several_cycles_at_once() -> None:
    assert advance_due_date(date(2027, 1, 31), MONTHLY, anchor_day=31, n=3) == date(2027, 4, 30)
    assert advance_due_date(date(2027, 1, 10), BillingCycle.weekly(), n=4) == date(2027, 2, 7)


def test_zero_cycles_is_the_same_day_and_negative_is_refused() -> None:
    assert advance_due_date(date(2027, 1, 10), MONTHLY, n=0) == date(2027, 1, 10)
    with pytest.raises(ValueError, match="n must be"):
        advance_due_date(date(2027, 1, 10), MONTHLY, n=-1)


# --- BillingCycle --------------------------------------------------------------------------


@pytest.mark.parametrize("every", [0, -1, 61])
def test_cycle_length_is_bounded(every: int) -> None:
    with pytest.raises(InvalidCycleError):
        BillingCycle.monthly(every)


@pytest.mark.parametrize(
    ("cycle", "code", "label"),
    [
        (BillingCycle.monthly(), "month", "mensal"),
        (BillingCycle.monthly(2), "month:2", "bimestral"),
        (BillingCycle.monthly(3), "month:3", "trimestral"),
        (BillingCycle.monthly(6), "month:6", "semestral"),
        (BillingCycle.monthly(4), "month:4", "a cada 4 meses"),
        (BillingCycle.weekly(), "week", "semanal"),
        (BillingCycle.weekly(2), "week:2", "a cada 2 semanas"),
        (BillingCycle.yearly(), "year", "anual"),
        (BillingCycle.yearly(2), "year:2", "a cada 2 anos"),
    ],
)
def test_code_round_trips_and_label_reads_pt_br(cycle: BillingCycle, code: str, label: str) -> None:
    assert cycle.code == code
    assert BillingCycle.from_code(code) == cycle
    assert cycle.label() == label


@pytest.mark.parametrize("code", ["day", "month:x", "month:0", ""])
def test_bad_codes_are_invalid_cycles(code: str) -> None:
    with pytest.raises(InvalidCycleError):
        BillingCycle.from_code(code)


# --- parse_cycle -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mensal", BillingCycle.monthly()),
        ("Mensal", BillingCycle.monthly()),
        ("  MENSAL  ", BillingCycle.monthly()),
        ("mês", BillingCycle.monthly()),
        ("monthly", BillingCycle.monthly()),
        ("", BillingCycle.monthly()),
        ("bimestral", BillingCycle.monthly(2)),
        ("trimestral", BillingCycle.monthly(3)),
        ("quadrimestral", BillingCycle.monthly(4)),
        ("semestral", BillingCycle.monthly(6)),
        ("semanal", BillingCycle.weekly()),
        ("anual", BillingCycle.yearly()),
        ("a cada 3 meses", BillingCycle.monthly(3)),
        ("A cada 2 mêses", BillingCycle.monthly(2)),
        ("cada 4 semanas", BillingCycle.weekly(4)),
        ("every 2 years", BillingCycle.yearly(2)),
        ("3 meses", BillingCycle.monthly(3)),
        ("month:3", BillingCycle.monthly(3)),
        ("week:2", BillingCycle.weekly(2)),
    ],
)
def test_parse_cycle_words(text: str, expected: BillingCycle) -> None:
    assert parse_cycle(text) == expected


@pytest.mark.parametrize(
    "text", ["diário", "quinzenal", "a cada 3 dias", "todo dia 10", "a cada 0 meses", "xyz:2"]
)
def test_parse_cycle_refuses_with_a_pt_br_reason(text: str) -> None:
    with pytest.raises(InvalidCycleError) as info:
        parse_cycle(text)
    assert isinstance(info.value, InvalidInputError)
    assert info.value.reason
    assert info.value.example


def test_unknown_cycle_example_is_usable() -> None:
    with pytest.raises(InvalidCycleError) as info:
        parse_cycle("diário")
    assert parse_cycle(info.value.example) == BillingCycle.monthly()


@given(st.sampled_from(list(CycleUnit)), st.integers(1, 60))
def test_label_parses_back(unit: CycleUnit, every: int) -> None:
    cycle = BillingCycle(unit, every)
    assert parse_cycle(cycle.label()) == cycle


@given(st.sampled_from(list(CycleUnit)), st.integers(2, 60))
def test_multi_period_code_parses_back(unit: CycleUnit, every: int) -> None:
    cycle = BillingCycle(unit, every)
    assert parse_cycle(cycle.code) == cycle


@pytest.mark.parametrize("unit", list(CycleUnit))
def test_single_period_code_parses_back(unit: CycleUnit) -> None:
    cycle = BillingCycle(unit)
    assert parse_cycle(cycle.code) == cycle


# --- properties ----------------------------------------------------------------------------

dates = st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31))
cycles = st.builds(BillingCycle, st.sampled_from(list(CycleUnit)), st.integers(1, 12))


@given(dates, cycles, st.integers(0, 40))
def test_n_cycles_equal_n_single_advances(due: date, cycle: BillingCycle, n: int) -> None:
    step = due
    for _ in range(n):
        step = advance_due_date(step, cycle, anchor_day=due.day)
    assert advance_due_date(due, cycle, anchor_day=due.day, n=n) == step


@given(dates, st.integers(1, 12), st.integers(1, 40))
def test_day_of_month_never_drifts_below_the_anchor(due: date, every: int, n: int) -> None:
    cycle = BillingCycle.monthly(every)
    step = due
    for _ in range(n):
        step = advance_due_date(step, cycle, anchor_day=due.day)
        last_day = (step.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        assert step.day == min(due.day, last_day.day)


@given(dates, cycles, st.integers(1, 40))
def test_result_is_always_after_the_input(due: date, cycle: BillingCycle, n: int) -> None:
    assert advance_due_date(due, cycle, anchor_day=due.day, n=n) > due


@given(dates, st.integers(1, 12), st.integers(0, 40))
def test_weekly_is_exactly_seven_days_per_week(due: date, every: int, n: int) -> None:
    result = advance_due_date(due, BillingCycle.weekly(every), n=n)
    assert result - due == timedelta(days=7 * every * n)
    assert result.weekday() == due.weekday()


@given(dates, st.integers(1, 12), st.integers(1, 40))
def test_monthly_moves_exactly_the_right_number_of_months(due: date, every: int, n: int) -> None:
    result = advance_due_date(due, BillingCycle.monthly(every), n=n)
    months = (result.year - due.year) * 12 + result.month - due.month
    assert months == every * n

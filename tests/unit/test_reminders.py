"""Reminder policy: which days around the due date get which message, and when they may go out."""

from __future__ import annotations

from datetime import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from clientmgr.core.reminders import DEFAULT_OFFSETS, ReminderPolicy, kind_for_offset
from clientmgr.core.templates import TemplateKind
from clientmgr.errors import InvalidInputError


def test_default_policy_is_minus_three_zero_one_three_between_eight_and_twenty() -> None:
    policy = ReminderPolicy()
    assert DEFAULT_OFFSETS == (-3, 0, 1, 3)
    assert policy.offsets == (-3, 0, 1, 3)
    assert (policy.window_start, policy.window_end) == (time(8, 0), time(20, 0))


def test_default_offsets_map_to_kinds() -> None:
    assert ReminderPolicy().schedule() == [
        (-3, TemplateKind.BEFORE_DUE),
        (0, TemplateKind.DUE_TODAY),
        (1, TemplateKind.OVERDUE),
        (3, TemplateKind.OVERDUE),
    ]


@pytest.mark.parametrize(
    ("offset", "kind"),
    [
        (-30, TemplateKind.BEFORE_DUE),
        (-1, TemplateKind.BEFORE_DUE),
        (0, TemplateKind.DUE_TODAY),
        (1, TemplateKind.OVERDUE),
        (30, TemplateKind.OVERDUE),
    ],
)
def test_kind_for_offset(offset: int, kind: TemplateKind) -> None:
    assert kind_for_offset(offset) is kind


def test_offsets_are_sorted_and_deduplicated() -> None:
    assert ReminderPolicy(offsets=(3, -1, 3, 0, -1)).offsets == (-1, 0, 3)


def test_offsets_accept_a_list() -> None:
    assert ReminderPolicy(offsets=[5, -5]).offsets == (-5, 5)  # type: ignore[arg-type]


def test_no_offsets_means_no_reminders() -> None:
    assert ReminderPolicy(offsets=()).schedule() == []


@pytest.mark.parametrize("offsets", [(-31,), (31,), (0, 45), (-100, 1)])
def test_offsets_beyond_thirty_days_are_rejected(offsets: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="30 dias"):
        ReminderPolicy(offsets=offsets)


@pytest.mark.parametrize("offsets", [("a",), (None,)])
def test_non_numeric_offsets_are_rejected(offsets: tuple[object, ...]) -> None:
    with pytest.raises((ValueError, TypeError)):
        ReminderPolicy(offsets=offsets)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("start", "end"),
    [(time(20, 0), time(8, 0)), (time(9, 0), time(9, 0)), (time(23, 59), time(0, 0))],
)
def test_window_must_start_before_it_ends(start: time, end: time) -> None:
    with pytest.raises(ValueError, match="horário"):
        ReminderPolicy(window_start=start, window_end=end)


def test_custom_window_is_kept() -> None:
    policy = ReminderPolicy(window_start=time(7, 30), window_end=time(21, 0))
    assert (policy.window_start, policy.window_end) == (time(7, 30), time(21, 0))


def test_policy_is_a_frozen_value() -> None:
    assert ReminderPolicy() == ReminderPolicy()
    assert hash(ReminderPolicy()) == hash(ReminderPolicy(offsets=(3, 1, 0, -3)))


@given(st.lists(st.integers(-30, 30), max_size=15))
def test_schedule_is_sorted_unique_and_every_kind_matches_its_sign(offsets: list[int]) -> None:
    schedule = ReminderPolicy(offsets=tuple(offsets)).schedule()
    days = [day for day, _ in schedule]
    assert days == sorted(set(offsets))
    for day, kind in schedule:
        if day < 0:
            assert kind is TemplateKind.BEFORE_DUE
        elif day == 0:
            assert kind is TemplateKind.DUE_TODAY
        else:
            assert kind is TemplateKind.OVERDUE


@pytest.mark.parametrize("offsets", [(1.7,), (-2.9, 0), (True,)])
def test_fractional_offsets_are_refused_not_truncated(offsets: tuple[object, ...]) -> None:
    with pytest.raises(InvalidInputError, match="inteiros"):
        ReminderPolicy(offsets=offsets)  # type: ignore[arg-type]

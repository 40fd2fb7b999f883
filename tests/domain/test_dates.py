"""Dates as people write them in Mexico, and month arithmetic."""

from __future__ import annotations

from datetime import date

import pytest

from guardianes.domain.dates import add_months, month_of, parse_day


@pytest.mark.parametrize(
    "text",
    ["2024-03-16", "2024-3-16", "16/03/2024", "16-03-2024", "16.03.2024", "16/3/2024", "16/03/24"],
)
def test_a_day_is_read_year_first_or_day_first(text: str) -> None:
    assert parse_day(text) == date(2024, 3, 16)


def test_a_two_digit_year_from_69_is_last_century() -> None:
    assert parse_day("01/01/69") == date(1969, 1, 1)


@pytest.mark.parametrize("text", ["31/02/2024", "2024-13-01", "mañana", "", "16/03"])
def test_text_naming_no_real_day_is_refused(text: str) -> None:
    assert parse_day(text) is None


def test_a_month_runs_from_its_first_to_its_last_day() -> None:
    assert month_of(date(2024, 2, 17)) == (date(2024, 2, 1), date(2024, 2, 29))


@pytest.mark.parametrize(
    ("count", "expected"), [(1, date(2025, 1, 1)), (-12, date(2023, 12, 1)), (0, date(2024, 12, 1))]
)
def test_months_are_added_across_years(count: int, expected: date) -> None:
    assert add_months(date(2024, 12, 20), count) == expected

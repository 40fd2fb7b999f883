"""Calendar days as people write them, and month arithmetic."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

# Day first, as written in Mexico: 16/03/2024, 16-03-2024, 16.03.2024, and 16/03/24.
_DAY_FIRST = re.compile(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})")
_DAY_FIRST_SHORT_YEAR = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{2})")
_YEAR_FIRST = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def parse_day(text: str) -> date | None:
    """A date written YYYY-MM-DD or day first (DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY, DD/MM/YY).

    None when the text is not one of those or names no real day (31/02/2024).
    """
    text = text.strip()
    try:
        if match := _DAY_FIRST.fullmatch(text):
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        if match := _DAY_FIRST_SHORT_YEAR.fullmatch(text):
            # Two-digit years as `strptime` reads them: 69-99 are 19xx, 00-68 are 20xx.
            return datetime.strptime(text, "%d/%m/%y").date()
        if match := _YEAR_FIRST.fullmatch(text):
            year, month, day = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


def month_of(day: date) -> tuple[date, date]:
    """First and last day of the day's calendar month."""
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def add_months(month: date, count: int) -> date:
    """The first day of the month `count` months after (or before) `month`."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)

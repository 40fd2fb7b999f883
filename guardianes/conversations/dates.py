"""Reading a date and time as staff type it, in Spanish or English.

Understood: `25/12/2026 10:00`, `25-12-26 10 am`, `2026-12-25T10:00`, `25 de diciembre 10:00`,
`December 25, 2026 10:30 pm`, `mañana a las 5 de la tarde`, `tomorrow 9am`, `el sábado 10:00`.
Numeric dates are day first, as in Mexico, unless only month first makes sense (`12/25`).
A date without a year is the next one to come. The result is naive local time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from guardianes.conversations.bounds import MAX_YEAR, MIN_YEAR
from guardianes.conversations.text import normalize

MONTHS: dict[str, int] = {
    "enero": 1,
    "ene": 1,
    "january": 1,
    "jan": 1,
    "febrero": 2,
    "feb": 2,
    "february": 2,
    "marzo": 3,
    "mar": 3,
    "march": 3,
    "abril": 4,
    "abr": 4,
    "april": 4,
    "apr": 4,
    "mayo": 5,
    "may": 5,
    "junio": 6,
    "jun": 6,
    "june": 6,
    "julio": 7,
    "jul": 7,
    "july": 7,
    "agosto": 8,
    "ago": 8,
    "august": 8,
    "aug": 8,
    "septiembre": 9,
    "setiembre": 9,
    "sep": 9,
    "sept": 9,
    "september": 9,
    "octubre": 10,
    "oct": 10,
    "october": 10,
    "noviembre": 11,
    "nov": 11,
    "november": 11,
    "diciembre": 12,
    "dic": 12,
    "december": 12,
    "dec": 12,
}
WEEKDAYS: dict[str, int] = {
    "lunes": 0,
    "monday": 0,
    "martes": 1,
    "tuesday": 1,
    "miercoles": 2,
    "wednesday": 2,
    "jueves": 3,
    "thursday": 3,
    "viernes": 4,
    "friday": 4,
    "sabado": 5,
    "saturday": 5,
    "domingo": 6,
    "sunday": 6,
}
# Longest first, so "pasado manana" wins over "manana".
RELATIVE_DAYS: dict[str, int] = {
    "pasado manana": 2,
    "day after tomorrow": 2,
    "manana": 1,
    "tomorrow": 1,
    "hoy": 0,
    "today": 0,
}
HOURS_PER_HALF_DAY = 12
CENTURY = 2000
TWO_DIGIT_YEAR = 100
MONTHS_PER_YEAR = 12
LOCAL_FORMAT = "%d/%m/%Y %H:%M"  # day first, as in Mexico

_MONTH_NAMES = "|".join(sorted(MONTHS, key=len, reverse=True))
_ISO = re.compile(r"\b(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:t|\b)")
_NUMERIC = re.compile(r"\b(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})\b|\b(\d{1,2})[/-](\d{1,2})\b")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})\s*(?:de\s+)?({_MONTH_NAMES})\b\.?(?:\s*(?:de\s+|del\s+|,\s*)?(\d{{4}})\b)?"
)
_MONTH_DAY = re.compile(
    rf"\b({_MONTH_NAMES})\b\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:\s*,?\s*(\d{{4}})\b)?"
)
_RELATIVE = re.compile(r"\b(" + "|".join(RELATIVE_DAYS) + r")\b")
_WEEKDAY = re.compile(r"\b(" + "|".join(WEEKDAYS) + r")\b")
# "de la tarde" and friends say am/pm in Spanish; they go before "manana" means tomorrow.
_HALF_DAY_WORDS = (
    (re.compile(r"\bde la (?:manana|madrugada)\b|\bin the morning\b"), " am "),
    (
        re.compile(r"\bde la (?:tarde|noche)\b|\bin the (?:afternoon|evening)\b|\bat night\b"),
        " pm ",
    ),
    (re.compile(r"\ba\.?\s?m\b\.?"), " am "),
    (re.compile(r"\bp\.?\s?m\b\.?"), " pm "),
)
_NOON = re.compile(r"\b(?:mediodia|noon)\b")
_TIME = re.compile(r"\b(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|hrs?\b|h\b)?")


@dataclass(frozen=True, slots=True)
class _Found:
    """A part recognised in the text, and the text with that part blanked out."""

    value: date
    rest: str


def _blank(text: str, match: re.Match[str]) -> str:
    return text[: match.start()] + " " + text[match.end() :]


def _make_date(year: int | None, month: int, day: int, today: date) -> date | None:
    """A calendar date; without a year, the first such date from today on."""
    if year is not None and year < TWO_DIGIT_YEAR:
        year += CENTURY
    if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
        return None  # year 9999 cannot even be moved to UTC: not a date anyone means
    try:
        if year is not None:
            return date(year, month, day)
        candidate = date(today.year, month, day)
        return candidate if candidate >= today else date(today.year + 1, month, day)
    except ValueError:
        return None


def _numeric_date(match: re.Match[str], today: date) -> date | None:
    first, second, year_text, short_first, short_second = match.groups()
    first = first or short_first
    second = second or short_second
    day, month = int(first), int(second)
    if month > MONTHS_PER_YEAR >= day:
        # Only month-first makes sense ("12/25"): an English habit worth accepting.
        day, month = month, day
    return _make_date(int(year_text) if year_text else None, month, day, today)


def _find_date(text: str, today: date) -> _Found | None:
    """The date in the text (None: no date at all, or an impossible one)."""
    if match := _ISO.search(text):
        year, month, day = (int(g) for g in match.groups())
        found = _make_date(year, month, day, today)
    elif match := _DAY_MONTH.search(text):
        day_text, month_name, year_text = match.groups()
        found = _make_date(
            int(year_text) if year_text else None, MONTHS[month_name], int(day_text), today
        )
    elif match := _MONTH_DAY.search(text):
        month_name, day_text, year_text = match.groups()
        found = _make_date(
            int(year_text) if year_text else None, MONTHS[month_name], int(day_text), today
        )
    elif match := _NUMERIC.search(text):
        found = _numeric_date(match, today)
    elif match := _RELATIVE.search(text):
        found = today + timedelta(days=RELATIVE_DAYS[match.group(1)])
    elif match := _WEEKDAY.search(text):
        # "el sábado" said on a Saturday means next week's: today has its own word.
        ahead = (WEEKDAYS[match.group(1)] - today.weekday()) % 7 or 7
        found = today + timedelta(days=ahead)
    else:
        return None
    return _Found(found, _blank(text, match)) if found is not None else None


def _find_time(text: str) -> tuple[time, str] | None:
    """The time of day in what is left of the text, and what is left after it."""
    if match := _NOON.search(text):
        return time(12, 0), _blank(text, match)
    match = _TIME.search(text)
    if match is None:
        return None
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    marker = match.group(3) or ""
    if marker in {"am", "pm"}:
        if not 1 <= hour <= HOURS_PER_HALF_DAY:
            return None
        hour %= HOURS_PER_HALF_DAY
        if marker == "pm":
            hour += HOURS_PER_HALF_DAY
    try:
        return time(hour, minute), _blank(text, match)
    except ValueError:
        return None


def parse_local_datetime(text: str, today: date) -> datetime | None:
    """The date and time a message names (naive, local), or None when it names no exact one."""
    folded = normalize(text)
    for pattern, replacement in _HALF_DAY_WORDS:
        folded = pattern.sub(replacement, folded)
    found = _find_date(folded, today)
    if found is None:
        return None
    timed = _find_time(found.rest)
    if timed is None:
        return None
    moment, rest = timed
    if re.search(r"\d", rest):
        # Numbers we could not place: better ask again than guess.
        return None
    return datetime.combine(found.value, moment)


def format_local_datetime(moment: datetime) -> str:
    """A local time as people in the programme read it: `25/12/2026 10:00`."""
    return moment.strftime(LOCAL_FORMAT)

"""Safe readings of numbers, times and texts that come from outside.

Every place that turns outside text into an integer, a moment or stored text goes through
here, so that "፩" (a digit to `str.isdigit` but not to `int`), a 400-digit number, a
timestamp of year 50,000 or a NUL character is refused in one way, at the edge, instead of
raising deep inside (an `OverflowError` in a database driver, a `ValueError` in `int`).
"""

from __future__ import annotations

import math
import unicodedata
from datetime import UTC, datetime

MAX_DB_INT = 2**63 - 1  # BIGINT
MAX_COUNT_DIGITS = 9  # a menu number, an option, a count of things: never more than this
MAX_NUMBER_DIGITS = 15  # integers a form accepts: exact as float too (2**53 ~ 9.007e15)
# Times a platform may sensibly stamp a message with (also inside datetime's range in any
# time zone, so converting them never overflows).
MIN_PLAUSIBLE = datetime(2000, 1, 1, tzinfo=UTC)
MAX_PLAUSIBLE = datetime(2200, 1, 1, tzinfo=UTC)
MIN_YEAR = 1900
MAX_YEAR = 2999
# Control characters a person never means to send; PostgreSQL text cannot hold NUL at all.
_KEPT_CONTROLS = frozenset("\n\t")


def ascii_digits(text: str) -> str | None:
    """The decimal digits of `text` as ASCII ("١٢" -> "12"); None if any is not a digit.

    Only true decimal digits (Unicode category Nd) count: "፩" or "²" are digits to
    `str.isdigit` but have no decimal value, so they make the text not a number.
    """
    if not text:
        return None
    out: list[str] = []
    for char in text:
        value = unicodedata.decimal(char, None)
        if value is None:
            return None
        out.append(str(value))
    return "".join(out)


def parse_count(text: str | None, *, max_digits: int = MAX_COUNT_DIGITS) -> int | None:
    """A small non-negative whole number typed by a person ("3", "١"), else None."""
    digits = ascii_digits((text or "").strip())
    if digits is None or len(digits) > max_digits:
        return None
    return int(digits)


def parse_integer(text: str, *, max_digits: int = MAX_NUMBER_DIGITS) -> int | None:
    """A signed whole number of at most `max_digits` digits, else None."""
    text = text.strip()
    sign = -1 if text.startswith("-") else 1
    body = text[1:] if text[:1] in "+-" else text
    value = parse_count(body, max_digits=max_digits)
    return None if value is None else sign * value


def parse_decimal(text: str, *, max_digits: int = MAX_NUMBER_DIGITS) -> float | None:
    """A decimal number with "." or "," ("12,5"), finite and of sensible length, else None."""
    text = text.strip()
    sign = -1.0 if text.startswith("-") else 1.0
    body = text[1:] if text[:1] in "+-" else text
    whole, _, fraction = body.replace(",", ".").partition(".")
    whole_digits = ascii_digits(whole) if whole else ""
    fraction_digits = ascii_digits(fraction) if fraction else ""
    if whole_digits is None or fraction_digits is None:
        return None
    if not whole_digits and not fraction_digits:
        return None
    if len(whole_digits) + len(fraction_digits) > max_digits:
        return None
    value = float(f"{whole_digits or '0'}.{fraction_digits or '0'}") * sign
    return value if math.isfinite(value) else None


def parse_epoch_seconds(value: object) -> datetime | None:
    """A platform's Unix timestamp (text of ASCII digits or a number) as a UTC moment.

    None when it is missing, not a plain number, or outside years 2000-2199: the caller
    then uses the time of arrival instead.
    """
    if isinstance(value, bool):
        return None
    seconds: float
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        seconds = float(int(value))
    else:
        return None
    if not math.isfinite(seconds):
        return None
    if not MIN_PLAUSIBLE.timestamp() <= seconds < MAX_PLAUSIBLE.timestamp():
        return None
    return datetime.fromtimestamp(seconds, UTC)


def year_in_range(moment: datetime) -> bool:
    """True for moments whose year converts safely between any two time zones."""
    return MIN_YEAR <= moment.year <= MAX_YEAR


def clean_text(text: str) -> str:
    """Text without NUL and the other control characters people never mean to send."""
    if text.isprintable():
        return text
    return "".join(
        char
        for char in text
        if char in _KEPT_CONTROLS or unicodedata.category(char) not in {"Cc", "Cs"}
    )


def clean_optional(text: str | None) -> str | None:
    """`clean_text` for optional fields."""
    return None if text is None else clean_text(text)

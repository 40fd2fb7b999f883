"""One cached lookup turns a zone name into a ZoneInfo; local days are computed from it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfoNotFoundError

import pytest

from guardianes.domain.timezone import local_day, local_midnight, local_now, zone


def test_the_same_name_gives_the_same_zone_object() -> None:
    assert zone("America/Chihuahua") is zone("America/Chihuahua")


def test_an_unknown_name_raises_like_zoneinfo() -> None:
    with pytest.raises(ZoneInfoNotFoundError):
        zone("America/Atlantis")


def test_local_now_is_the_wall_clock_of_the_zone() -> None:
    moment = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    assert local_now("America/Chihuahua", now=moment).hour == 21  # UTC-6


def test_late_evening_utc_is_still_the_previous_local_day() -> None:
    moment = datetime(2026, 1, 1, 3, 0, tzinfo=UTC)
    assert local_day(moment, zone("America/Chihuahua")) == date(2025, 12, 31)


def test_local_midnight_is_given_in_utc() -> None:
    start = local_midnight(date(2026, 1, 1), zone("America/Chihuahua"))
    assert start == datetime(2026, 1, 1, 6, 0, tzinfo=UTC)

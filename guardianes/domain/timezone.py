"""Time zones: one cached lookup from a settings or city zone name, and local-day helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """The time zone called `name` (e.g. "America/Chihuahua").

    Raises `zoneinfo.ZoneInfoNotFoundError` (or ValueError for a malformed name) like `ZoneInfo`.
    """
    return ZoneInfo(name)


def local_now(name: str, *, now: datetime | None = None) -> datetime:
    """The wall-clock time in zone `name`, now or at the aware instant `now`."""
    return (now or datetime.now(UTC)).astimezone(zone(name))


def local_day(moment: datetime, timezone: tzinfo) -> date:
    """The local calendar day of an instant."""
    return moment.astimezone(timezone).date()


def local_midnight(day: date, timezone: tzinfo) -> datetime:
    """The instant a local day starts, in UTC."""
    return datetime.combine(day, time.min, tzinfo=timezone).astimezone(UTC)

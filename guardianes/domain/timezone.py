"""Time zones: one cached lookup from a settings or city zone name, and local clock helpers."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
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


def local_today(name: str, *, now: datetime | None = None) -> date:
    """Today's date in zone `name` (or the local date of the aware instant `now`)."""
    return local_now(name, now=now).date()


def local_midnight(day: date, name: str) -> datetime:
    """The instant a local day starts in zone `name`, in UTC."""
    return datetime.combine(day, time.min, tzinfo=zone(name)).astimezone(UTC)

"""Query parameters several routers share, and times read as staff read the clock."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import Query

from guardianes.api.deps import RuntimeDep
from guardianes.api.errors import unprocessable
from guardianes.services.reports.complaints_change import MAX_MONTHS
from guardianes.services.visits import as_aware

GEOJSON_LIMIT = 5000
MAX_BATCH = 100
MonthsQuery = Annotated[int, Query(ge=1, le=MAX_MONTHS, description="Whole months to count.")]
StartQuery = Annotated[date | None, Query(description="First day (local); default 90 days ago.")]
EndQuery = Annotated[date | None, Query(description="Last day (local), included; default today.")]


def local_zone(runtime: RuntimeDep) -> ZoneInfo:
    """GUARDIANES_TIMEZONE: what staff read on the clock."""
    return ZoneInfo(runtime.settings.timezone)


def local_period(
    runtime: RuntimeDep,
    start: datetime | None,
    end: datetime | None,
    *,
    names: tuple[str, str],
) -> tuple[datetime | None, datetime | None]:
    """The period's ends made aware (a time without offset is local); 422 unless start < end."""
    zone = local_zone(runtime)
    aware_start = as_aware(start, zone) if start else None
    aware_end = as_aware(end, zone) if end else None
    if aware_start is not None and aware_end is not None and aware_start >= aware_end:
        raise unprocessable(f"{names[0]} must be before {names[1]}")
    return aware_start, aware_end

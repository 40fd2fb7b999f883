"""Complaints before and after guardians started: per colonia and service.

The rule, also in the README:

- The *start* is the month (in GUARDIANES_TIMEZONE) of the colonia's first surveillance card.
  That month is a transition and belongs to neither window.
- *Before* is the N whole months just before the start month; *after* the N whole months
  just after it.
- Enough data to say anything needs all of: a first card; the after window has ended
  (its last month is before the current month); the complaint data of that service
  (any colonia) covers every month of both windows, so a month with no row for this colonia
  is a real zero and not a gap; and at least `complaints_min_total` complaints in both
  windows together, so a percentage is not built on 1 against 2.
- The percentage is `(after - before) / before × 100`, absent when before is zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.dates import add_months
from guardianes.storage.repositories import reports as repo

MAX_MONTHS = 36


class DataVerdict(StrEnum):
    """Whether the two windows can be compared, and if not, why."""

    ENOUGH = "enough"
    NO_CARDS = "no_cards"
    AFTER_WINDOW_OPEN = "after_window_open"
    NO_COMPLAINT_DATA_BEFORE = "no_complaint_data_before"
    NO_COMPLAINT_DATA_AFTER = "no_complaint_data_after"
    TOO_FEW_COMPLAINTS = "too_few_complaints"


@dataclass(frozen=True, slots=True)
class BeforeAfter:
    """Complaints of one service in one colonia around its first card."""

    colonia_id: int
    colonia: str
    service_code: str
    months: int
    first_card_at: datetime | None
    before_from: date | None
    before_to: date | None  # last month of the window (first day of that month)
    after_from: date | None
    after_to: date | None
    before: int | None
    after: int | None
    difference: int | None
    percent_change: float | None
    enough_data: bool
    verdict: DataVerdict


def _verdict(
    *,
    after_to: date,
    before_from: date,
    current_month: date,
    coverage: tuple[date, date] | None,
    total: int,
    min_total: int,
) -> DataVerdict:
    if after_to >= current_month:
        return DataVerdict.AFTER_WINDOW_OPEN
    if coverage is None or coverage[0] > before_from:
        return DataVerdict.NO_COMPLAINT_DATA_BEFORE
    if coverage[1] < after_to:
        return DataVerdict.NO_COMPLAINT_DATA_AFTER
    if total < min_total:
        return DataVerdict.TOO_FEW_COMPLAINTS
    return DataVerdict.ENOUGH


async def complaints_before_after(
    session: AsyncSession,
    *,
    months: int,
    timezone: ZoneInfo,
    now: datetime,
    min_total: int,
    colonia_id: int | None = None,
    service_code: str | None = None,
) -> list[BeforeAfter]:
    """One row per colonia and service that has complaints or cards, by colonia name."""
    complaints = await repo.monthly_complaints(
        session, colonia_id=colonia_id, service_code=service_code
    )
    coverage = await repo.complaint_coverage(session)
    first_cards = await repo.first_card_by_colonia(session)
    services = sorted(
        {service_code} if service_code else {c.service_code for c in complaints} | set(coverage)
    )
    colonia_ids = {c.colonia_id for c in complaints} | set(first_cards)
    if colonia_id is not None:
        colonia_ids = {colonia_id} if colonia_id in colonia_ids else set()
    names = await repo.colonias_by_id(session, sorted(colonia_ids))
    by_key: dict[tuple[int, str], dict[date, int]] = {}
    for row in complaints:
        by_key.setdefault((row.colonia_id, row.service_code), {})[row.month] = row.count
    current_month = now.astimezone(timezone).date().replace(day=1)
    out: list[BeforeAfter] = []
    for cid in sorted(colonia_ids, key=lambda i: (names.get(i, ""), i)):
        first = first_cards.get(cid)
        for service in services:
            counts = by_key.get((cid, service), {})
            if first is None:
                out.append(_without_cards(cid, names.get(cid, ""), service, months))
                continue
            start = first.astimezone(timezone).date().replace(day=1)
            before_from, before_to = add_months(start, -months), add_months(start, -1)
            after_from, after_to = add_months(start, 1), add_months(start, months)
            before = sum(n for m, n in counts.items() if before_from <= m <= before_to)
            after = sum(n for m, n in counts.items() if after_from <= m <= after_to)
            verdict = _verdict(
                after_to=after_to,
                before_from=before_from,
                current_month=current_month,
                coverage=coverage.get(service),
                total=before + after,
                min_total=min_total,
            )
            out.append(
                BeforeAfter(
                    colonia_id=cid,
                    colonia=names.get(cid, ""),
                    service_code=service,
                    months=months,
                    first_card_at=first,
                    before_from=before_from,
                    before_to=before_to,
                    after_from=after_from,
                    after_to=after_to,
                    before=before,
                    after=after,
                    difference=after - before,
                    percent_change=round((after - before) / before * 100, 1) if before else None,
                    enough_data=verdict is DataVerdict.ENOUGH,
                    verdict=verdict,
                )
            )
    return out


def _without_cards(colonia_id: int, name: str, service: str, months: int) -> BeforeAfter:
    return BeforeAfter(
        colonia_id=colonia_id,
        colonia=name,
        service_code=service,
        months=months,
        first_card_at=None,
        before_from=None,
        before_to=None,
        after_from=None,
        after_to=None,
        before=None,
        after=None,
        difference=None,
        percent_change=None,
        enough_data=False,
        verdict=DataVerdict.NO_CARDS,
    )

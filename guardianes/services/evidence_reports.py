"""How well each directorate and contract closes the loop: resolution rates and times.

Two rates, because they differ in who says so: *reported* is the share of discrepancies the
authority marked resolved; *confirmed* is the share whose guardians, asked "¿Ya quedó?"
after the latest resolution, answered yes (and none answered no). Dismissed discrepancies
count in neither numerator nor denominator: they were not failures to fix.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import ConfirmationAnswer, DiscrepancyStatus
from guardianes.storage.models_evidence import Discrepancy, GuardianConfirmation
from guardianes.storage.repositories import evidence as repo

_ACTIVE = {DiscrepancyStatus.OPEN, DiscrepancyStatus.NOTIFIED, DiscrepancyStatus.ACKNOWLEDGED}
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class ResolutionFigures:
    """Resolution figures of one directorate or contract."""

    key: str  # directorate id, contract id, or "none"
    name: str
    total: int
    open: int
    dismissed: int
    resolved_reported: int
    resolved_confirmed: int
    reported_rate: float | None
    confirmed_rate: float | None
    median_days_to_resolution: float | None
    overdue: int


@dataclass(frozen=True, slots=True)
class ResolutionReport:
    """Resolution figures per directorate and per contract."""

    generated_at: datetime
    directorates: list[ResolutionFigures]
    contracts: list[ResolutionFigures]


def _confirmed(discrepancy: Discrepancy, asked: Sequence[GuardianConfirmation]) -> bool:
    if discrepancy.status != DiscrepancyStatus.RESOLVED or discrepancy.resolved_at is None:
        return False
    resolved_at = discrepancy.resolved_at
    answers = [c.answer for c in asked if c.asked_at >= resolved_at and c.answer is not None]
    return ConfirmationAnswer.YES in answers and ConfirmationAnswer.NO not in answers


def figures(
    key: str,
    name: str,
    rows: Sequence[Discrepancy],
    asked: dict[int, list[GuardianConfirmation]],
) -> ResolutionFigures:
    """The figures of one group of discrepancies."""
    counted = [d for d in rows if d.status != DiscrepancyStatus.DISMISSED]
    resolved = [d for d in counted if d.status == DiscrepancyStatus.RESOLVED]
    confirmed = [d for d in resolved if _confirmed(d, asked.get(d.id, []))]
    durations = [
        (d.resolved_at - d.created_at).total_seconds() / _SECONDS_PER_DAY
        for d in resolved
        if d.resolved_at is not None
    ]
    return ResolutionFigures(
        key=key,
        name=name,
        total=len(rows),
        open=sum(1 for d in rows if d.status in _ACTIVE),
        dismissed=len(rows) - len(counted),
        resolved_reported=len(resolved),
        resolved_confirmed=len(confirmed),
        reported_rate=round(len(resolved) / len(counted), 4) if counted else None,
        confirmed_rate=round(len(confirmed) / len(counted), 4) if counted else None,
        median_days_to_resolution=round(statistics.median(durations), 2) if durations else None,
        overdue=sum(1 for d in rows if d.status in _ACTIVE and d.overdue_at is not None),
    )


async def resolution_report(session: AsyncSession, *, now: datetime) -> ResolutionReport:
    """Resolution rates, median time to resolution and overdue counts per directorate/contract."""
    rows = await repo.resolution_rows(session)
    asked = await repo.confirmations_by_discrepancy(session)
    by_directorate: dict[int | None, list[Discrepancy]] = {}
    by_contract: dict[tuple[int | None, str | None], list[Discrepancy]] = {}
    for row in rows:
        by_directorate.setdefault(row.directorate_id, []).append(row)
        by_contract.setdefault((row.contract_id, row.contract_number), []).append(row)
    directorates = await repo.directorates_by_ids(
        session, [i for i in by_directorate if i is not None]
    )
    directorate_figures = [
        figures(
            str(directorate_id) if directorate_id is not None else "none",
            directorates[directorate_id].name if directorate_id in directorates else "",
            group,
            asked,
        )
        for directorate_id, group in sorted(by_directorate.items(), key=lambda i: i[0] or 0)
    ]
    contract_figures = [
        figures(
            str(contract_id) if contract_id is not None else (number or "none"),
            _contract_name(number, group),
            group,
            asked,
        )
        for (contract_id, number), group in sorted(
            by_contract.items(), key=lambda i: (i[0][1] or "", i[0][0] or 0)
        )
    ]
    return ResolutionReport(
        generated_at=now, directorates=directorate_figures, contracts=contract_figures
    )


def _contract_name(number: str | None, rows: Sequence[Discrepancy]) -> str:
    responsible = next((d.responsible_name for d in rows if d.responsible_name), None)
    if number and responsible:
        return f"{number} ({responsible})"
    return number or responsible or ""

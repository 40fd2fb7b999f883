"""Exports for staff: submissions as CSV/XLSX, discrepancies as CSV, spaces as GeoJSON.

No export carries who a guardian is: submissions are listed without guardian, channel id or
name; the spaces file counts cards and tells the latest card's outcome.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook  # type: ignore[import-untyped]  # ships no type hints
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.repositories import evidence as evidence_repo
from guardianes.storage.repositories import reports as repo
from guardianes.storage.repositories.evidence import DiscrepancyFilter

MAX_EXPORT_ROWS = 100_000

SUBMISSION_COLUMNS = (
    "submission_id",
    "completed_at",
    "card",
    "service",
    "colonia",
    "space_id",
    "space_code",
    "space_name",
    "contract_id",
    "responsible",
    "latitude",
    "longitude",
    "photos",
    "answers",
)

DISCREPANCY_COLUMNS = (
    "discrepancy_id",
    "kind",
    "status",
    "service",
    "obligation",
    "period_start",
    "period_end",
    "space_id",
    "space_code",
    "space_name",
    "colonia",
    "reported_status",
    "contract_number",
    "responsible",
    "responsible_type",
    "directorate",
    "guardians",
    "evidence",
    "strength",
    "first_observed_at",
    "last_observed_at",
    "due_at",
    "notified_at",
    "acknowledged_at",
    "resolved_at",
    "escalated_at",
    "overdue",
)


@dataclass(frozen=True, slots=True)
class SubmissionExportFilter:
    """Filters of the submissions export (None: any)."""

    completed_from: datetime | None = None
    completed_to: datetime | None = None
    colonia_id: int | None = None
    contract_id: int | None = None
    form_id: str | None = None


def _local(moment: datetime | None, timezone: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(timezone).isoformat(timespec="seconds")


def _cell(value: Any) -> Any:
    # Spreadsheet programs run cells starting with these as formulas (CSV injection).
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


async def submission_rows(
    session: AsyncSession, filters: SubmissionExportFilter, *, timezone: ZoneInfo
) -> list[list[Any]]:
    """One row per submission (oldest first), in `SUBMISSION_COLUMNS` order."""
    statement = repo.submissions_statement(
        completed_from=filters.completed_from,
        completed_to=filters.completed_to,
        colonia_id=filters.colonia_id,
        contract_id=filters.contract_id,
        form_id=filters.form_id,
    )
    found = await repo.submissions_for_export(session, statement, limit=MAX_EXPORT_ROWS)
    colonias = await repo.colonias_by_id(session)
    spaces = {
        s.space.id: s.space
        for s in await repo.spaces_with_layers(
            session, space_ids=sorted({s.public_space_id for s, _, _ in found if s.public_space_id})
        )
    }
    rows = []
    for submission, form_id, service in found:
        space = spaces.get(submission.public_space_id or -1)
        rows.append(
            [
                submission.id,
                _local(submission.completed_at, timezone),
                form_id,
                service or "",
                colonias.get(submission.colonia_id or -1, ""),
                submission.public_space_id or "",
                (space.source_code or "") if space else "",
                space.name if space else "",
                submission.contract_id or "",
                submission.responsible_name or "",
                submission.latitude if submission.latitude is not None else "",
                submission.longitude if submission.longitude is not None else "",
                len(submission.media),
                json.dumps(submission.answers, ensure_ascii=False, sort_keys=True),
            ]
        )
    return rows


def to_csv(header: Sequence[str], rows: list[list[Any]]) -> str:
    """CSV text with a header row; cells that would run as formulas are quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def to_xlsx(header: Sequence[str], rows: list[list[Any]], title: str) -> bytes:
    """An XLSX workbook with one sheet."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append(list(header))
    for row in rows:
        sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def discrepancy_rows(
    session: AsyncSession, filters: DiscrepancyFilter, *, timezone: ZoneInfo
) -> list[list[Any]]:
    """One row per discrepancy, in `DISCREPANCY_COLUMNS` order."""
    found = list(await evidence_repo.all_discrepancies(session, filters))[:MAX_EXPORT_ROWS]
    colonias = await repo.colonias_by_id(session)
    directorates = await repo.directorates_by_id(session)
    spaces = {
        s.space.id: s.space
        for s in await repo.spaces_with_layers(
            session, space_ids=sorted({d.public_space_id for d in found})
        )
    }
    rows = []
    for d in found:
        space = spaces.get(d.public_space_id)
        directorate = directorates.get(d.directorate_id or -1)
        rows.append(
            [
                d.id,
                d.kind,
                d.status,
                d.service_code,
                d.obligation,
                d.period_start.isoformat(),
                d.period_end.isoformat(),
                d.public_space_id,
                (space.source_code or "") if space else "",
                space.name if space else "",
                colonias.get(d.colonia_id or -1, ""),
                d.reported_status or "",
                d.contract_number or "",
                d.responsible_name or "",
                d.responsible_type or "",
                directorate.name if directorate else "",
                d.guardian_count,
                d.evidence_count,
                d.strength,
                _local(d.first_observed_at, timezone),
                _local(d.last_observed_at, timezone),
                _local(d.due_at, timezone),
                _local(d.notified_at, timezone),
                _local(d.acknowledged_at, timezone),
                _local(d.resolved_at, timezone),
                _local(d.escalated_at, timezone),
                "yes" if d.overdue_at else "no",
            ]
        )
    return rows


class CardStatus:
    """What the latest card of a space found."""

    NO_CARDS = "no_cards"
    OK = "ok"
    FAILURE = "failure"


async def spaces_feature_collection(
    session: AsyncSession,
    *,
    colonia_id: int | None,
    limit: int,
    offset: int,
    timezone: ZoneInfo,
    space_ids: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Spaces with their latest card status as a GeoJSON FeatureCollection (one page)."""
    rows, total = await repo.spaces_page(
        session, colonia_id=colonia_id, limit=limit, offset=offset, space_ids=space_ids
    )
    ids = [r.space.id for r in rows]
    latest = await repo.latest_submission_by_space(session, ids)
    counts = await repo.card_counts_by_space(session, ids)
    failed = await repo.failed_submission_ids(session, [s.id for s, _ in latest.values()])
    unresolved = await repo.unresolved_discrepancy_counts(session, ids)
    colonias = await repo.colonias_by_id(session)
    features = []
    for row in rows:
        space, layer = row.space, row.layer
        last = latest.get(space.id)
        if last is None:
            status = CardStatus.NO_CARDS
        else:
            status = CardStatus.FAILURE if last[0].id in failed else CardStatus.OK
        features.append(
            {
                "type": "Feature",
                "id": space.id,
                "geometry": space.geometry_geojson,
                "properties": {
                    "id": space.id,
                    "name": space.name,
                    "code": space.source_code,
                    "kind": space.kind,
                    "colonia": colonias.get(space.colonia_id or -1),
                    "service": layer.service_code,
                    "contract_number": layer.contract_number,
                    "responsible": layer.responsible_name,
                    "responsible_type": layer.responsible_type,
                    "cards": counts.get(space.id, 0),
                    "latest_card_at": _local(last[0].completed_at, timezone) if last else None,
                    "latest_card": last[1] if last else None,
                    "latest_card_status": status,
                    "unresolved_discrepancies": unresolved.get(space.id, 0),
                },
            }
        )
    return {
        "type": "FeatureCollection",
        "features": features,
        "total": total,
        "limit": limit,
        "offset": offset,
    }

"""Parser for citizen-complaint counts per colonia, service and day or month.

Format (UTF-8 CSV, comma or semicolon, header required; Spanish headers accepted)::

    colonia,service,date,count
    Centro,garbage_collection,2024-05,12
    Santa Rosa,green_space_maintenance,2024-05-14,3

- `colonia` (`colonia`): the colonia's name as imported (accents and case do not matter).
- `service` (`servicio`): a service type code such as `garbage_collection`.
- `date` (`fecha`, `period`, `periodo`): `YYYY-MM-DD` for one day or `YYYY-MM` for a month.
- `count` (`quejas`, `cantidad`): a whole number ≥ 0.

A row repeating the colonia, service and period of an earlier row is reported and
skipped; re-importing a file sets the same counts again (it never adds them up).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from guardianes.geo.normalize import normalize_name
from guardianes.importers.files import read_csv
from guardianes.importers.report import ImportFileError, Problem

DAY = "day"
MONTH = "month"
_ALIASES = {
    "colonia": ("colonia",),
    "service": ("service", "servicio"),
    "date": ("date", "fecha", "period", "periodo"),
    "count": ("count", "quejas", "cantidad"),
}
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True, slots=True)
class ComplaintRecord:
    """Complaints about one service in one colonia for one day or month."""

    line: int
    colonia: str
    service: str
    period_start: date
    granularity: str  # DAY | MONTH
    count: int


@dataclass(frozen=True, slots=True)
class ComplaintsFile:
    """Parsed complaint rows and the rows that could not be read."""

    path: Path
    records: tuple[ComplaintRecord, ...]
    problems: tuple[Problem, ...]


def parse_period(text: str) -> tuple[date, str]:
    """`YYYY-MM-DD` → (that day, DAY); `YYYY-MM` → (first of the month, MONTH)."""
    text = text.strip()
    month = _MONTH.match(text)
    if month:
        return date(int(month.group(1)), int(month.group(2)), 1), MONTH
    if _DAY.match(text):
        return date.fromisoformat(text), DAY
    raise ValueError(f"date '{text}' must be YYYY-MM-DD or YYYY-MM")


def parse_complaints(path: Path) -> ComplaintsFile:
    """Read a complaints CSV; raises ImportFileError when a column is missing."""
    table = read_csv(path)
    lowered = {name.lower(): name for name in table.header}
    columns: dict[str, str] = {}
    for field, aliases in _ALIASES.items():
        found = next((lowered[a] for a in aliases if a in lowered), None)
        if found is None:
            raise ImportFileError(
                path,
                f"missing column '{field}' (or {', '.join(aliases[1:]) or 'no alias'}); "
                "expected colonia,service,date,count",
            )
        columns[field] = found
    records: list[ComplaintRecord] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str, date, str], int] = {}
    for row in table.rows:
        where = f"line {row.line}"
        colonia = " ".join(row.values[columns["colonia"]].split())
        service = row.values[columns["service"]].strip()
        count_text = row.values[columns["count"]].strip()
        if not colonia or not service:
            problems.append(Problem(path.name, where, "colonia and service are required"))
            continue
        try:
            period_start, granularity = parse_period(row.values[columns["date"]])
        except ValueError as exc:
            problems.append(Problem(path.name, where, str(exc)))
            continue
        if not count_text.isdigit():
            problems.append(
                Problem(path.name, where, f"count '{count_text}' is not a whole number ≥ 0")
            )
            continue
        key = (normalize_name(colonia), service, period_start, granularity)
        if key in seen:
            problems.append(Problem(path.name, where, f"repeats line {seen[key]}"))
            continue
        seen[key] = row.line
        records.append(
            ComplaintRecord(row.line, colonia, service, period_start, granularity, int(count_text))
        )
    return ComplaintsFile(path, tuple(records), tuple(problems))

"""What an import tells its caller: counts, and problems found on the way."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


class ImportFileError(Exception):
    """A whole file cannot be imported (not KML/CSV, unreadable, missing columns)."""

    def __init__(self, path: Path | str, reason: str) -> None:
        super().__init__(f"{Path(path).name}: {reason}")
        self.path = Path(path)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Problem:
    """One record that was skipped or needed attention, located in its source file."""

    file: str
    where: str  # "line 12" or "placemark 5 'Parque X'"
    reason: str
    # False for a record with nothing in it to import (a placemark without coordinates):
    # it is reported but does not stop an all-or-nothing import, since nothing is lost.
    blocking: bool = True

    def __str__(self) -> str:
        return f"{self.file}:{self.where}: {self.reason}"


@dataclass(slots=True)
class ImportReport:
    """Counts of one import; `total` is every record the file held."""

    label: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Records seen: imported one way or another, or skipped."""
        return self.created + self.updated + self.unchanged + self.skipped

    @property
    def imported(self) -> int:
        """Records now present in the database thanks to this file."""
        return self.created + self.updated + self.unchanged


class ImportRejectedError(Exception):
    """An import with problems: nothing was written (the caller's transaction rolls back).

    Imports are all or nothing unless the caller asks for `skip_invalid`; the problems are
    every bad file, line or placemark, so staff fix the file in one go.
    """

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s); nothing was imported")
        self.problems = problems


def reject_unless(report: ImportReport, *, skip_invalid: bool) -> None:
    """Raise ImportRejectedError when the report has problems and a partial import is not wanted."""
    blocking = [p for p in report.problems if p.blocking]
    if blocking and not skip_invalid:
        raise ImportRejectedError(blocking)

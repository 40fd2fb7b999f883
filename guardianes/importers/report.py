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

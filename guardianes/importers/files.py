"""Reading input files safely: refuse binaries and wrong formats with one clear message."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from guardianes.importers.report import ImportFileError

_SNIFF_BYTES = 4096
# Signatures of files people rename by mistake; naming them makes the error actionable.
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a ZIP archive (KMZ or XLSX)",
}


def describe_binary(head: bytes) -> str | None:
    """What a binary file is (by its signature), or None when it looks like text."""
    for magic, what in _MAGIC.items():
        if head.startswith(magic):
            return what
    if b"\x00" in head:
        return "a binary file"
    return None


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or ImportFileError when it is missing or unreadable."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ImportFileError(path, "file not found") from None
    except IsADirectoryError:
        raise ImportFileError(path, "is a directory, not a file") from None
    except OSError as exc:
        raise ImportFileError(path, f"cannot be read ({exc.strerror})") from None


def decode_text(path: Path, data: bytes) -> str:
    """UTF-8 text (BOM tolerated), falling back to Windows-1252 as Excel writes it."""
    what = describe_binary(data[:_SNIFF_BYTES])
    if what is not None:
        raise ImportFileError(path, f"is not a CSV text file: it is {what}")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


@dataclass(frozen=True, slots=True)
class CsvRow:
    """One data row with the 1-based line it starts on."""

    line: int
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class CsvTable:
    """A CSV file's stripped header names and rows."""

    path: Path
    header: tuple[str, ...]
    rows: tuple[CsvRow, ...]


def read_csv(path: Path, *, required: Sequence[str] = ()) -> CsvTable:
    """Parse a CSV file (comma or semicolon) and check the required columns exist."""
    text = decode_text(path, read_bytes(path))
    if not text.strip():
        raise ImportFileError(path, "is empty")
    first_line = text.splitlines()[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = tuple(cell.strip() for cell in next(reader))
        rows: list[CsvRow] = []
        start = reader.line_num + 1
        for raw in _rows(reader):
            if any(cell.strip() for cell in raw):
                padded = list(raw) + [""] * (len(header) - len(raw))
                rows.append(CsvRow(start, dict(zip(header, padded, strict=False))))
            start = reader.line_num + 1
    except csv.Error as exc:
        raise ImportFileError(
            path, f"is not valid CSV near line {reader.line_num}: {exc}"
        ) from None
    missing = [name for name in required if name not in header]
    if missing:
        raise ImportFileError(
            path, f"missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}"
        )
    return CsvTable(path, header, tuple(rows))


def _rows(reader: Iterator[list[str]]) -> Iterator[list[str]]:
    yield from reader

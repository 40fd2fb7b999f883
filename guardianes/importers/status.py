"""Parser for the municipal service status file: what the authority says it did, per space.

Format: CSV (UTF-8 or Excel's Windows-1252, comma or semicolon) or XLSX (first sheet), with
a header row; Spanish headers are accepted (accents and case do not matter)::

    space_code,service,period_start,period_end,status,obligation,source,note
    AC-Z12-0001,green_space_maintenance,2026-11-01,2026-11-30,done,mowing,contractor,

- `space_code` (`clave`, `codigo`, `codigo_espacio`): the space's code from its KML
  (e.g. `AC-Z12-0001`); or `space_name` (`espacio`, `nombre`, `lugar`). One is required.
- `layer` (`capa`, `archivo`) or `contract` (`contrato`): optional, to tell apart spaces
  with the same code or name in different layers.
- `service` (`servicio`): a service code such as `green_space_maintenance`.
- `period_start`, `period_end` (`inicio`/`fecha_inicio`/`desde`, `fin`/`fecha_fin`/`hasta`):
  `YYYY-MM-DD` or `DD/MM/YYYY`; a `YYYY-MM` start alone means that whole month.
- `status` (`estado`, `estatus`): `done`, `partial`, `not_done`, `not_scheduled`
  (`realizado`, `parcial`, `no_realizado`, `no_programado`).
- `obligation` (`obligacion`): blank = every obligation of the service; else a code such
  as `mowing` (or `poda`, `riego`, `basura`, `arboles`, `juegos`, `bancas`, `alumbrado`,
  `recoleccion`, `tiraderos`).
- `source` (`fuente`, `reporta`): `municipality` (default) or `contractor`
  (`municipio`, `contratista`, `empresa`).
- `note` (`nota`, `observaciones`): free text.

This module only reads and checks cells; matching spaces and services against the database
is the importing service's job. Every problem carries its line and column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from guardianes.conversations.obligations import OBLIGATION_CODES
from guardianes.domain.dates import parse_day
from guardianes.geo.normalize import normalize_name
from guardianes.importers.files import describe_binary, read_bytes, read_csv
from guardianes.importers.report import ImportFileError

XLSX_SUFFIXES = frozenset({".xlsx", ".xlsm"})
MAX_NOTE = 2000
MAX_ROWS = 200_000

_ALIASES: dict[str, tuple[str, ...]] = {
    "space_code": ("space_code", "clave", "codigo", "codigo_espacio", "clave_espacio", "code"),
    "space_name": ("space_name", "espacio", "nombre", "nombre_espacio", "lugar", "name"),
    "layer": ("layer", "capa", "archivo"),
    "contract": ("contract", "contrato", "numero_contrato", "no_contrato"),
    "service": ("service", "servicio"),
    "period_start": (
        "period_start",
        "inicio",
        "fecha_inicio",
        "periodo_inicio",
        "desde",
        "periodo",
    ),
    "period_end": ("period_end", "fin", "fecha_fin", "periodo_fin", "hasta"),
    "status": ("status", "estado", "estatus", "situacion"),
    "obligation": ("obligation", "obligacion"),
    "source": ("source", "fuente", "reporta", "origen"),
    "note": ("note", "nota", "observaciones", "comentario", "comentarios"),
}
REQUIRED = ("service", "period_start", "status")

STATUS_WORDS: dict[str, str] = {
    "done": "done",
    "realizado": "done",
    "hecho": "done",
    "cumplido": "done",
    "partial": "partial",
    "parcial": "partial",
    "not_done": "not_done",
    "no_realizado": "not_done",
    "no_hecho": "not_done",
    "pendiente": "not_done",
    "not_scheduled": "not_scheduled",
    "no_programado": "not_scheduled",
}
SOURCE_WORDS: dict[str, str] = {
    "municipality": "municipality",
    "municipio": "municipality",
    "contractor": "contractor",
    "contratista": "contractor",
    "empresa": "contractor",
}
OBLIGATION_WORDS: dict[str, str] = {
    **{code: code for code in OBLIGATION_CODES},
    "poda": "mowing",
    "riego": "irrigation",
    "basura": "litter",
    "limpieza": "litter",
    "arboles": "trees",
    "juegos": "playground",
    "juegos_infantiles": "playground",
    "bancas": "benches",
    "alumbrado": "lighting",
    "recoleccion": "collection_day",
    "dia_de_recoleccion": "collection_day",
    "tiraderos": "dumping",
    "tiradero": "dumping",
}
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """One bad cell or row of a status file."""

    file: str
    line: int
    column: str | None
    reason: str

    def __str__(self) -> str:
        where = f"line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{self.file}: {where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """One well-formed row, its space not yet matched."""

    line: int
    space_code: str | None
    space_name: str | None
    layer: str | None
    contract: str | None
    service: str
    period_start: date
    period_end: date
    status: str
    obligation: str  # "" = every obligation of the service
    source: str
    note: str | None


@dataclass(frozen=True, slots=True)
class StatusFile:
    """Parsed rows and the problems of the rows that could not be read."""

    path: Path
    records: tuple[StatusRecord, ...]
    problems: tuple[RowProblem, ...]
    rows: int


def month_bounds(year: int, month: int) -> tuple[date, date]:
    """First and last day of a month; ValueError for a month that does not exist."""
    start = date(year, month, 1)
    following = date(year + (month == 12), month % 12 + 1, 1)  # December rolls over
    return start, date.fromordinal(following.toordinal() - 1)


def _key(header: str) -> str:
    return normalize_name(header).lower().replace(" ", "_")


def _word(value: str) -> str:
    return normalize_name(value).lower().replace(" ", "_")


def _read_xlsx(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    # openpyxl comes with pyxform; imported here so only XLSX imports load it.
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # no type hints

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as error:  # openpyxl raises many kinds for a damaged file
        raise ImportFileError(path, f"is not a readable XLSX workbook ({error})") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header_row = next(rows, None)
        if header_row is None:
            raise ImportFileError(path, "is empty")
        header = ["" if cell is None else str(cell).strip() for cell in header_row]
        body: list[tuple[int, list[Any]]] = []
        for line, row in enumerate(rows, start=2):
            values = list(row)
            if any(v is not None and str(v).strip() for v in values):
                body.append((line, values + [None] * (len(header) - len(values))))
            if len(body) > MAX_ROWS:
                raise ImportFileError(path, f"has more than {MAX_ROWS} rows")
        return header, body
    finally:
        workbook.close()


def _read_table(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    if path.suffix.lower() in XLSX_SUFFIXES:
        return _read_xlsx(path)
    head = read_bytes(path)[:4096]
    if head.startswith(b"PK\x03\x04"):
        raise ImportFileError(path, "looks like an XLSX workbook: name it .xlsx")
    what = describe_binary(head)
    if what is not None:
        raise ImportFileError(path, f"is not a CSV or XLSX file: it is {what}")
    table = read_csv(path)
    if len(table.rows) > MAX_ROWS:
        raise ImportFileError(path, f"has more than {MAX_ROWS} rows")
    header = list(table.header)
    return header, [(row.line, [row.values.get(name, "") for name in header]) for row in table.rows]


def parse_date(value: Any) -> date:
    """A date cell: a real date, `YYYY-MM-DD`, `DD/MM/YYYY`; ValueError otherwise."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValueError("a date is required")
    day = parse_day(text) or parse_day(text[:10])  # a timestamp counts for its day
    if day is None:
        raise ValueError(f"'{text}' is not a date (YYYY-MM-DD or DD/MM/YYYY)")
    return day


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return " ".join(str(value).split())


def parse_status_file(path: Path) -> StatusFile:
    """Read a status file; raises ImportFileError when the whole file is unusable."""
    header, body = _read_table(path)
    columns: dict[str, int] = {}
    for index, heading in enumerate(header):
        heading_key = _key(heading)
        for field, aliases in _ALIASES.items():
            if heading_key in aliases and field not in columns:
                columns[field] = index
    missing = [f for f in REQUIRED if f not in columns]
    if "space_code" not in columns and "space_name" not in columns:
        missing.insert(0, "space_code or space_name")
    if missing:
        raise ImportFileError(
            path,
            f"missing column(s) {', '.join(missing)}; found {', '.join(header) or 'none'}",
        )
    records: list[StatusRecord] = []
    problems: list[RowProblem] = []
    seen: dict[tuple[Any, ...], int] = {}
    for line, values in body:

        def cell(field: str, row: list[Any] = values) -> Any:
            index = columns.get(field)
            return row[index] if index is not None and index < len(row) else None

        found: list[RowProblem] = []

        def bad(
            column: str | None, reason: str, found: list[RowProblem] = found, at: int = line
        ) -> None:
            found.append(RowProblem(path.name, at, column, reason))

        code = _text(cell("space_code")) or None
        name = _text(cell("space_name")) or None
        if code is None and name is None:
            bad("space_code", "space_code or space_name is required")
        service = _text(cell("service"))
        if not service:
            bad("service", "a service code is required")
        status_word = _word(_text(cell("status")))
        status = STATUS_WORDS.get(status_word)
        if status is None:
            bad(
                "status",
                f"'{_text(cell('status'))}' is not done, partial, not_done or not_scheduled",
            )
        obligation_text = _text(cell("obligation"))
        obligation = OBLIGATION_WORDS.get(_word(obligation_text)) if obligation_text else ""
        if obligation is None:
            bad(
                "obligation",
                f"unknown obligation '{obligation_text}'; known: "
                + ", ".join(sorted(OBLIGATION_CODES)),
            )
        source_text = _text(cell("source"))
        source = SOURCE_WORDS.get(_word(source_text)) if source_text else "municipality"
        if source is None:
            bad("source", f"'{source_text}' is not municipality or contractor")
        start = end = None
        start_cell, end_cell = cell("period_start"), cell("period_end")
        month = _MONTH.match(_text(start_cell)) if not isinstance(start_cell, date) else None
        try:
            if month and not _text(end_cell):
                start, end = month_bounds(int(month.group(1)), int(month.group(2)))
            else:
                start = parse_date(start_cell)
        except ValueError as error:
            bad("period_start", str(error))
        if end is None:
            try:
                end = parse_date(end_cell)
            except ValueError as error:
                bad("period_end", str(error))
        if start is not None and end is not None and end < start:
            bad("period_end", f"ends ({end}) before it starts ({start})")
        note = _text(cell("note")) or None
        if note is not None and len(note) > MAX_NOTE:
            bad("note", f"longer than {MAX_NOTE} characters")
        if found:
            problems.extend(found)
            continue
        assert start is not None and end is not None and status is not None
        assert obligation is not None and source is not None
        record = StatusRecord(
            line=line,
            space_code=code,
            space_name=name,
            layer=_text(cell("layer")) or None,
            contract=_text(cell("contract")) or None,
            service=service,
            period_start=start,
            period_end=end,
            status=status,
            obligation=obligation,
            source=source,
            note=note,
        )
        key = (
            (code or "").upper(),
            normalize_name(name or ""),
            record.layer,
            record.contract,
            service,
            start,
            end,
            obligation,
            source,
        )
        if key in seen:
            problems.append(
                RowProblem(
                    path.name, line, None, f"repeats line {seen[key]} (same space and period)"
                )
            )
            continue
        seen[key] = line
        records.append(record)
    return StatusFile(path, tuple(records), tuple(problems), len(body))

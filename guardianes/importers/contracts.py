"""Parser for the municipal contracts CSV (`contratos_municipio_2018_2020.csv` layout).

Columns are the 34 Spanish headers of the IMCO "Mapeando la corrupción" sheet
(`Periodo, Dependencia, Número_proceso, Número_contrato, Fecha_contrato, Monto_contrato,
Objeto_contrato, Materia, Tipo_proceso, Emp_ganadora, RFC_Emp_ganadora, …,
Indicador_empresa_fantasma`). Dates are ISO (`2018-03-16`), amounts plain decimals, empty
cells mean unknown. Optional extra columns: `Licitantes` (bidder names, `;`-separated) and
`Obligaciones` (what the contractor must deliver). A row with an unreadable value is
skipped and reported as file:line with the column and value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from guardianes.geo.normalize import normalize_company_name, normalize_rfc
from guardianes.importers.files import CsvRow, read_csv
from guardianes.importers.red_flags import RedFlags
from guardianes.importers.report import Problem

PROCESS = "Número_proceso"
CONTRACT = "Número_contrato"
COMPANY = "Emp_ganadora"
RFC = "RFC_Emp_ganadora"
REQUIRED_COLUMNS = (
    "Periodo",
    "Dependencia",
    PROCESS,
    CONTRACT,
    "Fecha_contrato",
    "Monto_contrato",
    "Objeto_contrato",
    "Tipo_proceso",
    COMPANY,
    RFC,
)
BIDDER_COLUMNS = ("Licitantes", "Empresas_participantes", "Participantes")
OBLIGATION_COLUMNS = ("Obligaciones", "Obligaciones_contrato")
_PROCEDURES = {"LP", "IR", "AD"}
_AMOUNT_JUNK = re.compile(r"[$\s,]")


@dataclass(frozen=True, slots=True)
class RiskIndicators:
    """IMCO corruption-risk indicators, 0-100 (None when the cell is empty)."""

    favoritism: float | None
    directed_tender: float | None
    split_contracts: float | None
    overpricing: float | None
    short_deadlines: float | None
    collusion: float | None
    shell_company: float | None


@dataclass(frozen=True, slots=True)
class ContractRecord:
    """One contract row, typed."""

    line: int
    natural_key: str
    period: str | None
    agency: str | None
    process_number: str | None
    contract_number: str | None
    contract_date: date | None
    amount: Decimal | None
    object: str | None
    subject: str | None
    procedure_type: str | None
    company_name: str | None
    company_normalized_name: str | None
    company_rfc: str | None
    company_constitution_date: date | None
    call_date: date | None
    bases_date: date | None
    proposals_date: date | None
    start_date: date | None
    clarification_date: date | None
    opening_date: date | None
    ruling_date: date | None
    bidders_count: int | None
    solvent_bidders_count: int | None
    bidders: str | None
    budgeted_amount: Decimal | None
    funding_source: str | None
    settlement_date: date | None
    settlement_amount: Decimal | None
    exception_basis: str | None
    exception_amount: Decimal | None
    risks: RiskIndicators
    obligations: str | None
    # OCDS imports set these; the CSV's flags are computed from its own columns.
    flags: RedFlags | None = None
    ocid: str | None = None
    ocds_history: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class ContractsFile:
    """Parsed contracts and the rows that could not be read."""

    path: Path
    records: tuple[ContractRecord, ...]
    problems: tuple[Problem, ...]

    @property
    def row_count(self) -> int:
        """Data rows in the file, readable or not."""
        return len(self.records) + len(self.problems)


class _BadCell(Exception):
    """A cell that cannot be converted; the message names column and value."""


def contract_natural_key(process_number: str | None, contract_number: str | None) -> str:
    """The identity of a contract row: contract numbers repeat, process numbers do not.

    In the 2018-2020 file `Número_contrato` repeats (86 numbers are shared, e.g. one
    purchase order per item) while `Número_proceso` is unique, so the key is both.
    """
    return f"{(process_number or '').strip()} | {(contract_number or '').strip()}"


def parse_contracts(path: Path) -> ContractsFile:
    """Read a contracts CSV; raises ImportFileError when columns are missing."""
    table = read_csv(path, required=REQUIRED_COLUMNS)
    records: list[ContractRecord] = []
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for row in table.rows:
        try:
            record = _record(row, table.header)
        except _BadCell as exc:
            problems.append(Problem(path.name, f"line {row.line}", str(exc)))
            continue
        if record.natural_key in seen:
            problems.append(
                Problem(
                    path.name,
                    f"line {row.line}",
                    f"same process and contract number as line {seen[record.natural_key]}",
                )
            )
            continue
        seen[record.natural_key] = row.line
        records.append(record)
    return ContractsFile(path, tuple(records), tuple(problems))


def _record(row: CsvRow, header: tuple[str, ...]) -> ContractRecord:
    v = row.values

    def text(column: str) -> str | None:
        value = " ".join(v.get(column, "").split())
        return value or None

    def first(columns: tuple[str, ...]) -> str | None:
        for column in columns:
            if column in header and text(column):
                return text(column)
        return None

    process_number, contract_number = text(PROCESS), text(CONTRACT)
    if not process_number and not contract_number:
        raise _BadCell(f"both {PROCESS} and {CONTRACT} are empty")
    procedure = text("Tipo_proceso")
    if procedure is not None and procedure.upper() not in _PROCEDURES:
        raise _BadCell(f"Tipo_proceso '{procedure}' is not LP, IR or AD")
    company = text(COMPANY)
    return ContractRecord(
        line=row.line,
        natural_key=contract_natural_key(process_number, contract_number),
        period=text("Periodo"),
        agency=text("Dependencia"),
        process_number=process_number,
        contract_number=contract_number,
        contract_date=_date(v, "Fecha_contrato"),
        amount=_decimal(v, "Monto_contrato"),
        object=text("Objeto_contrato"),
        subject=text("Materia"),
        procedure_type=procedure.upper() if procedure else None,
        company_name=company,
        company_normalized_name=normalize_company_name(company) if company else None,
        company_rfc=normalize_rfc(v.get(RFC)),
        company_constitution_date=_date(v, "Fecha_constitucion_emp_ganadora"),
        call_date=_date(v, "Fecha_convocatoria"),
        bases_date=_date(v, "Fecha_bases"),
        proposals_date=_date(v, "Fecha_propuestas"),
        start_date=_date(v, "Fecha_inicio"),
        clarification_date=_date(v, "Fecha_junta_aclaraciones"),
        opening_date=_date(v, "Fecha_apertura"),
        ruling_date=_date(v, "Fecha_fallo"),
        bidders_count=_int(v, "Num_empresas_propuestas"),
        solvent_bidders_count=_int(v, "Num_emp_solventes"),
        bidders=first(BIDDER_COLUMNS),
        budgeted_amount=_decimal(v, "Monto_presupuestado"),
        funding_source=text("Origen_recursos"),
        settlement_date=_date(v, "Fecha_finiquito"),
        settlement_amount=_decimal(v, "Monto_finiquito"),
        exception_basis=text("Fundamento_proceso_excepción"),
        exception_amount=_decimal(v, "Monto_excepción"),
        risks=RiskIndicators(
            favoritism=_float(v, "Indicador_favoritismo"),
            directed_tender=_float(v, "Indicador_concurso_dirigido"),
            split_contracts=_float(v, "Indicador_contratos_fraccionados"),
            overpricing=_float(v, "Indicador_sobrecosto"),
            short_deadlines=_float(v, "Indicador_plazos_cortos"),
            collusion=_float(v, "Indicador_colusion"),
            shell_company=_float(v, "Indicador_empresa_fantasma"),
        ),
        obligations=first(OBLIGATION_COLUMNS),
    )


def _date(values: dict[str, str], column: str) -> date | None:
    raw = values.get(column, "").strip()
    if not raw:
        return None
    try:
        # Excel exports sometimes keep a midnight time: "2018-03-16 00:00:00".
        return (
            datetime.fromisoformat(raw).date()
            if len(raw) > len("2018-03-16")
            else date.fromisoformat(raw)
        )
    except ValueError:
        raise _BadCell(f"{column} '{raw}' is not a date (expected YYYY-MM-DD)") from None


def _decimal(values: dict[str, str], column: str) -> Decimal | None:
    raw = values.get(column, "").strip()
    if not raw:
        return None
    try:
        amount = Decimal(_AMOUNT_JUNK.sub("", raw))
    except InvalidOperation:
        raise _BadCell(f"{column} '{raw}' is not a number") from None
    if not amount.is_finite():
        raise _BadCell(f"{column} '{raw}' is not a finite number")
    return amount


def _float(values: dict[str, str], column: str) -> float | None:
    amount = _decimal(values, column)
    return float(amount) if amount is not None else None


def _int(values: dict[str, str], column: str) -> int | None:
    amount = _decimal(values, column)
    if amount is None:
        return None
    if amount != amount.to_integral_value():
        raise _BadCell(f"{column} '{values[column].strip()}' is not a whole number")
    return int(amount)

"""Contracts, complaints and layers CSV parsers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from guardianes.importers.complaints import DAY, MONTH, parse_complaints
from guardianes.importers.contracts import parse_contracts
from guardianes.importers.layers import parse_layers_csv
from guardianes.importers.report import ImportFileError
from tests.importers.conftest import WriteFile

CONTRACTS = "contratos_municipio_2018_2020.csv"


def test_real_contracts_file_has_1932_readable_rows(chihuahua_data: Path):
    parsed = parse_contracts(chihuahua_data / CONTRACTS)
    assert (len(parsed.records), parsed.problems) == (1932, ())


def test_contract_row_is_typed(chihuahua_data: Path):
    first = parse_contracts(chihuahua_data / CONTRACTS).records[0]
    assert (first.contract_date, first.amount, first.procedure_type, first.company_rfc) == (
        date(2018, 3, 16),
        Decimal("1052674.99"),
        "AD",
        "CIA10122326A",
    )


def test_imco_indicators_are_read(chihuahua_data: Path):
    second = parse_contracts(chihuahua_data / CONTRACTS).records[1]
    assert second.risks.favoritism == pytest.approx(20.2764)


def test_rfc_separators_are_removed(chihuahua_data: Path):
    rfcs = {r.company_rfc for r in parse_contracts(chihuahua_data / CONTRACTS).records}
    assert "CMA980529MWO" in rfcs


def test_bad_contract_row_is_reported_as_file_and_line(chihuahua_data: Path, write_file: WriteFile):
    lines = (chihuahua_data / CONTRACTS).read_text(encoding="utf-8").splitlines()
    broken = lines[1].replace("2018-03-16", "16/03/2018", 1)
    path = write_file("c.csv", "\n".join([lines[0], broken, lines[2]]) + "\n")
    parsed = parse_contracts(path)
    assert (len(parsed.records), [str(p) for p in parsed.problems]) == (
        1,
        ["c.csv:line 2: Fecha_contrato '16/03/2018' is not a date (expected YYYY-MM-DD)"],
    )


def test_contracts_file_without_required_columns_is_refused(write_file: WriteFile):
    with pytest.raises(ImportFileError, match="missing column"):
        parse_contracts(write_file("c.csv", "a,b\n1,2\n"))


def test_binary_file_is_refused_as_csv(write_file: WriteFile):
    with pytest.raises(ImportFileError, match="not a CSV text file: it is a PNG image"):
        parse_contracts(write_file("c.csv", b"\x89PNG\r\n\x1a\n\x00"))


def test_sample_complaints_parse_months_and_days(sample_dir: Path):
    parsed = parse_complaints(sample_dir / "quejas_muestra.csv")
    assert {r.granularity for r in parsed.records} == {DAY, MONTH} and not parsed.problems


def test_complaint_month_starts_on_first_day(write_file: WriteFile):
    parsed = parse_complaints(
        write_file("q.csv", "colonia,servicio,fecha,quejas\nCentro,x,2024-05,3\n")
    )
    assert (parsed.records[0].period_start, parsed.records[0].granularity) == (
        date(2024, 5, 1),
        MONTH,
    )


def test_bad_complaint_rows_are_reported(write_file: WriteFile):
    text = (
        "colonia,service,date,count\n"
        "A,s,2024-13-01,1\nA,s,2024-05,-2\nA,s,2024-05,1\nA,s,2024-05,2\n"
    )
    parsed = parse_complaints(write_file("q.csv", text))
    assert [p.where for p in parsed.problems] == ["line 2", "line 3", "line 5"]


def test_layers_csv_paths_resolve_next_to_it(chihuahua_data: Path):
    layers = parse_layers_csv(chihuahua_data / "layers.csv").layers
    assert [spec.path.is_file() for spec in layers] == [True] * 4


def test_layers_csv_reads_contractor(chihuahua_data: Path):
    first = parse_layers_csv(chihuahua_data / "layers.csv").layers[0]
    assert (first.contract, first.responsible, first.responsible_type) == (
        "O.M.-38/2020-D",
        "Constructora Pewis, S.A. de C.V.",
        "contractor",
    )


def test_layers_csv_reports_missing_file(write_file: WriteFile):
    path = write_file("layers.csv", "file,service\nno_existe.kml,garbage_collection\n")
    assert "not found" in parse_layers_csv(path).problems[0].reason

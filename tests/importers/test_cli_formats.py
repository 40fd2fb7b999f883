"""`guardianes import …` with other cities' files, all or nothing, and `guardianes services`."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from guardianes.cli.imports import EXIT_BAD_FILE, EXIT_NOTHING_IMPORTED, import_app
from guardianes.cli.services import services_app
from tests.importers.conftest import LAYERS_HEADER, WriteFile, WriteShapefile, parks_kml

runner = CliRunner()
app = typer.Typer()
app.add_typer(import_app, name="import")
app.add_typer(services_app, name="services")


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at a fresh SQLite file (it migrates it itself)."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("GUARDIANES_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    return path


def test_cuauhtemoc_geojson_imports_as_colonias(database: Path, other_cities: Path):
    path = other_cities / "cdmx_cuauhtemoc_colonias.geojson"
    result = runner.invoke(app, ["import", "colonias", str(path), "--name-field", "nom_asen"])
    assert result.exit_code == 0, result.output
    assert "33" in result.output


def test_import_map_takes_a_zipped_shapefile(database: Path, write_shapefile: WriteShapefile):
    archive = write_shapefile("parques", utm=True, zipped=True)
    result = runner.invoke(
        app, ["import", "map", str(archive), "--service", "green_space_maintenance"]
    )
    assert result.exit_code == 0, result.output
    assert "parques.zip" in result.output


def test_unknown_service_exits_2_listing_the_valid_ones(database: Path, write_file: WriteFile):
    path = write_file("p.kml", parks_kml())
    result = runner.invoke(app, ["import", "kml", str(path), "--service", "parkes"])
    assert result.exit_code == EXIT_BAD_FILE
    assert "unknown service 'parkes'; valid: garbage_collection, green_space_maintenance" in (
        result.output
    )
    listed = runner.invoke(app, ["services", "list"])
    assert "parkes" not in listed.output


def test_services_add_then_import_with_it(database: Path, write_file: WriteFile):
    added = runner.invoke(
        app,
        ["services", "add", "street_sweeping", "--name-es", "Barrido", "--name-en", "Sweeping"],
    )
    path = write_file("p.kml", parks_kml())
    result = runner.invoke(app, ["import", "kml", str(path), "--service", "street_sweeping"])
    assert (added.exit_code, result.exit_code) == (0, 0)
    assert "street_sweeping" in runner.invoke(app, ["services", "list"]).output


def test_services_add_refuses_a_bad_code(database: Path):
    result = runner.invoke(app, ["services", "add", "Barrido!", "--name-es", "B", "--name-en", "S"])
    assert result.exit_code == 2


def test_layers_csv_with_missing_file_exits_1_naming_file_and_line(
    database: Path, layers_csv_missing_a_file: Path
):
    result = runner.invoke(app, ["import", "layers", str(layers_csv_missing_a_file)])
    assert result.exit_code == EXIT_NOTHING_IMPORTED
    assert "layers.csv:line 3: file 'faltante.kml' not found next to layers.csv" in result.output
    assert "Nothing was imported" in result.output


def test_layers_csv_with_skip_invalid_imports_the_rest(database: Path, write_file: WriteFile):
    write_file("parques.kml", parks_kml())
    csv = write_file(
        "layers.csv",
        LAYERS_HEADER
        + "parques.kml,green_space_maintenance,2021,,,,\n"
        + "faltante.kml,green_space_maintenance,2021,,,,\n",
    )
    result = runner.invoke(app, ["import", "layers", str(csv), "--skip-invalid"])
    assert result.exit_code == 0
    assert "parques.kml" in result.output and "layers.csv:line 3" in result.output


def test_contracts_csv_with_a_bad_row_imports_nothing_and_lists_it(
    database: Path, write_file: WriteFile, chihuahua_data: Path
):
    real = (chihuahua_data / "contratos_municipio_2018_2020.csv").read_text(encoding="utf-8")
    header, first, *_ = real.splitlines()
    bad = first.replace(",AD,", ",XX,") if ",AD," in first else first.replace(",LP,", ",XX,")
    path = write_file("contratos.csv", "\n".join([header, first, bad]) + "\n")
    result = runner.invoke(app, ["import", "contracts", str(path)])
    assert result.exit_code == EXIT_NOTHING_IMPORTED, result.output
    assert "contratos.csv:line 3:" in result.output


def test_ocds_folder_imports_eight_contracts(database: Path, other_cities: Path):
    result = runner.invoke(app, ["import", "ocds", str(other_cities / "ocds-cdmx")])
    assert result.exit_code == 0, result.output
    assert "8" in result.output


def test_wrong_kind_for_colonias_exits_2_and_creates_nothing(database: Path, write_file: WriteFile):
    path = write_file("q.csv", "colonia,service,date,count\nCentro,garbage_collection,2024-05,2\n")
    result = runner.invoke(app, ["import", "colonias", str(path)])
    assert result.exit_code == EXIT_BAD_FILE and "is a complaints CSV" in result.output

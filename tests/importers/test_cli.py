"""`guardianes import …` commands: exit codes, summary and errors."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from guardianes.cli.imports import EXIT_BAD_FILE, EXIT_NOTHING_IMPORTED, import_app
from tests.importers.conftest import WriteFile

runner = CliRunner()


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at a fresh SQLite file (it migrates it itself)."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("GUARDIANES_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    return path


def test_png_renamed_kml_exits_2_with_one_line(database: Path, write_file: WriteFile):
    path = write_file("foto.kml", b"\x89PNG\r\n\x1a\n\x00\x00")
    result = runner.invoke(import_app, ["kml", str(path), "--service", "garbage_collection"])
    assert (result.exit_code, result.output.strip()) == (
        EXIT_BAD_FILE,
        "error: foto.kml: is a PNG image, not a map: KML, KMZ, GeoJSON, a Shapefile (.zip, or "
        ".shp beside its .shx/.dbf) or CSV",
    )


def test_sample_layers_import_prints_summary(database: Path, sample_dir: Path):
    result = runner.invoke(import_app, ["layers", str(sample_dir / "layers.csv")])
    assert result.exit_code == 0 and "espacios_muestra.kml" in result.output


def test_nothing_imported_exits_1(database: Path, write_file: WriteFile):
    path = write_file("q.csv", "colonia,service,date,count\nNinguna,garbage_collection,2024-05,2\n")
    result = runner.invoke(import_app, ["complaints", str(path)])
    assert result.exit_code == EXIT_NOTHING_IMPORTED and "unknown colonia" in result.output


def test_contractor_layer_without_responsible_is_refused(database: Path, sample_dir: Path):
    result = runner.invoke(
        import_app,
        [
            "kml",
            str(sample_dir / "espacios_muestra.kml"),
            "--service",
            "green_space_maintenance",
            "--responsible-type",
            "contractor",
        ],
    )
    assert result.exit_code == EXIT_BAD_FILE

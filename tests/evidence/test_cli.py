"""`guardianes import status|directorates` and `guardianes evidence …` from the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from guardianes.cli.evidence import add_import_commands, evidence_app
from guardianes.cli.imports import EXIT_BAD_FILE, EXIT_NOTHING_IMPORTED, import_app
from guardianes.runtime.sample import SAMPLE_DIR

runner = CliRunner()
add_import_commands(import_app)


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point the CLI at a fresh SQLite file holding the sample layers."""
    path = tmp_path / "cli.db"
    monkeypatch.setenv("GUARDIANES_DATABASE_URL", f"sqlite+aiosqlite:///{path}")
    monkeypatch.setenv("GUARDIANES_MEDIA_DIR", str(tmp_path / "media"))
    result = runner.invoke(import_app, ["layers", str(SAMPLE_DIR / "layers.csv")])
    assert result.exit_code == 0, result.output
    return path


def test_a_status_file_with_a_bad_row_exits_1_listing_it_and_imports_nothing(
    database: Path, tmp_path: Path
) -> None:
    path = tmp_path / "estado.csv"
    path.write_text(
        "clave,servicio,inicio,fin,estado\n"
        "DEMO-AV-0001,green_space_maintenance,2026-11-01,2026-11-30,realizado\n"
        "DEMO-AV-0002,green_space_maintenance,2026-11-01,2026-11-30,quizás\n",
        encoding="utf-8",
    )
    refused = runner.invoke(import_app, ["status", str(path)])
    assert refused.exit_code == EXIT_NOTHING_IMPORTED
    assert "status" in refused.output and "quizás" in refused.output
    accepted = runner.invoke(import_app, ["status", str(path), "--skip-invalid"])
    assert accepted.exit_code == 0
    again = runner.invoke(import_app, ["status", str(path), "--skip-invalid"])
    assert "Import summary" in again.output


def test_the_sample_status_file_imports(database: Path) -> None:
    result = runner.invoke(import_app, ["status", str(SAMPLE_DIR / "estado_servicios_muestra.csv")])
    assert result.exit_code == 0, result.output
    assert "Import summary" in result.output


def test_an_unreadable_status_file_exits_2(database: Path, tmp_path: Path) -> None:
    path = tmp_path / "foto.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    result = runner.invoke(import_app, ["status", str(path)])
    assert result.exit_code == EXIT_BAD_FILE


def test_the_chihuahua_directorates_import_and_link_their_layers(database: Path) -> None:
    result = runner.invoke(
        import_app, ["directorates", str(SAMPLE_DIR / "direcciones_chihuahua.csv")]
    )
    assert result.exit_code == 0, result.output
    again = runner.invoke(
        import_app, ["directorates", str(SAMPLE_DIR / "direcciones_chihuahua.csv")]
    )
    assert "3" in again.output  # three unchanged rows


def test_evidence_refresh_overdue_and_resolution_run_on_an_empty_database(
    database: Path,
) -> None:
    refresh = runner.invoke(evidence_app, ["refresh"])
    overdue = runner.invoke(evidence_app, ["overdue"])
    resolution = runner.invoke(evidence_app, ["resolution"])
    assert (refresh.exit_code, overdue.exit_code, resolution.exit_code) == (0, 0, 0)
    assert "0 created" in refresh.output
    assert "0 discrepancies newly flagged" in overdue.output

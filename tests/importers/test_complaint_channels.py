"""The complaint-channel directory: CSV parsing, import (idempotent) and the CLI command."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from sqlalchemy.ext.asyncio import AsyncSession
from typer.testing import CliRunner

from guardianes.cli.imports import import_complaint_channels as import_command
from guardianes.importers.complaint_channels import (
    import_complaint_channels,
    parse_complaint_channels,
)
from guardianes.importers.report import ImportFileError
from guardianes.storage.repositories.training import list_complaint_channels
from tests.importers.conftest import WriteFile

runner = CliRunner()


def test_the_shipped_sample_is_all_marked_to_be_confirmed(sample_dir: Path):
    parsed = parse_complaint_channels(sample_dir / "canales_queja_muestra.csv")
    assert parsed.problems == ()
    assert {r.kind.value for r in parsed.records} == {"phone", "web", "app", "office"}
    assert not any(r.confirmed for r in parsed.records)
    assert all("MUESTRA" in (r.notes or "") for r in parsed.records)


def test_spanish_headers_and_kinds_are_accepted(write_file: WriteFile):
    path = write_file(
        "canales.csv",
        "servicio;tipo;nombre;contacto;confirmado\n"
        "street_lighting;teléfono;Alumbrado;072;sí\n;oficina;Sindicatura;Calle 1;no\n",
    )
    first, second = parse_complaint_channels(path).records
    assert (first.service, first.kind.value, first.confirmed) == ("street_lighting", "phone", True)
    assert (second.service, second.kind.value) == (None, "office")


def test_bad_rows_are_reported_with_their_line(write_file: WriteFile):
    path = write_file(
        "canales.csv",
        "service,kind,name,contact\n,paloma,Mensajera,Azotea\n,web,,https://x\n,web,A,B\n,web,A,C\n",
    )
    parsed = parse_complaint_channels(path)
    assert [str(p) for p in parsed.problems] == [
        "canales.csv:line 2: kind 'paloma' is not one of phone, app, web, office, whatsapp, email",
        "canales.csv:line 3: name and contact are required",
        "canales.csv:line 5: repeats line 4",
    ]


def test_a_file_without_the_contact_column_is_refused(write_file: WriteFile):
    path = write_file("canales.csv", "service,kind,name\n,web,A\n")
    with pytest.raises(ImportFileError, match="missing column 'contact'"):
        parse_complaint_channels(path)


@pytest.mark.usefixtures("db_engine")
async def test_importing_again_updates_in_place(session: AsyncSession, write_file: WriteFile):
    path = write_file("c.csv", "service,kind,name,contact\n,web,Portal,https://a\n")
    first = await import_complaint_channels(session, parse_complaint_channels(path))
    path.write_text("service,kind,name,contact,confirmed\n,web,Portal,https://b,yes\n")
    second = await import_complaint_channels(session, parse_complaint_channels(path))
    (channel,) = await list_complaint_channels(session)
    assert (first.created, second.updated) == (1, 1)
    assert (channel.contact, channel.confirmed) == ("https://b", True)


def test_the_cli_imports_the_sample_channels(tmp_path: Path, sample_dir: Path, monkeypatch):
    monkeypatch.setenv("GUARDIANES_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    cli = typer.Typer()
    cli.command()(import_command)
    result = runner.invoke(cli, [str(sample_dir / "canales_queja_muestra.csv")])
    assert result.exit_code == 0, result.output
    assert "canales_queja_muestra.csv" in result.output

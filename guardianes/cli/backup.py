"""`guardianes backup DIR` and `guardianes restore DIR`."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from pathlib import Path

import typer
from rich.console import Console

from guardianes.config import Settings
from guardianes.services.backup import (
    BackupReport,
    create_backup,
    restore_backup,
    upgrade_needed,
)
from guardianes.storage.backup import BackupError, DumpFormat

console = Console()
err_console = Console(stderr=True)
EXIT_FAILED = 1


class PostgresFormat(StrEnum):
    """pg_dump formats offered on the command line."""

    CUSTOM = "custom"
    PLAIN = "plain"


def _summary(report: BackupReport) -> str:
    manifest = report.manifest
    tables = sum(1 for rows in manifest.row_counts.values() if rows)
    return (
        f"{manifest.database_kind} database ({manifest.database_format.value}) at revision "
        f"{manifest.alembic_revision or 'none'}: {report.rows} rows in {tables} tables; "
        f"{report.photos} media files; {report.size:,} bytes"
    )


def backup_command(
    folder: Path = typer.Argument(..., help="A new or empty folder for this backup."),
    postgres_format: PostgresFormat = typer.Option(
        PostgresFormat.CUSTOM,
        "--postgres-format",
        help="pg_dump format on PostgreSQL: custom (pg_restore) or plain (SQL, psql).",
    ),
) -> None:
    """Back up the database and the media folder, with a manifest of checksums and row counts."""
    settings = Settings()
    try:
        report = asyncio.run(
            create_backup(settings, folder, postgres_format=DumpFormat(postgres_format.value))
        )
    except BackupError as error:
        err_console.print(f"[red]Backup failed:[/red] {error}", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED) from error
    console.print(f"Backup written to [bold]{folder}[/bold]: {_summary(report)}", soft_wrap=True)


def restore_command(
    folder: Path = typer.Argument(..., help="A folder written by `guardianes backup`."),
) -> None:
    """Restore a backup into the configured, empty database, then the media folder."""
    settings = Settings()
    try:
        report = asyncio.run(restore_backup(settings, folder))
    except BackupError as error:
        err_console.print(f"[red]Restore refused:[/red] {error}", soft_wrap=True)
        raise typer.Exit(EXIT_FAILED) from error
    console.print(f"Restored from [bold]{folder}[/bold]: {_summary(report)}", soft_wrap=True)
    if upgrade_needed(report):
        console.print(
            "The backup's schema is older than this version's: run "
            "[bold]guardianes db upgrade[/bold] before serving.",
            soft_wrap=True,
        )


def register_backup_commands(app: typer.Typer) -> None:
    """Add `backup` and `restore` to the command line."""
    app.command("backup")(backup_command)
    app.command("restore")(restore_command)

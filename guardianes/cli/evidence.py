"""`guardianes evidence …` and `guardianes import status|directorates`: the comptroller's chain.

`import status FILE` is all or nothing: a file with any bad row imports nothing, lists every
bad row (line, column, reason) and exits 1; `--skip-invalid` imports the good rows. A file
that cannot be read at all exits 2, as every import does.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.cli.database import in_unit_of_work
from guardianes.cli.imports import (
    EXIT_BAD_FILE,
    EXIT_NOTHING_IMPORTED,
    city_id_of,
    city_option,
    finish,
)
from guardianes.config import Settings
from guardianes.importers.report import ImportFileError, ImportReport
from guardianes.importers.status import RowProblem, parse_status_file
from guardianes.services import evidence, evidence_imports
from guardianes.services.evidence_reports import resolution_report
from guardianes.storage.types import utcnow

evidence_app = typer.Typer(
    help="Discrepancies between guardians' cards and the authority's status reports.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)


def _print_row_problems(problems: list[RowProblem]) -> None:
    table = Table(title=f"{len(problems)} bad row(s)")
    for column in ("line", "column", "reason"):
        table.add_column(column, justify="right" if column == "line" else "left")
    for problem in problems:
        table.add_row(str(problem.line), problem.column or "", problem.reason)
    console.print(table)


def import_status_command(
    file: Path = typer.Argument(..., help="CSV or XLSX: space_code, service, period, status…"),
    skip_invalid: bool = typer.Option(
        False, "--skip-invalid", help="Import the good rows and report the bad ones."
    ),
    city: str | None = city_option(),
) -> None:
    """Import the service status the municipality or contractor reports, per space and period."""
    try:
        parsed = parse_status_file(file)
    except ImportFileError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(EXIT_BAD_FILE) from None

    settings = Settings()

    async def job(session: AsyncSession) -> evidence_imports.StatusImportResult:
        return await evidence_imports.import_status(
            session,
            file,
            settings=settings,
            skip_invalid=skip_invalid,
            parsed=parsed,
            city_id=await city_id_of(session, city),
        )

    try:
        result = in_unit_of_work(job, settings)
    except evidence_imports.StatusImportError as error:
        _print_row_problems(error.problems)
        err_console.print(
            "[bold red]Nothing was imported.[/] Fix these rows, or use --skip-invalid.",
        )
        raise typer.Exit(EXIT_NOTHING_IMPORTED) from None
    refresh = result.refresh
    console.print(
        f"Discrepancies: {refresh.created} new, {refresh.updated} updated, "
        f"{refresh.removed + refresh.dismissed} no longer supported."
    )
    if result.row_problems:
        _print_row_problems(result.row_problems)
    finish([result.report])


def import_directorates_command(
    file: Path = typer.Argument(..., help="CSV: name, service, email, head_name, head_email…"),
    city: str | None = city_option(),
) -> None:
    """Import the directorates in charge of each service (by name; re-import updates)."""

    async def job(session: AsyncSession) -> list[ImportReport]:
        return [
            await evidence_imports.import_directorates(
                session, file, city_id=await city_id_of(session, city)
            )
        ]

    try:
        reports = in_unit_of_work(job)
    except ImportFileError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(EXIT_BAD_FILE) from None
    finish(reports)


def add_import_commands(import_app: typer.Typer) -> None:
    """Mount `import status` and `import directorates` on the import command group (once)."""
    mounted = {command.name for command in import_app.registered_commands}
    if "status" not in mounted:
        import_app.command("status")(import_status_command)
    if "directorates" not in mounted:
        import_app.command("directorates")(import_directorates_command)


@evidence_app.command("refresh")
def refresh() -> None:
    """Recompute every discrepancy from every card and status row (running it twice is a no-op)."""

    settings = Settings()

    async def job(session: AsyncSession) -> evidence.RefreshReport:
        return await evidence.refresh_all(session, settings=settings)

    result = in_unit_of_work(job, settings)
    console.print(
        f"{result.created} created, {result.updated} updated, {result.removed} removed, "
        f"{result.dismissed} dismissed, {result.reopened} reopened, "
        f"{result.evidence_added} pieces of evidence added, "
        f"{result.hashed_photos} older photos hashed; "
        f"{len(result.discrepancy_ids)} discrepancies in all."
    )


@evidence_app.command("overdue")
def overdue() -> None:
    """Flag discrepancies past GUARDIANES_DISCREPANCY_DEADLINE_DAYS (the scheduler does it too)."""

    async def job(session: AsyncSession) -> list[int]:
        return await evidence.mark_overdue(session)

    flagged = in_unit_of_work(job)
    console.print(f"{len(flagged)} discrepancies newly flagged overdue.")


@evidence_app.command("resolution")
def resolution() -> None:
    """Resolution rates (reported and confirmed by guardians) per directorate and contract."""

    async def job(session: AsyncSession) -> list[Table]:
        report = await resolution_report(session, now=utcnow())
        tables = []
        for title, rows in (("Directorates", report.directorates), ("Contracts", report.contracts)):
            table = Table(title=title)
            for column in ("name", "total", "reported", "confirmed", "median days", "overdue"):
                table.add_column(column, justify="left" if column == "name" else "right")
            for row in rows:
                table.add_row(
                    row.name or row.key,
                    str(row.total),
                    _percent(row.reported_rate),
                    _percent(row.confirmed_rate),
                    ""
                    if row.median_days_to_resolution is None
                    else str(row.median_days_to_resolution),
                    str(row.overdue),
                )
            tables.append(table)
        return tables

    for table in in_unit_of_work(job):
        console.print(table)


def _percent(rate: float | None) -> str:
    return "" if rate is None else f"{rate:.0%}"

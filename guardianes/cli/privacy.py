"""`guardianes privacy ...`: run the media retention once, erase a guardian on a written request."""

from __future__ import annotations

import typer
from rich.console import Console
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.cli.database import in_unit_of_work, with_sessions
from guardianes.config import Settings
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import ErasureKind
from guardianes.services import privacy
from guardianes.storage.repositories import privacy as privacy_repo

privacy_app = typer.Typer(help="Privacy: retention and ARCO requests.", no_args_is_help=True)
console = Console()
EXIT_NOT_FOUND = 1


@privacy_app.command("retention")
def retention() -> None:
    """Delete photos older than GUARDIANES_MEDIA_RETENTION_DAYS and old "my data" files now."""
    settings = Settings()

    async def job(sessions: async_sessionmaker[AsyncSession]) -> privacy.RetentionReport:
        return await privacy.run_retention(
            sessions,
            media_dir=settings.media_dir,
            retention_days=settings.media_retention_days,
            export_retention_hours=settings.privacy_export_retention_hours,
        )

    report = with_sessions(job, settings)
    console.print(
        f"photos marked deleted: {report.photos_deleted}, files removed: {report.files_removed}, "
        f"export files removed: {report.exports_removed} "
        f"(retention {settings.media_retention_days} days)"
    )


@privacy_app.command("erase")
def erase(
    guardian_id: int = typer.Argument(..., help="The guardian's id (see the staff API)."),
    kind: ErasureKind = typer.Option(ErasureKind.CANCELLATION, "--kind"),
) -> None:
    """Erase a guardian's personal data on their written ARCO request."""
    settings = Settings()

    async def job(session: AsyncSession) -> privacy.ErasureReport | None:
        guardian = await privacy_repo.guardian_by_id(session, guardian_id)
        if guardian is None:
            return None
        return await privacy.erase_guardian_by_staff(
            session,
            media_dir=settings.media_dir,
            catalog=FormCatalog.load(settings.forms_dir),
            guardian=guardian,
            kind=kind,
        )

    report = in_unit_of_work(job, settings)
    if report is None:
        console.print(f"[red]guardian {guardian_id} not found[/]")
        raise typer.Exit(EXIT_NOT_FOUND)
    console.print(f"guardian {guardian_id} erased ({kind}): {report.counts}")

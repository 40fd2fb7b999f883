"""`guardianes broadcast …`: send a broadcast, follow its progress, read its final report."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.cli.database import with_sessions
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services.broadcasts import BroadcastNotFoundError, BroadcastProgress
from guardianes.services.references import UnknownReferenceError
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import BroadcastStatus
from guardianes.storage.repositories.broadcasts import RecipientFilter

broadcast_app = typer.Typer(help="Broadcasts to guardians.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)
POLL_SECONDS = 1.0
EXIT_NOT_FOUND = 1


def _report_table(report: BroadcastProgress) -> Table:
    table = Table(title=f"Broadcast {report.broadcast_id}: {report.status}")
    for column in ("total", "sent", "queued", "pending", "failed", "unreachable"):
        table.add_column(column, justify="right")
    table.add_row(
        *(
            str(v)
            for v in (
                report.total,
                report.sent,
                report.queued,
                report.pending,
                report.failed,
                report.unreachable,
            )
        )
    )
    return table


async def _progress(
    sessions: async_sessionmaker[AsyncSession], broadcast_id: int
) -> BroadcastProgress:
    async with unit_of_work(sessions) as session:
        return await broadcasts_service.progress(session, broadcast_id)


async def _between_polls() -> None:
    """A person watches the bar: reading the counts once a second is plenty."""
    await asyncio.sleep(POLL_SECONDS)


async def _follow(
    sessions: async_sessionmaker[AsyncSession], broadcast_id: int
) -> BroadcastProgress:
    """Show a progress bar until the broadcast is finished (at once if it already is)."""
    report = await _progress(sessions, broadcast_id)
    with Progress(
        TextColumn(f"Broadcast {broadcast_id}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(
            "sent {task.fields[sent]} · failed {task.fields[failed]} · "
            "unreachable {task.fields[unreachable]}"
        ),
        TimeElapsedColumn(),
        console=console,
    ) as bar:
        task = bar.add_task("send", total=report.total, sent=0, failed=0, unreachable=0)
        while True:
            bar.update(
                task,
                completed=report.finished,
                sent=report.sent,
                failed=report.failed,
                unreachable=report.unreachable,
            )
            if report.status not in (BroadcastStatus.PENDING, BroadcastStatus.SENDING):
                return report
            await _between_polls()
            report = await _progress(sessions, broadcast_id)


@broadcast_app.command("status")
def broadcast_status(
    broadcast_id: int = typer.Argument(...),
    watch: bool = typer.Option(True, help="Follow with a progress bar until it finishes."),
) -> None:
    """Progress of a broadcast, then its final report (sent / failed / unreachable)."""

    async def job(sessions: async_sessionmaker[AsyncSession]) -> BroadcastProgress:
        if watch:
            return await _follow(sessions, broadcast_id)
        return await _progress(sessions, broadcast_id)

    try:
        report = with_sessions(job)
    except BroadcastNotFoundError:
        err_console.print(f"[red]No broadcast {broadcast_id}.[/red]")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    console.print(_report_table(report))


@broadcast_app.command("send")
def broadcast_send(
    text: str = typer.Option(..., "--text", help="The message."),
    colonia_id: int | None = typer.Option(None, "--colonia", help="Only this colonia."),
    role: str | None = typer.Option(None, "--role", help="guardian, lead or staff."),
    channel: str | None = typer.Option(None, "--channel", help="telegram, whatsapp, webchat."),
    watch: bool = typer.Option(True, help="Follow the progress until it finishes."),
) -> None:
    """Create a broadcast; the running service (`guardianes serve`) sends it."""

    async def job(sessions: async_sessionmaker[AsyncSession]) -> BroadcastProgress:
        async with unit_of_work(sessions) as session:
            broadcast, count = await broadcasts_service.create_broadcast(
                session,
                text=text,
                recipients=RecipientFilter(colonia_id=colonia_id, role=role, channel=channel),
                created_by="cli",
            )
        console.print(f"Broadcast {broadcast.id} created for {count} guardians.")
        if watch:
            return await _follow(sessions, broadcast.id)
        return await _progress(sessions, broadcast.id)

    try:
        report = with_sessions(job)
    except UnknownReferenceError as error:
        err_console.print(f"[red]{str(error).capitalize()}.[/red]")
        raise typer.Exit(EXIT_NOT_FOUND) from None
    console.print(_report_table(report))

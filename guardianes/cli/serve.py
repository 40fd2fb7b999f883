"""`guardianes serve`: the web service, after checking a PostgreSQL schema is current."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from guardianes.cli.database import engine_of
from guardianes.config import Settings
from guardianes.storage.db import SchemaOutdatedError, current_revision, head_revision

console = Console()


def serve(
    demo: bool = typer.Option(False, help="Load the sample data into an empty database."),
    host: str | None = typer.Option(None, help="Overrides GUARDIANES_HOST."),
    port: int | None = typer.Option(None, help="Overrides GUARDIANES_PORT."),
) -> None:
    """Run the service: web chat, webhooks, staff API, outbox sender and scheduler."""
    import uvicorn

    from guardianes.app import create_app
    from guardianes.observability.logs import configure_logging

    settings = Settings()
    configure_logging(settings)
    if not settings.is_sqlite:
        current = asyncio.run(_database_revision(settings.database_url))
        if current != head_revision():
            console.print(
                f"[red]The database schema is at {current or 'nothing'}, the code needs "
                f"{head_revision()}.[/red] Run [bold]guardianes db upgrade[/bold] first.",
                soft_wrap=True,
            )
            raise typer.Exit(2)
    application = create_app(settings, demo=demo)
    bind_host = host or settings.host
    bind_port = port or settings.port
    console.print(f"Guardianes on [bold]http://{bind_host}:{bind_port}/chat[/bold]")
    try:
        # log_config=None: uvicorn's loggers propagate to our redacting handler (access log
        # query strings included) instead of getting handlers of their own.
        uvicorn.run(
            application,
            host=bind_host,
            port=bind_port,
            log_level=settings.log_level.lower(),
            log_config=None,
        )
    except SchemaOutdatedError as error:
        console.print(f"[red]{error}[/red]")
        raise typer.Exit(2) from error


async def _database_revision(url: str) -> str | None:
    async with engine_of(url) as engine:
        return await current_revision(engine)

"""The `guardianes` command line: serve, migrate, import, forms, chat, staff operations."""

from __future__ import annotations

import asyncio
import sys

import typer
from rich.console import Console

from guardianes.config import Settings
from guardianes.locales import catalog_differences
from guardianes.storage.db import (
    SchemaOutdatedError,
    check_models_match_migrations,
    create_engine,
    current_revision,
    head_revision,
    make_revision,
    upgrade_database,
)

app = typer.Typer(
    help="Guardianes: citizen guardians check that public services are delivered.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
locales_app = typer.Typer(help="Message catalogs.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(locales_app, name="locales")

console = Console()


def _mount_subcommands() -> None:
    from guardianes.cli_backup import register_backup_commands
    from guardianes.cli_chat import chat_command
    from guardianes.cli_cities import cities_app
    from guardianes.cli_evidence import add_import_commands, evidence_app
    from guardianes.cli_forms import forms_app
    from guardianes.cli_import import import_app
    from guardianes.cli_privacy import privacy_app
    from guardianes.cli_services import services_app
    from guardianes.cli_staff import broadcast_app, staff_app
    from guardianes.cli_training import course_app, import_complaint_channels

    add_import_commands(import_app)
    app.add_typer(import_app, name="import", help="Import public data (maps, CSV, OCDS).")
    app.add_typer(evidence_app, name="evidence", help="Discrepancies, their evidence and loop.")
    app.add_typer(forms_app, name="forms", help="Check and list XLSForm cards and quizzes.")
    app.add_typer(staff_app, name="staff", help="Staff API tokens.")
    app.add_typer(broadcast_app, name="broadcast", help="Broadcasts to guardians.")
    app.add_typer(privacy_app, name="privacy", help="Privacy: retention and ARCO requests.")
    app.command("chat", help="Chat with the bot in this terminal.")(chat_command)
    app.add_typer(course_app, name="course", help="Check the training course's lessons.")
    import_app.command("complaint-channels")(import_complaint_channels)
    register_backup_commands(app)
    app.add_typer(cities_app, name="cities", help="Cities served by this deployment.")
    app.add_typer(services_app, name="services", help="Service types imports may name.")


@app.command()
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
    # The engine's pooled connections belong to the event loop that opened them: query and
    # dispose in one loop, or disposing from another raises "Event loop is closed".
    engine = create_engine(url)
    try:
        return await current_revision(engine)
    finally:
        await engine.dispose()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the configured database to the newest schema."""

    async def run() -> None:
        engine = create_engine(Settings().database_url)
        try:
            await upgrade_database(engine, revision)
            console.print(f"Database at {await current_revision(engine)}")
        finally:
            await engine.dispose()

    asyncio.run(run())


@db_app.command("current")
def db_current() -> None:
    """Show the database's schema revision and the code's."""

    async def run() -> None:
        engine = create_engine(Settings().database_url)
        try:
            console.print(f"database: {await current_revision(engine)}  code: {head_revision()}")
        finally:
            await engine.dispose()

    asyncio.run(run())


@db_app.command("check")
def db_check() -> None:
    """Fail when the models have changes no migration covers (on a scratch SQLite database)."""
    import tempfile

    async def run(url: str) -> None:
        engine = create_engine(url)
        try:
            await upgrade_database(engine)
            await check_models_match_migrations(engine)
        finally:
            await engine.dispose()

    with tempfile.TemporaryDirectory() as folder:
        try:
            asyncio.run(run(f"sqlite+aiosqlite:///{folder}/check.db"))
        except Exception as error:
            console.print(f"[red]Migrations are out of date:[/red] {error}")
            raise typer.Exit(1) from error
    console.print("Models and migrations agree.")


@db_app.command("revision")
def db_revision(message: str = typer.Option(..., "-m", help="What the migration does.")) -> None:
    """Write a new migration for the model changes (developers)."""
    import tempfile

    async def run(url: str) -> None:
        engine = create_engine(url)
        try:
            await upgrade_database(engine)
            await make_revision(engine, message)
        finally:
            await engine.dispose()

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(f"sqlite+aiosqlite:///{folder}/revision.db"))


@locales_app.command("check")
def locales_check() -> None:
    """Fail when a language's catalog lacks a key another language has."""
    problems = catalog_differences()
    for problem in problems:
        console.print(f"[red]{problem}[/red]")
    if problems:
        raise typer.Exit(1)
    console.print("Catalogs agree in every language.")


def main() -> None:
    """Entry point of the `guardianes` console script."""
    _mount_subcommands()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)

"""`guardianes db …`: the database schema (Alembic migrations)."""

from __future__ import annotations

import asyncio
import tempfile

import typer
from rich.console import Console

from guardianes.cli.database import engine_of
from guardianes.config import Settings
from guardianes.storage.db import (
    check_models_match_migrations,
    current_revision,
    head_revision,
    make_revision,
    upgrade_database,
)

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
console = Console()


def _scratch(folder: str, name: str) -> str:
    """A new SQLite database in `folder`: model checks never touch the configured one."""
    return f"sqlite+aiosqlite:///{folder}/{name}.db"


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Migrate the configured database to the newest schema."""

    async def run() -> None:
        async with engine_of(Settings().database_url) as engine:
            await upgrade_database(engine, revision)
            console.print(f"Database at {await current_revision(engine)}")

    asyncio.run(run())


@db_app.command("current")
def db_current() -> None:
    """Show the database's schema revision and the code's."""

    async def run() -> None:
        async with engine_of(Settings().database_url) as engine:
            console.print(f"database: {await current_revision(engine)}  code: {head_revision()}")

    asyncio.run(run())


@db_app.command("check")
def db_check() -> None:
    """Fail when the models have changes no migration covers (on a scratch SQLite database)."""

    async def run(url: str) -> None:
        async with engine_of(url) as engine:
            await upgrade_database(engine)
            await check_models_match_migrations(engine)

    with tempfile.TemporaryDirectory() as folder:
        try:
            asyncio.run(run(_scratch(folder, "check")))
        except Exception as error:
            console.print(f"[red]Migrations are out of date:[/red] {error}")
            raise typer.Exit(1) from error
    console.print("Models and migrations agree.")


@db_app.command("revision")
def db_revision(message: str = typer.Option(..., "-m", help="What the migration does.")) -> None:
    """Write a new migration for the model changes (developers)."""

    async def run(url: str) -> None:
        async with engine_of(url) as engine:
            await upgrade_database(engine)
            await make_revision(engine, message)

    with tempfile.TemporaryDirectory() as folder:
        asyncio.run(run(_scratch(folder, "revision")))

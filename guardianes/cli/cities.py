"""`guardianes cities list | set NAME …`: the cities of a deployment and their names."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.cli.database import in_unit_of_work
from guardianes.storage.models_cities import City
from guardianes.storage.repositories import cities as cities_repo

cities_app = typer.Typer(help="Cities served by this deployment.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)


def _show(rows: list[City]) -> None:
    table = Table(title="Cities")
    for column in ("id", "name", "state", "timezone", "programme", "office", "privacy owner"):
        table.add_column(column)
    for c in rows:
        table.add_row(
            str(c.id),
            c.name,
            c.state or "",
            c.timezone,
            c.programme_name,
            c.office_name,
            f"{c.privacy_owner} ({c.privacy_contact})",
        )
    console.print(table)


@cities_app.command("list")
def list_cities() -> None:
    """Every city with the names its guardians read."""

    async def job(session: AsyncSession) -> list[City]:
        return list(await cities_repo.all_cities(session))

    _show(in_unit_of_work(job))


@cities_app.command("set")
def set_city(
    name: str = typer.Argument(..., help="The city (created when new, like `--city`)."),
    *,
    state: str | None = typer.Option(None, "--state"),
    timezone: str | None = typer.Option(None, "--timezone", help="e.g. America/Mexico_City"),
    programme: str | None = typer.Option(None, "--programme", help="The programme's name."),
    office: str | None = typer.Option(
        None, "--office", help='The office running it, as it reads after "contact": "la …".'
    ),
    privacy_owner: str | None = typer.Option(None, "--privacy-owner"),
    privacy_contact: str | None = typer.Option(None, "--privacy-contact"),
) -> None:
    """Create a city or change the names, zone and privacy owner its guardians see."""
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            err_console.print(f"[bold red]error:[/] unknown time zone {timezone!r}")
            raise typer.Exit(2) from None
    changes = {
        "state": state,
        "timezone": timezone,
        "programme_name": programme,
        "office_name": office,
        "privacy_owner": privacy_owner,
        "privacy_contact": privacy_contact,
    }

    async def job(session: AsyncSession) -> City:
        city = await cities_repo.ensure_city(session, name)
        for field, value in changes.items():
            if value is not None and value.strip():
                setattr(city, field, value.strip())
        await session.flush()
        return city

    _show([in_unit_of_work(job)])

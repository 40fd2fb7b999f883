"""`guardianes services list|add`: the service types imports may name.

Imports refuse unknown service codes (a typo used to create a junk service); a city adds
its own services here, on purpose, with names in both languages.
"""

from __future__ import annotations

import re

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.cli.database import in_unit_of_work
from guardianes.importers import service
from guardianes.storage.repositories import imports as imports_repo

services_app = typer.Typer(
    help="Service types (the codes imports and forms refer to).", no_args_is_help=True
)
console = Console()
err_console = Console(stderr=True)
_CODE = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_MAX_NAME = 200


@services_app.command("list")
def list_services() -> None:
    """Every service code: those in the database and the shipped ones (created on first use)."""

    stored = in_unit_of_work(imports_repo.service_types)
    rows = [(code, row.name_es, row.name_en, "yes") for code, row in stored.items()]
    rows += [
        (code, es, en, "no (shipped)")
        for code, (es, en) in service.KNOWN_SERVICES.items()
        if code not in stored
    ]
    table = Table(title="Services")
    for column in ("code", "name_es", "name_en", "in database"):
        table.add_column(column)
    for row in sorted(rows):
        table.add_row(*row)
    console.print(table)


@services_app.command("add")
def add_service(
    code: str = typer.Argument(..., help="Lowercase code, e.g. street_sweeping."),
    name_es: str = typer.Option(..., "--name-es", help="Name in Spanish."),
    name_en: str = typer.Option(..., "--name-en", help="Name in English."),
) -> None:
    """Add a service type (or rename an existing one)."""
    if not _CODE.match(code):
        err_console.print(
            f"[bold red]error:[/] service code '{code}' must be lowercase letters, digits and _ "
            "(2-64, starting with a letter), like street_sweeping",
            highlight=False,
            soft_wrap=True,
        )
        raise typer.Exit(2)
    names = [" ".join(n.split()) for n in (name_es, name_en)]
    if not all(names) or any(len(n) > _MAX_NAME for n in names):
        err_console.print(f"[bold red]error:[/] names of 1 to {_MAX_NAME} characters, please")
        raise typer.Exit(2)

    async def job(session: AsyncSession) -> bool:
        return await service.add_service_type(session, code, name_es=names[0], name_en=names[1])

    created = in_unit_of_work(job)
    console.print(f"Service {code} {'added' if created else 'renamed'}.", highlight=False)

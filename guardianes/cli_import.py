"""`guardianes import …`: load map layers, contracts, complaints and colonias into the database.

Files are parsed before the database is opened, so a wrong file fails fast with one line
(exit 2). Everything a command imports is committed in one transaction at the end. The exit
code is 1 only when nothing at all could be imported.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.config import Settings
from guardianes.importers import service
from guardianes.importers.colonias import colonias_from_routes, parse_colonias_file
from guardianes.importers.complaints import parse_complaints
from guardianes.importers.contracts import parse_contracts
from guardianes.importers.kml import parse_kml
from guardianes.importers.layers import MUNICIPALITY, LayerSpec, parse_layers_csv, validate_layer
from guardianes.importers.report import ImportFileError, ImportReport
from guardianes.storage.db import create_engine, create_session_factory, ensure_schema, unit_of_work
from guardianes.storage.repositories.cities import CityRequiredError, resolve_city

import_app = typer.Typer(
    name="import",
    help="Import map layers (KML), layers.csv, contracts, complaints and colonias.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)

EXIT_NOTHING_IMPORTED = 1
EXIT_BAD_FILE = 2
_MAX_PROBLEMS_SHOWN = 50
_PROGRESS_FROM = 200  # show a progress bar only for files at least this long

ImportJob = Callable[[AsyncSession, Callable[[int, int], None]], Awaitable[list[ImportReport]]]


CITY_HELP = "The city the data belongs to (created on first use; optional with one city)."


def city_option() -> str | None:
    """`--city NAME`, the same on every import command."""
    return typer.Option(None, "--city", help=CITY_HELP)  # type: ignore[no-any-return]


async def city_id_of(session: AsyncSession, name: str | None) -> int:
    """The id of the `--city` (created on first use); exit 2 when several cities and none named."""
    try:
        return (await resolve_city(session, name)).id
    except CityRequiredError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False)
        raise typer.Exit(EXIT_BAD_FILE) from None


def _fail(error: ImportFileError) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {error}", highlight=False)
    return typer.Exit(EXIT_BAD_FILE)


@contextmanager
def _bad_file_exits() -> Iterator[None]:
    try:
        yield
    except ImportFileError as error:
        raise _fail(error) from None


async def _run(job: ImportJob, total: int) -> list[ImportReport]:
    engine = create_engine(Settings().database_url)
    try:
        await ensure_schema(engine)
        factory = create_session_factory(engine)
        with Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=total < _PROGRESS_FROM,
        ) as progress:
            task = progress.add_task("Importing", total=total)

            def advance(done: int, of: int) -> None:
                progress.update(task, completed=done, total=of)

            async with unit_of_work(factory) as session:
                return await job(session, advance)
    finally:
        await engine.dispose()


def _finish(reports: Sequence[ImportReport]) -> None:
    table = Table(title="Import summary")
    for column in ("file", "created", "updated", "unchanged", "skipped", "total"):
        table.add_column(column, justify="left" if column == "file" else "right")
    for r in reports:
        table.add_row(
            r.label, str(r.created), str(r.updated), str(r.unchanged), str(r.skipped), str(r.total)
        )
    console.print(table)
    problems = [p for r in reports for p in r.problems]
    if problems:
        console.print(f"[yellow]{len(problems)} problem(s):[/]")
        for problem in problems[:_MAX_PROBLEMS_SHOWN]:
            console.print(f"  {problem}", highlight=False, markup=False)
        if len(problems) > _MAX_PROBLEMS_SHOWN:
            console.print(f"  … and {len(problems) - _MAX_PROBLEMS_SHOWN} more")
    if sum(r.imported for r in reports) == 0:
        err_console.print("[bold red]Nothing was imported.[/]")
        raise typer.Exit(EXIT_NOTHING_IMPORTED)


@import_app.command("kml")
def import_kml(
    file: Path = typer.Argument(..., help="A .kml or .kmz map file."),
    *,
    service_code: str = typer.Option(
        ..., "--service", help="Service type code, e.g. green_space_maintenance."
    ),
    year: int | None = typer.Option(None, "--year"),
    contract: str | None = typer.Option(None, "--contract", help="Contract number."),
    responsible: str | None = typer.Option(None, "--responsible", help="Company or unit."),
    responsible_type: str = typer.Option(
        MUNICIPALITY, "--responsible-type", help="contractor or municipality."
    ),
    title: str | None = typer.Option(None, "--title"),
    city: str | None = city_option(),
) -> None:
    """Import one KML file as a layer of public spaces."""
    spec = LayerSpec(
        path=file,
        service=service_code,
        year=year,
        contract=contract,
        responsible=responsible,
        responsible_type=responsible_type,
        title=title,
    )
    reason = validate_layer(spec)
    if reason is not None:
        raise _fail(ImportFileError(file, reason))
    with _bad_file_exits():
        document = parse_kml(file)

    async def job(session: AsyncSession, advance: Callable[[int, int], None]) -> list[ImportReport]:
        return [
            await service.import_kml_layer(
                session,
                spec,
                document=document,
                on_progress=advance,
                city_id=await city_id_of(session, city),
            )
        ]

    _finish(asyncio.run(_run(job, len(document.placemarks))))


@import_app.command("layers")
def import_layers(
    file: Path = typer.Argument(..., help="layers.csv; its files are read next to it."),
    derive_colonias: bool = typer.Option(
        True, help="Create colonias from garbage-route names (for a city with no colonia map)."
    ),
    city: str | None = city_option(),
) -> None:
    """Import every map file listed in a layers.csv."""
    with _bad_file_exits():
        layers_file = parse_layers_csv(file)
    total = len(layers_file.layers)

    async def job(session: AsyncSession, advance: Callable[[int, int], None]) -> list[ImportReport]:
        result = await service.import_layers_csv(
            session,
            file,
            derive_colonias=derive_colonias,
            city_id=await city_id_of(session, city),
        )
        advance(total, total)
        colonias = [result.colonias] if result.colonias else []
        return [result.csv, *result.layers, *colonias]

    reports = asyncio.run(_run(job, total))
    _finish(reports)


@import_app.command("contracts")
def import_contracts(
    file: Path = typer.Argument(..., help="Contracts CSV (IMCO layout)."),
    city: str | None = city_option(),
) -> None:
    """Import municipal contracts and their companies."""
    with _bad_file_exits():
        parsed = parse_contracts(file)

    async def job(session: AsyncSession, advance: Callable[[int, int], None]) -> list[ImportReport]:
        return [
            await service.import_contracts(
                session,
                file,
                parsed=parsed,
                on_progress=advance,
                city_id=await city_id_of(session, city),
            )
        ]

    _finish(asyncio.run(_run(job, len(parsed.records))))


@import_app.command("complaints")
def import_complaints(
    file: Path = typer.Argument(..., help="CSV colonia,service,date,count."),
    create_colonias: bool = typer.Option(False, help="Create colonias not yet known."),
    city: str | None = city_option(),
) -> None:
    """Import complaint counts per colonia, service and day or month."""
    with _bad_file_exits():
        parsed = parse_complaints(file)

    async def job(
        session: AsyncSession, _advance: Callable[[int, int], None]
    ) -> list[ImportReport]:
        return [
            await service.import_complaints(
                session,
                file,
                create_colonias=create_colonias,
                parsed=parsed,
                city_id=await city_id_of(session, city),
            )
        ]

    _finish(asyncio.run(_run(job, len(parsed.records))))


@import_app.command("colonias")
def import_colonias(
    file: Path = typer.Argument(..., help="KML of colonias, CSV name[,lat,lon], or route KML."),
    from_routes: bool = typer.Option(
        False, help="Derive colonias from a garbage-route KML's placemark names."
    ),
    city: str | None = city_option(),
) -> None:
    """Import colonias (neighbourhoods)."""
    with _bad_file_exits():
        parsed = colonias_from_routes(parse_kml(file)) if from_routes else parse_colonias_file(file)

    async def job(
        session: AsyncSession, _advance: Callable[[int, int], None]
    ) -> list[ImportReport]:
        return [
            await service.import_colonia_records(
                session, parsed, city_id=await city_id_of(session, city)
            )
        ]

    _finish(asyncio.run(_run(job, len(parsed.records))))

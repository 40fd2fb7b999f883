"""`guardianes import …`: load map layers, contracts, complaints, complaint channels and colonias.

Files are parsed before the database is opened, so a wrong file fails fast with one line
(exit 2, as does an unknown `--service`, with the list of valid codes). Imports are all or
nothing: any bad row, placemark or listed file means nothing is written, every problem is
printed as `file:line: reason` and the exit code is 1; `--skip-invalid` imports the good
records and prints the same report. Everything a command imports is committed in one
transaction at the end.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.cli.database import configured_sessions
from guardianes.importers import service
from guardianes.importers.colonias import colonias_from_routes, parse_colonias_file
from guardianes.importers.complaint_channels import (
    import_complaint_channels as import_channels,
)
from guardianes.importers.complaint_channels import parse_complaint_channels
from guardianes.importers.complaints import parse_complaints
from guardianes.importers.contracts import parse_contracts
from guardianes.importers.kml import parse_kml
from guardianes.importers.layers import MUNICIPALITY, LayerSpec, parse_layers_csv, validate_layer
from guardianes.importers.maps import FieldChoice, parse_map
from guardianes.importers.ocds import parse_ocds
from guardianes.importers.report import ImportFileError, ImportRejectedError, ImportReport, Problem
from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories.cities import CityRequiredError, resolve_city

import_app = typer.Typer(
    name="import",
    help="Import maps (KML, KMZ, GeoJSON, Shapefile, CSV), layers.csv, contracts (CSV, OCDS), "
    "complaints and colonias.",
    no_args_is_help=True,
)
console = Console()
err_console = Console(stderr=True)

EXIT_NOTHING_IMPORTED = 1
EXIT_BAD_FILE = 2
_PROGRESS_FROM = 200  # show a progress bar only for files at least this long

ImportJob = Callable[[AsyncSession, Callable[[int, int], None]], Awaitable[list[ImportReport]]]
SKIP_INVALID_HELP = "Import the good records and report the bad ones (default: all or nothing)."


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
    err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_BAD_FILE)


@contextmanager
def _bad_file_exits() -> Iterator[None]:
    try:
        yield
    except ImportFileError as error:
        raise _fail(error) from None


def print_problems(problems: Sequence[Problem]) -> None:
    """Every problem on its own line, `file:where: reason`, never cut or wrapped."""
    for problem in problems:
        console.print(f"  {problem}", highlight=False, markup=False, soft_wrap=True)


def _rejected(error: ImportRejectedError) -> typer.Exit:
    console.print(f"[red]{len(error.problems)} problem(s):[/]")
    print_problems(error.problems)
    err_console.print("[bold red]Nothing was imported.[/] Fix these, or use --skip-invalid.")
    return typer.Exit(EXIT_NOTHING_IMPORTED)


def _execute(job: ImportJob, total: int) -> list[ImportReport]:
    """Run the job in one transaction; a rejected import or unknown service writes nothing."""
    try:
        return asyncio.run(_run(job, total))
    except ImportRejectedError as error:
        raise _rejected(error) from None
    except service.UnknownServiceError as error:
        err_console.print(f"[bold red]error:[/] {error}", highlight=False, soft_wrap=True)
        raise typer.Exit(EXIT_BAD_FILE) from None
    except ImportFileError as error:
        raise _fail(error) from None


def _import_for_city(
    importer: Callable[..., Awaitable[ImportReport]],
    total: int,
    city: str | None,
    *,
    progress: bool = True,
) -> None:
    """Run `importer(session, city_id=…[, on_progress=…])` in one transaction; print its report."""

    async def job(session: AsyncSession, advance: Callable[[int, int], None]) -> list[ImportReport]:
        city_id = await city_id_of(session, city)
        if progress:
            return [await importer(session, city_id=city_id, on_progress=advance)]
        return [await importer(session, city_id=city_id)]

    finish(_execute(job, total))


async def _run(job: ImportJob, total: int) -> list[ImportReport]:
    async with configured_sessions() as sessions:
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

            async with unit_of_work(sessions) as session:
                return await job(session, advance)


def finish(reports: Sequence[ImportReport]) -> None:
    """The summary table and every problem; exit 1 when nothing was imported."""
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
        console.print(f"[yellow]{len(problems)} problem(s), not imported:[/]")
        print_problems(problems)
    if sum(r.imported for r in reports) == 0:
        err_console.print("[bold red]Nothing was imported.[/]")
        raise typer.Exit(EXIT_NOTHING_IMPORTED)


def import_kml(
    file: Path = typer.Argument(
        ..., help="A map: KML, KMZ, GeoJSON, Shapefile (.zip or .shp) or CSV of points."
    ),
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
    name_field: str | None = typer.Option(
        None, "--name-field", help="Property naming each space (GeoJSON, Shapefile, CSV)."
    ),
    code_field: str | None = typer.Option(
        None, "--code-field", help="Property holding each space's code."
    ),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help=SKIP_INVALID_HELP),
) -> None:
    """Import one map file (any format, read from its content) as a layer of public spaces."""
    spec = LayerSpec(
        path=file,
        service=service_code,
        year=year,
        contract=contract,
        responsible=responsible,
        responsible_type=responsible_type,
        title=title,
        name_field=name_field,
        code_field=code_field,
    )
    reason = validate_layer(spec)
    if reason is not None:
        raise _fail(ImportFileError(file, reason))
    with _bad_file_exits():
        document = parse_map(file, fields=FieldChoice(name_field, code_field))

    importer = partial(
        service.import_kml_layer, spec=spec, document=document, skip_invalid=skip_invalid
    )
    _import_for_city(importer, len(document.placemarks), city)


import_app.command("kml")(import_kml)
import_app.command("map", help="Same as `import kml`: any map format.")(import_kml)


@import_app.command("layers")
def import_layers(
    file: Path = typer.Argument(..., help="layers.csv; its files are read next to it."),
    derive_colonias: bool = typer.Option(
        True, help="Create colonias from garbage-route names (for a city with no colonia map)."
    ),
    city: str | None = city_option(),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help=SKIP_INVALID_HELP),
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
            skip_invalid=skip_invalid,
        )
        advance(total, total)
        colonias = [result.colonias] if result.colonias else []
        return [result.csv, *result.layers, *colonias]

    finish(_execute(job, total))


@import_app.command("contracts")
def import_contracts(
    file: Path = typer.Argument(..., help="Contracts CSV (IMCO layout)."),
    city: str | None = city_option(),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help=SKIP_INVALID_HELP),
) -> None:
    """Import municipal contracts and their companies."""
    with _bad_file_exits():
        parsed = parse_contracts(file)

    importer = partial(
        service.import_contracts, path=file, parsed=parsed, skip_invalid=skip_invalid
    )
    _import_for_city(importer, len(parsed.records), city)


@import_app.command("complaints")
def import_complaints(
    file: Path = typer.Argument(..., help="CSV colonia,service,date,count."),
    create_colonias: bool = typer.Option(False, help="Create colonias not yet known."),
    city: str | None = city_option(),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help=SKIP_INVALID_HELP),
) -> None:
    """Import complaint counts per colonia, service and day or month."""
    with _bad_file_exits():
        parsed = parse_complaints(file)

    importer = partial(
        service.import_complaints,
        path=file,
        create_colonias=create_colonias,
        parsed=parsed,
        skip_invalid=skip_invalid,
    )
    _import_for_city(importer, len(parsed.records), city, progress=False)


@import_app.command("colonias")
def import_colonias(
    file: Path = typer.Argument(
        ...,
        help="Map of colonias (KML, KMZ, GeoJSON, Shapefile), CSV name[,lat,lon], or route KML.",
    ),
    *,
    from_routes: bool = typer.Option(
        False, help="Derive colonias from a garbage-route KML's placemark names."
    ),
    city: str | None = city_option(),
    name_field: str | None = typer.Option(
        None, "--name-field", help="Property naming each colonia (e.g. nom_asen)."
    ),
    code_field: str | None = typer.Option(None, "--code-field", help="Property with a code."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help=SKIP_INVALID_HELP),
) -> None:
    """Import colonias (neighbourhoods)."""
    fields = FieldChoice(name_field, code_field)
    with _bad_file_exits():
        parsed = (
            colonias_from_routes(parse_kml(file))
            if from_routes
            else parse_colonias_file(file, fields=fields)
        )

    importer = partial(service.import_colonia_records, parsed=parsed, skip_invalid=skip_invalid)
    _import_for_city(importer, len(parsed.records), city, progress=False)


@import_app.command("ocds")
def import_ocds(
    files: list[Path] = typer.Argument(
        ..., help="OCDS release/record packages or releases (.json), or folders of them."
    ),
    skip_invalid: bool = typer.Option(False, "--skip-invalid", help=SKIP_INVALID_HELP),
) -> None:
    """Import contracts and companies from the Open Contracting Data Standard.

    Releases of one ocid are merged into its latest state; red flags are computed.
    """
    with _bad_file_exits():
        parsed = parse_ocds(files)

    async def job(session: AsyncSession, advance: Callable[[int, int], None]) -> list[ImportReport]:
        return [
            await service.import_ocds(
                session, files, parsed=parsed, on_progress=advance, skip_invalid=skip_invalid
            )
        ]

    finish(_execute(job, len(parsed.records)))


def import_complaint_channels(
    file: Path = typer.Argument(..., help="CSV service,kind,name,contact,hours,notes,confirmed."),
    city: str | None = city_option(),
) -> None:
    """Import a city's official complaint channels per service."""
    with _bad_file_exits():
        parsed = parse_complaint_channels(file)

    async def job(
        session: AsyncSession, _advance: Callable[[int, int], None]
    ) -> list[ImportReport]:
        return [await import_channels(session, parsed, city_id=await city_id_of(session, city))]

    finish(asyncio.run(_run(job, len(parsed.records))))

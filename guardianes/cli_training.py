"""`guardianes course check DIR` and `guardianes import complaint-channels FILE`."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.cli_import import _bad_file_exits, _finish, _run, city_id_of, city_option
from guardianes.conversations.course import DEFAULT_COURSE_DIR, CourseError, load_course
from guardianes.importers.complaint_channels import (
    import_complaint_channels as import_channels,
)
from guardianes.importers.complaint_channels import parse_complaint_channels
from guardianes.importers.report import ImportReport

course_app = typer.Typer(help="Check the training course's lessons.", no_args_is_help=True)
console = Console()


@course_app.callback()
def course() -> None:
    """Check the training course's lessons."""


@course_app.command("check")
def check(
    folder: Path = typer.Argument(
        DEFAULT_COURSE_DIR, help="A course folder (course.toml and <lesson>.<lang>.md files)."
    ),
) -> None:
    """Validate a course: list its lessons, or every problem with file and line (exit 1)."""
    try:
        course = load_course(folder)
    except CourseError as error:
        console.print(f"[bold red]{folder} is refused:[/bold red]")
        for problem in error.problems:
            console.print(f"  {problem}", highlight=False, markup=False)
        raise typer.Exit(1) from None
    table = Table(title=f"{course.course_id}: {course.title('es')} (quiz {course.quiz_form_id})")
    for column in ("order", "id", "topic", "screens es/en", "title (es)"):
        table.add_column(column)
    for lesson in course.lessons:
        table.add_row(
            str(lesson.order),
            lesson.id,
            lesson.topic,
            f"{len(lesson.screens_in('es'))}/{len(lesson.screens_in('en'))}",
            lesson.title("es"),
        )
    console.print(table)


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

    _finish(asyncio.run(_run(job, len(parsed.records))))

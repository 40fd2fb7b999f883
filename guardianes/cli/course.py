"""`guardianes course check DIR`: the training course's lessons, checked before they ship."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from guardianes.conversations.course import DEFAULT_COURSE_DIR, CourseError, load_course

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

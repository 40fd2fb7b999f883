"""`guardianes forms ...`: check an XLSForm before dropping it in, list installed forms."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from guardianes.config import Settings
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.xlsform import Form, FormError, Question, load_form

forms_app = typer.Typer(
    help="Check and list the XLSForms the chat engine runs.", no_args_is_help=True
)
console = Console()


def _questions_table(form: Form) -> Table:
    languages = list(form.languages) or ["default"]
    table = Table(title=f"{form.form_id} {form.version} ({form.kind.value})")
    table.add_column("row", justify="right")
    table.add_column("type")
    table.add_column("name")
    for language in languages:
        table.add_column(f"label ({language})")
    tagged = any(q.obligation for q in form.questions)
    if tagged:
        table.add_column("obligation (fails when)")
    for question in form.questions:
        obligation = []
        if tagged:
            obligation = [_obligation_cell(question)]
        table.add_row(
            str(question.row),
            question.type.value,
            question.name,
            *(question.labels.get(language, "") for language in languages),
            *obligation,
        )
    return table


def _obligation_cell(question: Question) -> str:
    """`mowing (no)` or `lighting (. > 0)`: what staff tagged and which answers fail it."""
    if question.obligation is None:
        return ""
    if question.failure_if is not None:
        return f"{question.obligation} ({question.failure_if.source})"
    failing = ", ".join(c.name for c in question.choices if c.failure)
    return f"{question.obligation} ({failing})"


@forms_app.command("check")
def check(file: Path = typer.Argument(..., help="An .xlsx, .xls, .csv or .md XLSForm")) -> None:
    """Validate a form: print its questions, or every reason it is refused (exit 1)."""
    try:
        form = load_form(file)
    except FormError as error:
        console.print(f"[bold red]{file.name} is refused:[/bold red] {error.summary}")
        for problem in error.problems:
            where = " ".join(
                part
                for part in (
                    f"sheet {problem.sheet}" if problem.sheet else "",
                    f"row {problem.row}" if problem.row else "",
                )
                if part
            )
            label = "warning: " if problem.warning else ""
            console.print(
                f"  • {label}{where + ': ' if where else ''}{problem.reason}", markup=False
            )
        raise typer.Exit(code=1) from error
    details = [f"kind {form.kind.value}"]
    if form.service:
        details.append(f"service {form.service}")
    if form.space_question:
        details.append(f"space question {form.space_question}")
    console.print(f"[green]{file.name} is valid[/green]: {form.title} — {', '.join(details)}")
    for warning in form.warnings:
        where = f"sheet {warning.sheet}, row {warning.row}: " if warning.row else ""
        console.print(f"  • warning: {where}{warning.reason}", markup=False)
    console.print(_questions_table(form))


@forms_app.command("list")
def list_forms() -> None:
    """Installed forms (shipped plus GUARDIANES_FORMS_DIR) and the files that were refused."""
    settings = Settings()
    catalog = FormCatalog.load(settings.forms_dir)
    table = Table(title="Installed forms")
    for column in ("form_id", "version", "kind", "service", "title", "file"):
        table.add_column(column)
    for form in sorted(catalog.forms.values(), key=lambda f: (f.kind.value, f.form_id)):
        table.add_row(
            form.form_id,
            form.version,
            form.kind.value,
            form.service or "",
            form.title,
            Path(form.source).name,
        )
    console.print(table)
    for note in catalog.notes:
        console.print(f"[yellow]{note}[/yellow]", markup=True)
    for problem in catalog.problems:
        console.print(f"refused: {problem}", style="red", markup=False)

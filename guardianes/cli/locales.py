"""`guardianes locales check`: every language's catalog has every key."""

from __future__ import annotations

import typer
from rich.console import Console

from guardianes.locales import catalog_differences

locales_app = typer.Typer(help="Message catalogs.", no_args_is_help=True)
console = Console()


@locales_app.command("check")
def locales_check() -> None:
    """Fail when a language's catalog lacks a key another language has."""
    problems = catalog_differences()
    for problem in problems:
        console.print(f"[red]{problem}[/red]")
    if problems:
        raise typer.Exit(1)
    console.print("Catalogs agree in every language.")

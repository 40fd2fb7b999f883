"""`guardianes staff …`: staff API tokens (create, revoke, list)."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.cli.database import in_unit_of_work
from guardianes.services import staff_tokens
from guardianes.storage.models import StaffTokenRole

staff_app = typer.Typer(help="Staff API tokens.", no_args_is_help=True)
console = Console()
err_console = Console(stderr=True)
EXIT_NOT_FOUND = 1


@staff_app.command("create-token")
def create_token(
    name: str = typer.Option(..., "--name", help="Who or what uses the token."),
    role: StaffTokenRole = typer.Option(StaffTokenRole.VIEWER, "--role"),
) -> None:
    """Make an API token; it is printed once and stored only as a SHA-256 hash."""

    async def job(session: AsyncSession) -> tuple[int, str]:
        row, plain = await staff_tokens.create_token(session, name=name, role=role)
        return row.id, plain

    token_id, plain = in_unit_of_work(job)
    err_console.print(f"Token {token_id} ({role}) for {name}. Keep it now; it is not shown again:")
    # The bare token on stdout so scripts can capture it.
    print(plain)


@staff_app.command("revoke-token")
def revoke_token(token_id: int = typer.Argument(..., help="The token's id.")) -> None:
    """Revoke a token at once."""

    async def job(session: AsyncSession) -> bool:
        return await staff_tokens.revoke_token(session, token_id)

    if not in_unit_of_work(job):
        err_console.print(f"[red]No active token {token_id}.[/red]")
        raise typer.Exit(EXIT_NOT_FOUND)
    console.print(f"Token {token_id} revoked.")


@staff_app.command("list-tokens")
def list_tokens() -> None:
    """Show every token (never their values)."""

    async def job(session: AsyncSession) -> list[tuple[str, ...]]:
        return [
            (
                str(t.id),
                t.name,
                t.role,
                t.created_at.isoformat(timespec="seconds"),
                t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "",
                "revoked" if t.revoked_at else "active",
            )
            for t in await staff_tokens.list_tokens(session)
        ]

    table = Table(title="Staff tokens")
    for column in ("id", "name", "role", "created", "last used", "state"):
        table.add_column(column)
    for row in in_unit_of_work(job):
        table.add_row(*row)
    console.print(table)

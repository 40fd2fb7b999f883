"""`guardianes chat`: the bot in this terminal, on the configured database."""

from __future__ import annotations

import asyncio
import getpass
import logging

import typer
from rich.console import Console

from guardianes.config import Settings
from guardianes.runtime.console import chat_in_terminal


def _default_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "console"


def chat_command(
    user: str | None = typer.Option(
        None, "--user", help="Who is chatting (default: your login name); keeps a conversation."
    ),
    lang: str | None = typer.Option(None, "--lang", help="es or en (default: the bot's)."),
    demo: bool = typer.Option(False, help="Load the sample data into an empty database."),
) -> None:
    """Chat with the bot in this terminal: choices by number, photos by path, "lat, lon"."""
    settings = Settings()
    # Log lines would tear through the conversation; only problems are shown.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    console = Console()

    async def read_line(prompt: str) -> str | None:
        try:
            return await asyncio.to_thread(console.input, prompt)
        except EOFError:
            return None

    try:
        asyncio.run(
            chat_in_terminal(
                settings,
                user_id=user or _default_user(),
                language=lang,
                demo=demo,
                console=console,
                read_line=read_line,
            )
        )
    except KeyboardInterrupt:
        console.print()

"""The `guardianes` command line: serve, migrate, import, forms, chat, staff operations."""

from __future__ import annotations

import sys

import typer

from guardianes.cli.backup import register_backup_commands
from guardianes.cli.broadcast import broadcast_app
from guardianes.cli.chat import chat_command
from guardianes.cli.cities import cities_app
from guardianes.cli.course import course_app
from guardianes.cli.db import db_app
from guardianes.cli.evidence import add_import_commands, evidence_app
from guardianes.cli.forms import forms_app
from guardianes.cli.imports import import_app, import_complaint_channels
from guardianes.cli.locales import locales_app
from guardianes.cli.privacy import privacy_app
from guardianes.cli.serve import serve
from guardianes.cli.services import services_app
from guardianes.cli.staff import staff_app

app = typer.Typer(
    help="Guardianes: citizen guardians check that public services are delivered.",
    no_args_is_help=True,
    rich_markup_mode="rich",
)


def _mount_subcommands() -> None:
    app.command()(serve)
    app.add_typer(db_app, name="db")
    app.add_typer(locales_app, name="locales")
    add_import_commands(import_app)
    app.add_typer(import_app, name="import", help="Import public data (maps, CSV, OCDS).")
    app.add_typer(evidence_app, name="evidence", help="Discrepancies, their evidence and loop.")
    app.add_typer(forms_app, name="forms", help="Check and list XLSForm cards and quizzes.")
    app.add_typer(staff_app, name="staff", help="Staff API tokens.")
    app.add_typer(broadcast_app, name="broadcast", help="Broadcasts to guardians.")
    app.add_typer(privacy_app, name="privacy", help="Privacy: retention and ARCO requests.")
    app.command("chat", help="Chat with the bot in this terminal.")(chat_command)
    app.add_typer(course_app, name="course", help="Check the training course's lessons.")
    import_app.command("complaint-channels")(import_complaint_channels)
    register_backup_commands(app)
    app.add_typer(cities_app, name="cities", help="Cities served by this deployment.")
    app.add_typer(services_app, name="services", help="Service types imports may name.")


def main() -> None:
    """Entry point of the `guardianes` console script."""
    _mount_subcommands()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)

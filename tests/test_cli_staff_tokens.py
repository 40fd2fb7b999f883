"""`guardianes staff create-token | revoke-token | list-tokens` against a real SQLite file."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from click.testing import Result
from typer.testing import CliRunner

from guardianes.app import create_app
from guardianes.cli.staff import staff_app
from guardianes.config import Settings

COLONIAS = "/api/v1/colonias"


@pytest.fixture
def database(tmp_path: Path) -> Path:
    """Where the commands keep their tokens (created and migrated by the first command)."""
    return tmp_path / "cli.db"


@pytest.fixture
def staff(database: Path) -> CliRunner:
    """A runner whose GUARDIANES_DATABASE_URL points at the test file."""
    return CliRunner(env={"GUARDIANES_DATABASE_URL": f"sqlite+aiosqlite:///{database}"})


def _create(runner: CliRunner, role: str = "staff", name: str = "x") -> Result:
    return runner.invoke(staff_app, ["create-token", "--role", role, "--name", name])


def _stored(database: Path) -> list[tuple[int, str, str, str, str | None]]:
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT id, name, role, token_hash, revoked_at FROM staff_tokens ORDER BY id"
        ).fetchall()
    return [tuple(row) for row in rows]


def test_create_token_prints_only_the_token_on_stdout(staff: CliRunner) -> None:
    result = _create(staff)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("gdn_")
    assert result.stdout.count("\n") == 1
    assert "not shown again" in result.stderr


def test_a_created_token_is_stored_only_as_its_hash(staff: CliRunner, database: Path) -> None:
    plain = _create(staff, name="analyst").stdout.strip()
    [(_, name, role, token_hash, revoked_at)] = _stored(database)
    assert (name, role, revoked_at) == ("analyst", "staff", None)
    assert token_hash == hashlib.sha256(plain.encode()).hexdigest()
    # The file and any write-ahead log beside it.
    for stored_file in database.parent.glob(f"{database.name}*"):
        assert plain.encode() not in stored_file.read_bytes()


def test_an_unknown_role_is_refused(staff: CliRunner) -> None:
    result = _create(staff, role="root")
    assert result.exit_code == 2
    assert "root" in result.stderr


def test_list_tokens_shows_state_but_never_a_token(staff: CliRunner) -> None:
    plain = _create(staff, name="analyst").stdout.strip()
    staff.invoke(staff_app, ["revoke-token", "1"])
    result = staff.invoke(staff_app, ["list-tokens"])
    assert result.exit_code == 0
    assert "analyst" in result.stdout and "revoked" in result.stdout
    assert plain not in result.stdout


def test_revoking_an_unknown_token_fails_with_a_message(staff: CliRunner) -> None:
    result = staff.invoke(staff_app, ["revoke-token", "41"])
    assert result.exit_code == 1
    assert "No active token 41" in result.stderr


@pytest.fixture
async def api(
    settings: Settings, database: Path, staff: CliRunner
) -> AsyncIterator[httpx.AsyncClient]:
    """The app on the commands' database (made by a first command), its lifespan running."""
    await asyncio.to_thread(staff.invoke, staff_app, ["list-tokens"])
    app = create_app(
        settings.model_copy(update={"database_url": staff.env["GUARDIANES_DATABASE_URL"]})
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            yield client


async def test_a_revoked_token_is_refused_by_the_api_at_once(
    staff: CliRunner, api: httpx.AsyncClient
) -> None:
    # The commands run asyncio.run of their own, so they go to a thread beside the app's loop.
    created = await asyncio.to_thread(_create, staff)
    headers = {"Authorization": f"Bearer {created.stdout.strip()}"}
    before = await api.get(COLONIAS, headers=headers)
    revoked = await asyncio.to_thread(staff.invoke, staff_app, ["revoke-token", "1"])
    after = await api.get(COLONIAS, headers=headers)
    assert (before.status_code, revoked.exit_code, after.status_code) == (200, 0, 401)

"""`guardianes broadcast status`: a progress bar while sending, then the final report."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from guardianes.cli import broadcast as broadcast_cli
from guardianes.services import broadcasts as broadcasts_service
from guardianes.storage.db import (
    create_engine,
    create_session_factory,
    unit_of_work,
    upgrade_database,
)
from guardianes.storage.models import BroadcastDelivery, DeliveryStatus
from guardianes.storage.repositories.broadcasts import RecipientFilter
from tests.scheduler.conftest import add_guardians

RECIPIENTS = 5
STEP = 2  # deliveries finished between two polls of the watched run


@pytest.fixture
def cli_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite file the CLI is pointed at through GUARDIANES_DATABASE_URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("GUARDIANES_DATABASE_URL", url)
    monkeypatch.setenv("GUARDIANES_MEDIA_DIR", str(tmp_path / "media"))

    async def migrate() -> None:
        engine = create_engine(url)
        await upgrade_database(engine)
        await engine.dispose()

    asyncio.run(migrate())
    return url


async def _broadcast(url: str) -> int:
    """A broadcast to RECIPIENTS guardians, nothing sent yet."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        await add_guardians(sessions, RECIPIENTS)
        async with unit_of_work(sessions) as session:
            broadcast, _ = await broadcasts_service.create_broadcast(
                session, text="Hola", recipients=RecipientFilter(), created_by="test"
            )
        return broadcast.id
    finally:
        await engine.dispose()


async def _finish(url: str, broadcast_id: int, count: int, status: DeliveryStatus) -> None:
    """Move `count` open deliveries to `status`, then let the broadcast notice it is done."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    try:
        async with unit_of_work(sessions) as session:
            ids = (
                await session.execute(
                    select(BroadcastDelivery.id)
                    .where(
                        BroadcastDelivery.broadcast_id == broadcast_id,
                        BroadcastDelivery.status == DeliveryStatus.PENDING,
                    )
                    .order_by(BroadcastDelivery.id)
                    .limit(count)
                )
            ).scalars()
            await session.execute(
                update(BroadcastDelivery)
                .where(BroadcastDelivery.id.in_(list(ids)))
                .values(status=status)
            )
            await broadcasts_service.refresh_status(session, broadcast_id)
    finally:
        await engine.dispose()


def _status(*args: str) -> tuple[int, str]:
    # `guardianes broadcast` is this Typer app (mounted by `guardianes.cli.main` at start).
    result = CliRunner().invoke(broadcast_cli.broadcast_app, ["status", *args])
    return result.exit_code, result.output


def test_the_final_report_of_a_finished_broadcast(cli_database: str) -> None:
    broadcast_id = asyncio.run(_broadcast(cli_database))
    asyncio.run(_finish(cli_database, broadcast_id, 3, DeliveryStatus.SENT))
    asyncio.run(_finish(cli_database, broadcast_id, 1, DeliveryStatus.UNREACHABLE))
    asyncio.run(_finish(cli_database, broadcast_id, 1, DeliveryStatus.FAILED))

    code, output = _status(str(broadcast_id), "--no-watch")

    assert code == 0, output
    assert f"Broadcast {broadcast_id}: done" in output
    for column in ("sent", "failed", "unreachable"):
        assert column in output
    # total, sent, queued, pending, failed, unreachable
    assert "│     5 │    3 │      0 │       0 │      1 │           1 │" in output


def test_watching_a_finished_broadcast_returns_at_once(
    cli_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broadcast_id = asyncio.run(_broadcast(cli_database))
    asyncio.run(_finish(cli_database, broadcast_id, RECIPIENTS, DeliveryStatus.SENT))

    async def never() -> None:
        raise AssertionError("a finished broadcast needs no second look")

    monkeypatch.setattr(broadcast_cli, "_between_polls", never)
    code, output = _status(str(broadcast_id))

    assert code == 0, output
    assert f"{RECIPIENTS}/{RECIPIENTS}" in output  # the bar, full
    assert f"Broadcast {broadcast_id}: done" in output


def test_watching_a_broadcast_being_sent_follows_it_to_the_end(
    cli_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    broadcast_id = asyncio.run(_broadcast(cli_database))
    polls: list[int] = []

    async def meanwhile_the_sender_works() -> None:
        # Between two polls the service sends a few more (instead of a real second passing).
        polls.append(len(polls))
        await _finish(cli_database, broadcast_id, STEP, DeliveryStatus.SENT)

    monkeypatch.setattr(broadcast_cli, "_between_polls", meanwhile_the_sender_works)
    code, output = _status(str(broadcast_id))

    assert code == 0, output
    assert len(polls) == -(-RECIPIENTS // STEP)  # it kept looking until the end, no longer
    assert f"{RECIPIENTS}/{RECIPIENTS}" in output
    assert f"Broadcast {broadcast_id}: done" in output
    assert "│     5 │    5 │      0 │       0 │      0 │           0 │" in output


def test_an_unknown_broadcast_is_an_error(cli_database: str) -> None:
    code, output = _status("999", "--no-watch")
    assert code == broadcast_cli.EXIT_NOT_FOUND
    assert "No broadcast 999" in output


def test_a_broadcast_to_an_unknown_colonia_is_refused(cli_database: str) -> None:
    result = CliRunner().invoke(
        broadcast_cli.broadcast_app, ["send", "--text", "Hola", "--colonia", "404", "--no-watch"]
    )
    assert result.exit_code == broadcast_cli.EXIT_NOT_FOUND
    assert "Unknown colonia 404" in result.output

"""Prometheus metrics: counters of this process, gauges read from the database, who may read."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update

from guardianes.bot.telegram.channel import TelegramChannel
from guardianes.bot.telegram.runner import build_bot
from guardianes.config import Settings
from guardianes.conversations.messages import InboundKind, InboundMessage, text_prompt
from guardianes.observability.metrics import REGISTRY, read_snapshot, render
from guardianes.scheduler.outbox import OutboxSender
from guardianes.services.broadcasts import create_broadcast
from guardianes.services.inbound import handle_inbound
from guardianes.services.runtime import Runtime
from guardianes.storage.db import create_engine, create_session_factory, unit_of_work
from guardianes.storage.models import Guardian, OutboxMessage
from guardianes.storage.repositories import outbox as outbox_repo
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.storage.types import utcnow
from tests.chat_driver import ChatDriver
from tests.fakes.telegram_server import FakeTelegramServer, Fault
from tests.observability.conftest import running_app, sample
from tests.services.conftest import register

OpsApp = tuple[FastAPI, httpx.AsyncClient]


def _counter(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _runtime(app: FastAPI) -> Runtime:
    runtime: Runtime = app.state.runtime
    return runtime


async def _scrape(http: httpx.AsyncClient) -> str:
    answer = await http.get("/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return answer.text


async def test_updates_are_counted_by_channel_and_kind_and_replies_by_channel(
    demo_runtime: Runtime,
) -> None:
    texts = _counter("guardianes_updates_total", channel="webchat", kind="text")
    choices = _counter("guardianes_updates_total", channel="webchat", kind="choice")
    replies = _counter("guardianes_replies_total", channel="webchat")
    chat = ChatDriver(demo_runtime, user_id="counted")

    answered = await chat.text("hola")
    await chat.press("Español")

    assert _counter("guardianes_updates_total", channel="webchat", kind="text") == texts + 1
    assert _counter("guardianes_updates_total", channel="webchat", kind="choice") == choices + 1
    assert _counter("guardianes_replies_total", channel="webchat") >= replies + len(answered) + 1


async def test_a_redelivered_update_is_counted_as_a_duplicate_only(demo_runtime: Runtime) -> None:
    message = InboundMessage(
        channel="webchat", user_id="twice", external_id="twice-1", kind=InboundKind.TEXT, text="x"
    )
    updates = _counter("guardianes_updates_total", channel="webchat", kind="text")
    duplicates = _counter("guardianes_duplicate_updates_total", channel="webchat")

    await handle_inbound(demo_runtime, message)
    await handle_inbound(demo_runtime, message)

    assert _counter("guardianes_updates_total", channel="webchat", kind="text") == updates + 1
    assert _counter("guardianes_duplicate_updates_total", channel="webchat") == duplicates + 1


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegramServer]:
    """The fake Bot API on loopback."""
    server = FakeTelegramServer()
    await server.start()
    yield server
    await server.stop()


async def test_a_429_from_the_platform_is_counted(
    runtime: Runtime, fake_telegram: FakeTelegramServer
) -> None:
    settings = Settings.model_validate(
        {
            **runtime.settings.model_dump(),
            "telegram_api_base": fake_telegram.base_url,
            "telegram_bot_token": fake_telegram.token,
        }
    )
    bot = build_bot(settings)
    runtime.channels["telegram"] = TelegramChannel(bot)
    async with unit_of_work(runtime.sessions) as session:
        await outbox_repo.enqueue(
            session, channel="telegram", address="4242", payload=text_prompt("hola").to_json()
        )
    fake_telegram.fail_next("sendMessage", 1, Fault.too_many_requests(retry_after=3))
    before = _counter("guardianes_rate_limited_total", channel="telegram")
    try:
        await OutboxSender(runtime, pacers={}).deliver_batch()
    finally:
        await bot.session.close()
    assert _counter("guardianes_rate_limited_total", channel="telegram") == before + 1


async def test_the_outbox_backlog_and_its_oldest_age_come_from_the_database(
    ops_app: OpsApp,
) -> None:
    app, http = ops_app
    runtime = _runtime(app)
    # Rows another worker queued for a channel this process does not run.
    async with unit_of_work(runtime.sessions) as session:
        for address in ("1", "2"):
            await outbox_repo.enqueue(
                session, channel="telegram", address=address, payload=text_prompt("x").to_json()
            )
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.channel == "telegram")
            .values(created_at=utcnow() - timedelta(minutes=5))
        )

    exposition = await _scrape(http)

    assert sample(exposition, "guardianes_outbox_backlog", channel="telegram") == 2
    age = sample(exposition, "guardianes_outbox_oldest_age_seconds", channel="telegram")
    assert age is not None and 300 <= age < 400
    assert sample(exposition, "guardianes_outbox_backlog", channel="webchat") is not None
    assert sample(exposition, "guardianes_database_up") == 1


async def test_inbound_events_are_reported_by_status(ops_app: OpsApp) -> None:
    app, http = ops_app
    await ChatDriver(_runtime(app), user_id="scraped").text("hola")

    exposition = await _scrape(http)

    assert sample(exposition, "guardianes_inbound_events", channel="webchat", status="processed")
    assert (
        sample(exposition, "guardianes_inbound_events", channel="webchat", status="received") == 0
    )
    assert sample(exposition, "guardianes_inbound_events", channel="webchat", status="failed") == 0


async def test_a_broadcast_in_progress_reports_its_deliveries_by_status(ops_app: OpsApp) -> None:
    app, http = ops_app
    runtime = _runtime(app)
    for number in (1, 2):
        await register(ChatDriver(runtime, user_id=f"listener-{number}"))
    async with unit_of_work(runtime.sessions) as session:
        colonia_id = (await session.execute(select(Guardian.colonia_id))).scalars().first()
        broadcast, count = await create_broadcast(
            session,
            text="Mañana hay recorrido",
            recipients=RecipientFilter(colonia_id=colonia_id),
            created_by="test",
        )

    exposition = await _scrape(http)

    labels = {"broadcast_id": str(broadcast.id)}
    assert count == 2
    assert sample(exposition, "guardianes_broadcast_deliveries", **labels, status="pending") == 2
    assert sample(exposition, "guardianes_broadcast_deliveries", **labels, status="sent") == 0


async def test_metrics_are_refused_to_a_client_that_is_not_on_loopback(settings: Settings) -> None:
    async with running_app(settings, client=("203.0.113.9", 40000), demo=False) as (_, http):
        answer = await http.get("/metrics")
    assert answer.status_code == 403
    assert "GUARDIANES_METRICS_TOKEN" in answer.json()["detail"]


async def test_metrics_are_refused_to_a_request_that_came_through_a_proxy(
    ops_app: OpsApp,
) -> None:
    _, http = ops_app
    answer = await http.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert answer.status_code == 403


async def test_with_a_metrics_token_only_its_bearer_may_read(settings: Settings) -> None:
    guarded = Settings.model_validate({**settings.model_dump(), "metrics_token": "scrape-42abc"})
    async with running_app(guarded, client=("203.0.113.9", 40000), demo=False) as (_, http):
        missing = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        right = await http.get("/metrics", headers={"Authorization": "Bearer scrape-42abc"})
    assert missing.status_code == 401
    assert wrong.status_code == 401
    assert right.status_code == 200
    assert "guardianes_database_up 1.0" in right.text


async def test_a_scrape_with_the_database_down_still_answers_and_says_so() -> None:
    engine = create_engine("postgresql+asyncpg://postgres@127.0.0.1:5432/guardianes_never_made")
    try:
        snapshot = await read_snapshot(create_session_factory(engine), ["webchat"])
    finally:
        await engine.dispose()
    exposition = render(snapshot).decode()
    assert sample(exposition, "guardianes_database_up") == 0
    assert "guardianes_outbox_backlog" not in exposition

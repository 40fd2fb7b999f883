"""Per-route body limits: 413 while the body streams, before it is parsed or authenticated."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from guardianes.app import create_app
from guardianes.config import Settings
from guardianes.web.body_limits import BodyLimit, limit_for

SMALL = 4096


@pytest.fixture
async def limited_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with tiny limits, so a few kilobytes are already too much."""
    limited = settings.model_copy(
        update={
            "body_limit_bytes": SMALL,
            "body_limit_webhook_bytes": SMALL,
            "body_limit_chat_bytes": 8 * SMALL,
        }
    )
    app: FastAPI = create_app(limited)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def _stream(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 1024):
        yield b" " * 1024


def test_the_longest_matching_prefix_decides_the_limit() -> None:
    rules = [BodyLimit("/api/", 10), BodyLimit("/api/v1/imports", 99)]

    assert limit_for("/api/v1/imports", rules, 1) == 99
    assert limit_for("/api/v1/visits", rules, 1) == 10
    assert limit_for("/chat", rules, 1) == 1


async def test_a_declared_length_over_the_limit_is_refused_with_413(
    limited_client: httpx.AsyncClient,
) -> None:
    response = await limited_client.post("/api/v1/broadcasts", content=b"{" + b" " * SMALL + b"}")

    assert response.status_code == 413


async def test_a_streamed_json_body_over_the_limit_is_refused_before_it_is_parsed(
    limited_client: httpx.AsyncClient,
) -> None:
    response = await limited_client.post(
        "/api/v1/broadcasts",
        content=_stream(4 * SMALL),
        headers={"Authorization": "Bearer nothing", "Content-Type": "application/json"},
    )

    assert response.status_code == 413


async def test_a_web_chat_upload_over_its_route_limit_is_refused(
    limited_client: httpx.AsyncClient,
) -> None:
    response = await limited_client.post(
        "/chat/api/messages",
        data={"kind": "photo", "external_id": str(uuid.uuid4())},
        files=[("photos", ("big.png", b"\x89PNG" + b"0" * (16 * SMALL), "image/png"))],
    )

    assert response.status_code == 413


async def test_a_body_under_the_limit_reaches_the_route(
    limited_client: httpx.AsyncClient,
) -> None:
    response = await limited_client.post("/api/v1/broadcasts", json={"text": "hola"})

    assert response.status_code == 401  # the route ran: no token

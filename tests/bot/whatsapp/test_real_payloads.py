"""Real Cloud API webhook bodies (published by pywa's test suite) replayed into the whole app.

Each post is signed like Meta signs it and goes through the real webhook, parser, inbound
store and conversation engine; Graph API calls go to the fake server on loopback.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from guardianes.app import create_app
from guardianes.config import Settings
from guardianes.domain.enums import InboundStatus, OutboxKind, OutboxStatus
from guardianes.services.runtime import Runtime
from guardianes.storage.models import InboundEvent, OutboxMessage
from guardianes.storage.models_whatsapp import WhatsAppIdentity
from tests.chat_driver import ChatDriver
from tests.fakes.graph_server import FakeGraphServer, sign
from tests.services.conftest import register
from tests.web.conftest import make_png

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "whatsapp"
APP_SECRET = "replay-app-secret"
PYWA_NUMBER_ID = "1122334455667"  # the business number of pywa's payloads
PERSON = "972987654321"


def payload(file: str, name: str) -> dict[str, Any]:
    """One named payload of a fixture file (a fresh copy)."""
    document = json.loads((FIXTURES / file).read_text(encoding="utf-8"))
    assert document["_source"]["repository"].startswith("https://github.com/")
    return copy.deepcopy(document["payloads"][name])


@pytest.fixture
async def pywa_graph() -> AsyncIterator[FakeGraphServer]:
    """A fake Graph API for pywa's business number."""
    server = FakeGraphServer(token="replay-token", phone_number_id=PYWA_NUMBER_ID)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def replay_app(tmp_path: Path, pywa_graph: FakeGraphServer) -> AsyncIterator[FastAPI]:
    """The whole app, WhatsApp on, with the sample data."""
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'replay.db'}",
        media_dir=tmp_path / "media",
        forms_dir=None,
        scheduler_enabled=False,
        telegram_bot_token=None,
        whatsapp_api_base=pywa_graph.base_url,
        whatsapp_token=pywa_graph.token,
        whatsapp_phone_number_id=PYWA_NUMBER_ID,
        whatsapp_app_secret=APP_SECRET,
    )
    app = create_app(settings, demo=True)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def runtime(replay_app: FastAPI) -> Runtime:
    """The app's runtime."""
    value: Runtime = replay_app.state.runtime
    return value


@pytest.fixture
async def post(replay_app: FastAPI, runtime: Runtime) -> AsyncIterator[Any]:
    """Post a body to the webhook signed with the app secret; waits for processing."""
    transport = httpx.ASGITransport(app=replay_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://meta.test") as client:

        async def send(body: dict[str, Any] | bytes) -> httpx.Response:
            raw = body if isinstance(body, bytes) else json.dumps(body).encode()
            response = await client.post(
                "/webhooks/whatsapp",
                content=raw,
                headers={"X-Hub-Signature-256": sign(APP_SECRET, raw)},
            )
            await runtime.drain()
            return response

        yield send


async def events(runtime: Runtime) -> list[InboundEvent]:
    async with runtime.sessions() as session:
        return list(
            (await session.execute(select(InboundEvent).order_by(InboundEvent.id))).scalars()
        )


async def replies(runtime: Runtime) -> list[OutboxMessage]:
    async with runtime.sessions() as session:
        return list(
            (await session.execute(select(OutboxMessage).order_by(OutboxMessage.id))).scalars()
        )


async def test_a_text_message_is_stored_and_answered(post: Any, runtime: Runtime) -> None:
    response = await post(payload("pywa_messages.json", "text"))

    assert response.status_code == 200
    [event] = await events(runtime)
    assert event.external_id == "wamid.xyzxyz" and event.status == InboundStatus.PROCESSED
    assert {row.address for row in await replies(runtime)} == {PERSON}


@pytest.mark.parametrize(
    ("file", "name", "kind"),
    [
        ("pywa_messages.json", "reaction", "reaction"),
        ("pywa_messages.json", "unreaction_empty", "reaction"),
        ("pywa_messages.json", "unreaction_no_emoji", "reaction"),
        ("pywa_edits.json", "edit_text", "edit"),
        ("pywa_system.json", "phone_number_change", "system"),
        ("pywa_system.json", "user_id_change", "system"),
        ("pywa_system.json", "identity_change", "system"),
    ],
)
async def test_reactions_edits_and_system_messages_are_noted_not_answered(
    post: Any, runtime: Runtime, file: str, name: str, kind: str
) -> None:
    response = await post(payload(file, name))

    assert response.status_code == 200
    [event] = await events(runtime)
    assert (event.status, event.kind) == (InboundStatus.NOTED, kind)
    assert await replies(runtime) == []


async def test_a_deletion_is_noted_not_answered(post: Any, runtime: Runtime) -> None:
    body = payload("pywa_deletions.json", "revoke")
    # pywa publishes it with placeholders; addressed to our number it is a deletion to note.
    body["entry"][0]["changes"][0]["value"]["metadata"]["phone_number_id"] = PYWA_NUMBER_ID

    response = await post(body)

    assert response.status_code == 200
    [event] = await events(runtime)
    assert (event.status, event.kind) == (InboundStatus.NOTED, "revoke")
    assert await replies(runtime) == []


async def test_the_deletion_as_published_for_another_number_is_ignored(
    post: Any, runtime: Runtime
) -> None:
    response = await post(payload("pywa_deletions.json", "revoke"))

    assert response.status_code == 200
    assert await events(runtime) == []


async def test_a_redelivered_reaction_is_noted_once(post: Any, runtime: Runtime) -> None:
    body = payload("pywa_messages.json", "reaction")
    await post(body)
    await post(body)

    assert len(await events(runtime)) == 1


async def test_a_number_change_moves_the_identity_to_the_new_number(
    post: Any, runtime: Runtime
) -> None:
    await post(payload("pywa_messages.json", "text"))
    await post(payload("pywa_system.json", "phone_number_change"))
    later = payload("pywa_messages.json", "reply")
    later["entry"][0]["changes"][0]["value"]["contacts"][0]["wa_id"] = "972912345678"
    later["entry"][0]["changes"][0]["value"]["messages"][0]["from"] = "972912345678"
    later["entry"][0]["changes"][0]["value"]["messages"][0]["id"] = "wamid.after-change"
    await post(later)

    async with runtime.sessions() as session:
        [identity] = (await session.execute(select(WhatsAppIdentity))).scalars().all()
    assert identity.wa_id == "972912345678"
    assert identity.user_id == PERSON  # the same person, the same guardian
    assert (await replies(runtime))[-1].address == "972912345678"


@pytest.mark.parametrize("name", ["sent", "delivered", "read", "failed"])
async def test_status_callbacks_are_recorded_on_the_message_they_concern(
    post: Any, runtime: Runtime, name: str
) -> None:
    async with runtime.sessions() as session:
        row = OutboxMessage(
            channel="whatsapp",
            address=PERSON,
            kind=OutboxKind.REPLY,
            payload={"kind": "text", "text": "hola"},
            status=OutboxStatus.SENT,
            platform_message_id="wamid.xyzxyz",
        )
        session.add(row)
        await session.commit()
        row_id = row.id

    response = await post(payload("pywa_statuses.json", name))

    assert response.status_code == 200
    async with runtime.sessions() as session:
        stored = await session.get(OutboxMessage, row_id)
    assert stored is not None
    assert stored.status == name
    if name == "failed":
        assert "130472" in (stored.last_error or "")


@pytest.mark.parametrize(
    "name", ["video", "voice", "static_sticker", "contacts", "unsupported", "chosen_location"]
)
async def test_other_kinds_get_a_polite_answer(post: Any, runtime: Runtime, name: str) -> None:
    response = await post(payload("pywa_messages.json", name))

    assert response.status_code == 200
    [event] = await events(runtime)
    assert event.status == InboundStatus.PROCESSED
    assert len(await replies(runtime)) >= 1


async def test_value_level_errors_are_noted_and_the_message_still_answered(
    post: Any, runtime: Runtime
) -> None:
    response = await post(payload("pywa_messages.json", "interactive_message_with_err"))

    assert response.status_code == 200
    kinds = sorted(event.kind for event in await events(runtime))
    assert kinds == ["error", "message"]
    [error] = [event for event in await events(runtime) if event.kind == "error"]
    assert "131000" in (error.error or "")


async def test_one_bad_message_in_a_batch_is_logged_and_the_others_processed(
    post: Any, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    body = payload("pywa_messages.json", "text")
    value = body["entry"][0]["changes"][0]["value"]
    good = value["messages"][0]
    numeric_time = {**good, "id": "wamid.numeric-time", "timestamp": 1697043300}
    too_long = {**good, "id": "wamid." + "x" * 300}
    no_body = {
        **good,
        "id": "wamid.bad-location",
        "type": "location",
        "location": {"latitude": 1e999},
    }
    value["messages"] = [good, too_long, numeric_time, no_body]

    with caplog.at_level(logging.WARNING):
        response = await post(body)

    assert response.status_code == 200
    stored = {event.external_id: event for event in await events(runtime)}
    assert stored["wamid.xyzxyz"].status == InboundStatus.PROCESSED
    assert stored["wamid.numeric-time"].status == InboundStatus.PROCESSED
    assert stored["wamid.bad-location"].status == InboundStatus.NOTED
    assert "wamid.bad-location" in caplog.text and "location.latitude" in caplog.text
    assert "field id" in caplog.text  # the over-long id, logged by its field


async def test_a_photo_at_a_step_that_asks_for_none_is_not_downloaded(
    post: Any, runtime: Runtime, pywa_graph: FakeGraphServer
) -> None:
    pywa_graph.add_media(make_png(), "image/png", media_id="65463453")

    response = await post(payload("pywa_messages.json", "image"))

    assert response.status_code == 200
    assert pywa_graph.media_downloads == []
    assert not runtime.settings.media_dir.exists() or not any(
        runtime.settings.media_dir.rglob("*.png")
    )


async def _at_the_photo_question(runtime: Runtime) -> None:
    chat = ChatDriver(runtime, user_id=PERSON, channel="whatsapp")
    await register(chat)
    await chat.press("Llenar una tarjeta")
    await chat.press("parques")
    await chat.location(28.6355, -106.089)
    await chat.press("Sí, es ese")
    for label in ("Sí", "Bien", "Nada", "No", "Bien", "Bien", "Bien", "Bien"):
        await chat.press(label)
    await chat.press("Omitir")


async def test_a_photo_the_question_asks_for_is_downloaded_once_with_its_caption(
    post: Any, runtime: Runtime, pywa_graph: FakeGraphServer
) -> None:
    await _at_the_photo_question(runtime)
    pywa_graph.add_media(make_png(), "image/png", media_id="65463453")
    body = payload("pywa_messages.json", "image")
    body["entry"][0]["changes"][0]["value"]["messages"][0]["image"]["caption"] = "Juegos rotos"

    await post(body)
    await post(body)  # Meta redelivers: nothing is downloaded again

    assert pywa_graph.media_downloads == ["65463453"]
    async with runtime.sessions() as session:
        state = (
            await session.execute(
                select(InboundEvent).where(InboundEvent.external_id == "wamid.xyzxyz")
            )
        ).scalar_one()
    assert state.status == InboundStatus.PROCESSED
    pending = await _pending_photos(runtime)
    assert [photo.get("caption") for photo in pending] == ["Juegos rotos"]


async def _pending_photos(runtime: Runtime) -> list[dict[str, Any]]:
    from guardianes.storage.repositories import guardians as guardians_repo

    async with runtime.sessions() as session:
        stored = await guardians_repo.load_state(session, "whatsapp", PERSON)
    assert stored is not None
    pending: list[dict[str, Any]] = stored.state["form"]["pending"]
    return pending


async def test_a_business_scoped_id_change_keeps_the_same_person(
    post: Any, runtime: Runtime
) -> None:
    first = payload("pywa_messages.json", "text")
    value = first["entry"][0]["changes"][0]["value"]
    value["contacts"][0]["user_id"] = "CO.1234567890"
    value["messages"][0]["from_user_id"] = "CO.1234567890"
    await post(first)

    await post(payload("pywa_system.json", "user_id_change"))

    async with runtime.sessions() as session:
        [identity] = (await session.execute(select(WhatsAppIdentity))).scalars().all()
    assert (identity.user_id, identity.bsuid) == (PERSON, "MX.0987654321")

"""WhatsApp through the whole app: signed webhooks in, the app's own outbox out to a fake Graph API.

`create_app(settings)` runs its real lifespan (database, forms, channels, outbox sender);
webhook posts go through the app's routes, and replies reach the fake Graph server on
loopback, which serves the photos behind its bearer token.
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from guardianes.app import create_app
from guardianes.bot.whatsapp.render import render
from guardianes.config import Settings
from guardianes.conversations.messages import Prompt
from guardianes.services.runtime import Runtime
from guardianes.storage.models import (
    Guardian,
    InboundEvent,
    OutboxMessage,
    Submission,
)
from guardianes.storage.models_whatsapp import WhatsAppIdentity
from tests.bot.whatsapp.conftest import APP_SECRET, JPEG_BYTES, VERIFY_TOKEN
from tests.fakes.graph_server import (
    BOTH,
    CLASSIC,
    SCOPED_ONLY,
    FakeGraphServer,
    Person,
    RecordedSend,
    SignedPost,
    WebhookFactory,
    sign,
)

PATH = "/webhooks/whatsapp"
SIGNATURE = "X-Hub-Signature-256"
FORMS_DIR = Path(__file__).parent / "forms"
PARK = (28.6355, -106.089)  # inside the sample park "Plaza Demo de Armas"
PARK_ANSWERS = ("Sí", "Bien", "Nada", "No", "Bien", "Bien", "Bien", "Bien")
NEIGHBOURHOOD_CHOICES = 12
ELEVENTH = "barrio_11"


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass
class RunningApp:
    """The app with its lifespan running, an HTTP client on it, and the fake Graph API."""

    app: FastAPI
    http: httpx.AsyncClient
    graph: FakeGraphServer
    webhooks: WebhookFactory
    seen_row: int = 0
    expected_sends: int = 0

    @property
    def runtime(self) -> Runtime:
        """The runtime the lifespan built."""
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def post(self, signed: SignedPost) -> int:
        """POST a webhook body as Meta would; returns the status code."""
        response = await self.http.post(PATH, content=signed.body, headers=signed.headers)
        return response.status_code

    async def settle(self) -> list[RecordedSend]:
        """Wait until what was posted is processed and every reply reached the fake."""
        await self.runtime.drain()
        async with self.runtime.sessions() as session:
            rows = (
                await session.execute(
                    select(OutboxMessage)
                    .where(OutboxMessage.channel == "whatsapp", OutboxMessage.id > self.seen_row)
                    .order_by(OutboxMessage.id)
                )
            ).scalars()
            previous = self.expected_sends
            for row in rows:
                self.seen_row = row.id
                self.expected_sends += len(render(Prompt.from_json(row.payload), row.locale))
        sends = await self.graph.wait_for_sends(self.expected_sends)
        return sends[previous : self.expected_sends]

    async def count(self, model: type) -> int:
        """Rows of a table."""
        async with self.runtime.sessions() as session:
            total = await session.execute(select(func.count()).select_from(model))
            return int(total.scalar_one())

    async def submissions(self) -> list[Submission]:
        """Every stored submission, with its media."""
        async with self.runtime.sessions() as session:
            return list((await session.execute(select(Submission))).scalars().all())


@dataclass
class WhatsAppUser:
    """One person writing to the bot on WhatsApp through the running app."""

    running: RunningApp
    person: Person = CLASSIC
    replies: list[RecordedSend] = field(default_factory=list)

    async def send(self, signed: SignedPost) -> list[RecordedSend]:
        """Post one message, wait for its replies, return them."""
        assert await self.running.post(signed) == 200
        new = await self.running.settle()
        self.replies.extend(new)
        return new

    async def text(self, body: str) -> list[RecordedSend]:
        """Type a text."""
        return await self.send(self.running.webhooks.text(self.person, body))

    async def location(self, latitude: float, longitude: float) -> list[RecordedSend]:
        """Share a location."""
        return await self.send(self.running.webhooks.location(self.person, latitude, longitude))

    async def photo(self, data: bytes) -> list[RecordedSend]:
        """Send a photo the fake Graph API serves."""
        media_id = self.running.graph.add_media(data)
        return await self.send(self.running.webhooks.image(self.person, media_id, data=data))

    async def press(self, label: str) -> list[RecordedSend]:
        """Press the reply button or list row of the latest interactive message like `label`."""
        wanted = _fold(label)
        for sent in reversed(self.replies):
            options = list(zip(sent.button_ids, sent.button_titles, strict=True))
            rows = [(row["id"], row["title"]) for row in sent.list_rows]
            if not options and not rows:
                continue
            for reply_id, title in options:
                if wanted in _fold(title):
                    signed = self.running.webhooks.button_reply(
                        self.person, reply_id, title, context_id=str(sent.message_id)
                    )
                    return await self.send(signed)
            for reply_id, title in rows:
                if wanted in _fold(title):
                    signed = self.running.webhooks.list_reply(
                        self.person, reply_id, title, context_id=str(sent.message_id)
                    )
                    return await self.send(signed)
            raise AssertionError(f"no option like {label!r} in {options or rows}")
        raise AssertionError("no interactive message received yet")

    async def register(self) -> None:
        """Say hello and walk the registration: language, consent, name, colonia."""
        await self.text("hola")
        await self.press("Español")
        await self.press("Sí, acepto")
        await self.text("Ana López")
        await self.text("Centro")


@asynccontextmanager
async def _running(settings: Settings, graph: FakeGraphServer) -> AsyncIterator[RunningApp]:
    app = create_app(settings, demo=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield RunningApp(app, http, graph, WebhookFactory(app_secret=APP_SECRET))


@pytest.fixture
async def running(wa_settings: Settings, graph: FakeGraphServer) -> AsyncIterator[RunningApp]:
    """The whole app with WhatsApp on the fake Graph API and the sample data loaded."""
    async with _running(wa_settings, graph) as running:
        yield running


@pytest.fixture
async def running_with_forms(
    wa_settings: Settings, graph: FakeGraphServer
) -> AsyncIterator[RunningApp]:
    """The whole app, also loading the XLSForms of `tests/bot/whatsapp/forms/`."""
    settings = wa_settings.model_copy(update={"forms_dir": FORMS_DIR})
    async with _running(settings, graph) as running:
        yield running


@pytest.fixture
def ana(running: RunningApp) -> WhatsAppUser:
    """A new person writing from a classic (phone number) WhatsApp account."""
    return WhatsAppUser(running)


async def test_a_new_guardian_registers_and_files_a_park_card_with_two_photos(
    ana: WhatsAppUser, running: RunningApp
) -> None:
    await ana.register()
    await ana.press("Llenar una tarjeta")
    await ana.press("parques")
    await ana.location(*PARK)
    await ana.press("Sí, es ese")
    for label in PARK_ANSWERS:
        await ana.press(label)
    await ana.press("Omitir")  # lamps out inside the park
    await ana.photo(JPEG_BYTES + b"1")
    await ana.photo(JPEG_BYTES + b"2")
    await ana.press("Listo")
    await ana.press("4 - Bien")
    await ana.text("Todo en orden")

    [submission] = await running.submissions()
    assert submission.channel == "whatsapp"
    assert submission.public_space_id is not None
    assert submission.answers["comentario"] == "Todo en orden"
    media_dir = running.runtime.settings.media_dir
    photos = [(media_dir / m.path).read_bytes() for m in submission.media]
    assert photos == [JPEG_BYTES + b"1", JPEG_BYTES + b"2"]
    assert len(running.graph.media_downloads) == 2
    assert running.graph.unauthorized == 0


async def test_a_twelve_option_question_is_a_numbered_menu_answered_by_typing_a_number(
    running_with_forms: RunningApp,
) -> None:
    ana = WhatsAppUser(running_with_forms)
    await ana.register()
    await ana.press("Llenar una tarjeta")
    question = (await ana.press("barrios"))[-1]
    assert question.type == "text"
    menu = question.text.splitlines()
    numbered = [line for line in menu if line[:1].isdigit()]
    assert len(numbered) == NEIGHBOURHOOD_CHOICES
    assert numbered[10] == "11. Villa Juárez"
    await ana.text("11")

    [submission] = await running_with_forms.submissions()
    assert submission.answers["barrio"] == ELEVENTH


async def test_the_same_message_delivered_twice_is_processed_once(
    ana: WhatsAppUser, running: RunningApp
) -> None:
    signed = running.webhooks.text(CLASSIC, "hola", message_id="wamid.SAME")
    first = await ana.send(signed)
    again = await ana.send(signed)
    assert first
    assert again == []
    assert await running.count(InboundEvent) == 1


async def test_a_forged_signature_is_refused_and_nothing_is_stored(running: RunningApp) -> None:
    signed = running.webhooks.text(CLASSIC, "hola")
    headers = {**signed.headers, SIGNATURE: sign("not-the-app-secret", signed.body)}
    assert await running.post(SignedPost(signed.body, headers)) == 401
    assert await running.count(InboundEvent) == 0


async def test_a_missing_signature_is_refused_and_nothing_is_stored(running: RunningApp) -> None:
    signed = running.webhooks.text(CLASSIC, "hola")
    headers = {"Content-Type": "application/json"}
    response = await running.http.post(PATH, content=signed.body, headers=headers)
    assert response.status_code == 401
    assert await running.count(InboundEvent) == 0


async def test_a_wrong_verify_token_is_forbidden(running: RunningApp) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "42"}
    response = await running.http.get(PATH, params=params)
    assert response.status_code == 403


async def test_the_right_verify_token_echoes_the_challenge(running: RunningApp) -> None:
    params = {"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "42"}
    response = await running.http.get(PATH, params=params)
    assert (response.status_code, response.text) == (200, "42")


async def test_a_signed_malformed_body_is_a_bad_request(running: RunningApp) -> None:
    body = b'{"object": "whatsapp_business_account", "entry": ['
    headers = {"Content-Type": "application/json", SIGNATURE: sign(APP_SECRET, body)}
    assert await running.post(SignedPost(body, headers)) == 400
    assert await running.count(InboundEvent) == 0


async def test_every_identifier_generation_reaches_one_guardian(
    ana: WhatsAppUser, running: RunningApp
) -> None:
    await ana.register()  # by phone number only (wa_id)
    for person in (BOTH, SCOPED_ONLY):
        ana.person = person
        replies = await ana.text("menu")
        titles = [row["title"] for sent in replies for row in sent.list_rows]
        titles += [title for sent in replies for title in sent.button_titles]
        assert "Llenar una tarjeta" in titles, f"{person} was not recognised: {titles}"
    assert await running.count(Guardian) == 1
    assert await running.count(WhatsAppIdentity) == 1
    assert {(s.to, s.recipient) for s in replies} == {(None, SCOPED_ONLY.user_id)}

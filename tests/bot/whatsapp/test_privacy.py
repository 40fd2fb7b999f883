"""«mis datos» and «borrar mis datos» on WhatsApp: the whole app, the fake Graph API."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from guardianes.config import Settings
from guardianes.services import staff_tokens
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Guardian
from guardianes.storage.models_whatsapp import WhatsAppIdentity
from guardianes.storage.repositories import guardians as guardians_repo
from tests.bot.whatsapp.test_end_to_end import RunningApp, WhatsAppUser, _running
from tests.fakes.graph_server import BOTH, FakeGraphServer
from tests.privacy_helpers import JPEG, file_card


@pytest.fixture
async def app(wa_settings: Settings, graph: FakeGraphServer) -> AsyncIterator[RunningApp]:
    """The whole app with WhatsApp on the fake Graph API and the sample data loaded."""
    async with _running(wa_settings, graph) as running:
        yield running


async def test_my_data_is_uploaded_and_sent_as_a_document_then_the_photos(
    app: RunningApp,
) -> None:
    ana = WhatsAppUser(app)
    await ana.register()
    await file_card(app.runtime, "whatsapp", "5216141234567")
    replies = await ana.text("mis datos")

    document = next(s for s in replies if s.type == "document")
    image = next(s for s in replies if s.type == "image")
    uploaded = app.graph.uploads[document.body["document"]["id"]]
    assert uploaded.mime_type == "application/json"
    assert document.body["document"]["filename"] == uploaded.filename
    exported = json.loads(uploaded.data)
    assert exported["guardian"]["display_name"] == "Ana López"
    assert exported["submissions"][0]["answers"]["poda"] == "si"
    assert app.graph.uploads[image.body["image"]["id"]].data == JPEG
    assert replies.index(document) < replies.index(image)


async def test_erasing_deletes_the_whatsapp_identities_too(app: RunningApp) -> None:
    ana = WhatsAppUser(app, person=BOTH)
    await ana.register()
    assert await app.count(WhatsAppIdentity) == 1
    await ana.text("borrar mis datos")
    replies = await ana.press("Sí, borrar todo")
    assert "borramos tus datos" in replies[-1].text
    assert (await app.count(Guardian), await app.count(WhatsAppIdentity)) == (0, 0)


async def test_a_deactivated_guardian_is_told_on_whatsapp_and_cannot_open_cards(
    app: RunningApp,
) -> None:
    ana = WhatsAppUser(app)
    await ana.register()
    async with unit_of_work(app.runtime.sessions) as session:
        guardian = await guardians_repo.find_guardian(session, "whatsapp", "5216141234567")
        assert guardian is not None
        await staff_tokens.deactivate_guardian(session, guardian.id)
    replies = await ana.text("menú")
    assert [r.type for r in replies] == ["text"]
    assert "desactivada" in replies[0].text

"""The inbound path: dedupe, order, consent, resume after restart, responsible-party lookup."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from guardianes.config import Settings
from guardianes.conversations.messages import InboundKind, InboundMessage
from guardianes.importers.service import import_contracts, import_layers_csv
from guardianes.runtime.bootstrap import build_runtime
from guardianes.services.inbound import handle_inbound
from guardianes.services.media import store_media
from guardianes.services.runtime import Runtime, reload_gazetteer
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import (
    ConversationState,
    Guardian,
    InboundEvent,
    OutboxMessage,
    Submission,
)
from tests.chat_driver import ChatDriver
from tests.services.conftest import register, to_park_photos

PNG = b"\x89PNG\r\n\x1a\n" + bytes(64)


async def _count(runtime: Runtime, model: type) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())


async def test_first_message_starts_registration(chat: ChatDriver) -> None:
    replies = await chat.text("hola")
    assert [c.label for c in replies[-1].choices] == ["Español", "English"]


async def test_the_same_platform_message_twice_is_processed_once(chat: ChatDriver) -> None:
    message = InboundMessage(
        channel="webchat", user_id="dup", external_id="same-id", kind=InboundKind.TEXT, text="hola"
    )
    assert await handle_inbound(chat.runtime, message) is True
    assert await handle_inbound(chat.runtime, message) is False
    assert await _count(chat.runtime, InboundEvent) == 1
    assert await _count(chat.runtime, OutboxMessage) == 2


async def test_declining_consent_stores_nothing_about_the_person(chat: ChatDriver) -> None:
    await chat.text("hola")
    await chat.press("Español")
    await chat.press("No acepto")
    assert await _count(chat.runtime, Guardian) == 0
    assert await _count(chat.runtime, ConversationState) == 0
    async with chat.runtime.sessions() as session:
        events = (await session.execute(select(InboundEvent))).scalars().all()
    assert all(e.payload is None and e.conversation_key is None for e in events)


async def test_registration_creates_the_guardian_with_consent(chat: ChatDriver) -> None:
    await register(chat)
    async with chat.runtime.sessions() as session:
        guardian = (await session.execute(select(Guardian))).scalar_one()
    assert guardian.display_name == "Ana López"
    assert guardian.privacy_notice_version == chat.runtime.settings.privacy_notice_version
    assert guardian.colonia_id is not None


async def test_a_restart_resumes_at_the_same_question(chat: ChatDriver, settings: Settings) -> None:
    await register(chat)
    await chat.press("Llenar una tarjeta")
    await chat.press("parques")
    await chat.location(28.6355, -106.089)  # the sample park at the city centre
    await chat.press("Sí, es ese")
    question = chat.last_question().text
    await chat.runtime.close()

    restarted = await build_runtime(settings)
    try:
        resumed = ChatDriver(
            restarted, seen_outbox_id=chat.seen_outbox_id, replies=list(chat.replies)
        )
        replies = await resumed.press("Sí")  # answers the question asked before the restart
        assert question != replies[-1].text
        assert "riego" in replies[-1].text.lower()
    finally:
        await restarted.close()


async def test_park_card_is_stored_with_space_contract_and_photos(chat: ChatDriver) -> None:
    await to_park_photos(chat)
    media_dir = chat.runtime.settings.media_dir
    first = await store_media(media_dir, PNG + b"1", max_bytes=10**6)
    second = await store_media(media_dir, PNG + b"2", max_bytes=10**6)
    await chat.photos(first)
    await chat.photos(second)
    await chat.press("Listo")
    await chat.press("4 - Bien")
    await chat.text("Todo en orden")
    async with chat.runtime.sessions() as session:
        submission = (await session.execute(select(Submission))).scalar_one()
    assert submission.public_space_id is not None
    assert submission.contract_id is not None
    assert submission.responsible_name == "Jardines Demo del Centro, S.A. de C.V."
    assert [m.sha256 for m in submission.media] == [first.sha256, second.sha256]
    assert all((media_dir / m.path).is_file() for m in submission.media)
    assert submission.answers["comentario"] == "Todo en orden"


async def test_concurrent_messages_of_one_person_are_applied_in_order(
    chat: ChatDriver,
) -> None:
    await register(chat)
    names = [f"Nombre{i}" for i in range(5)]
    await chat.press("Mis datos")
    messages = [
        InboundMessage(
            channel="webchat",
            user_id=chat.user_id,
            external_id=f"burst-{i}",
            kind=InboundKind.TEXT,
            text=name,
        )
        for i, name in enumerate(names)
    ]
    await asyncio.gather(*(handle_inbound(chat.runtime, m) for m in messages))
    async with chat.runtime.sessions() as session:
        ids = (
            await session.execute(
                select(InboundEvent.external_id).order_by(InboundEvent.processed_at)
            )
        ).scalars()
        order = [i for i in ids if i.startswith("burst-")]
    assert order == [f"burst-{i}" for i in range(5)]


async def test_who_is_responsible_answers_from_the_real_chihuahua_maps(
    runtime: Runtime, chihuahua_data
) -> None:
    async with unit_of_work(runtime.sessions) as session:
        await import_layers_csv(session, chihuahua_data / "layers.csv")
        await import_contracts(session, chihuahua_data / "contratos_municipio_2018_2020.csv")
    await reload_gazetteer(runtime)
    sierra_reyna = next(
        s for s in runtime.gazetteer._spaces if s.name.strip().lower() == "parque sierra reyna"
    )
    point = sierra_reyna.geometry.representative_point()
    chat = ChatDriver(runtime)
    await chat.text("hola")
    await chat.press("Español")
    await chat.press("Sí, acepto")
    await chat.text("Luis")
    await chat.press("Prefiero no decir")
    await chat.press("¿Quién es responsable?")
    replies = await chat.location(point.y, point.x)
    answer = chat.all_text(replies)
    assert "Sierra Reyna" in answer
    assert sierra_reyna.responsible[0].name in answer

"""Webhook posts through identity resolution, media download and event storage."""

from __future__ import annotations

from sqlalchemy import select

from guardianes.conversations.messages import InboundKind, InboundMessage, text_prompt
from guardianes.domain.enums import OutboxStatus
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import InboundEvent, OutboxMessage
from guardianes.storage.repositories import outbox as outbox_repo
from tests.bot.whatsapp.conftest import JPEG_BYTES
from tests.fakes.graph_server import BOTH, CLASSIC, SCOPED_ONLY, FakeGraphServer, Fault

PATH = "/webhooks/whatsapp"


async def post(http, signed):
    response = await http.post(PATH, content=signed.body, headers=signed.headers)
    return response.status_code


async def stored(session_factory) -> list[InboundMessage]:
    async with session_factory() as session:
        events = (await session.execute(select(InboundEvent).order_by(InboundEvent.id))).scalars()
        return [InboundMessage.from_json(e.payload) for e in events if e.payload]


async def test_a_photo_is_downloaded_stored_and_recorded(
    pipeline_http, webhooks, graph: FakeGraphServer, session_factory, wa_settings
):
    media_id = graph.add_media(JPEG_BYTES)
    assert (
        await post(
            pipeline_http, webhooks.image(CLASSIC, media_id, caption="Bancas", data=JPEG_BYTES)
        )
        == 200
    )
    [inbound] = await stored(session_factory)
    assert inbound.kind == InboundKind.PHOTO
    [photo] = inbound.photos
    assert (wa_settings.media_dir / photo.path).read_bytes() == JPEG_BYTES
    assert graph.media_downloads == [media_id]


async def test_two_photos_in_a_row_are_two_photo_events_in_order(
    pipeline_http, webhooks, graph, session_factory
):
    first = graph.add_media(JPEG_BYTES)
    second = graph.add_media(JPEG_BYTES + b"2")
    signed = webhooks.messages(
        CLASSIC, webhooks.image_entry(CLASSIC, first), webhooks.image_entry(CLASSIC, second)
    )
    assert await post(pipeline_http, signed) == 200
    inbounds = await stored(session_factory)
    assert [i.kind for i in inbounds] == [InboundKind.PHOTO, InboundKind.PHOTO]
    assert graph.media_downloads == [first, second]


async def test_a_redelivered_message_is_recorded_once(pipeline_http, webhooks, session_factory):
    signed = webhooks.text(CLASSIC, "hola", message_id="wamid.SAME")
    assert await post(pipeline_http, signed) == 200
    assert await post(pipeline_http, signed) == 200
    assert [i.external_id for i in await stored(session_factory)] == ["wamid.SAME"]


async def test_one_person_across_identifier_generations_is_one_user(
    pipeline_http, webhooks, session_factory
):
    for person in (CLASSIC, BOTH, SCOPED_ONLY):
        assert await post(pipeline_http, webhooks.text(person, "hola")) == 200
    inbounds = await stored(session_factory)
    assert {i.user_id for i in inbounds} == {CLASSIC.wa_id}
    assert [i.address for i in inbounds] == [CLASSIC.wa_id, BOTH.wa_id, SCOPED_ONLY.user_id]


async def test_a_media_outage_is_answered_503_and_the_redelivery_is_stored(
    pipeline_http, webhooks, graph, session_factory
):
    media_id = graph.add_media(JPEG_BYTES)
    signed = webhooks.messages(
        CLASSIC,
        webhooks.message(CLASSIC, "text", {"body": "mira"}),
        webhooks.image_entry(CLASSIC, media_id),
    )
    graph.fail_next_media(1, Fault(code=None, http_status=502))
    assert await post(pipeline_http, signed) == 503
    assert [i.kind for i in await stored(session_factory)] == [InboundKind.TEXT]
    assert await post(pipeline_http, signed) == 200  # Meta redelivers the whole post
    assert [i.kind for i in await stored(session_factory)] == [InboundKind.TEXT, InboundKind.PHOTO]


async def test_media_that_is_not_an_image_becomes_unsupported(
    pipeline_http, webhooks, graph, session_factory
):
    media_id = graph.add_media(b"%PDF-1.7 not a photo", mime_type="image/jpeg")
    assert await post(pipeline_http, webhooks.image(CLASSIC, media_id)) == 200
    [inbound] = await stored(session_factory)
    assert inbound.kind == InboundKind.UNSUPPORTED


async def test_a_status_post_updates_the_outbox_row(pipeline_http, webhooks, session_factory):
    async with unit_of_work(session_factory) as session:
        row = await outbox_repo.enqueue(
            session, channel="whatsapp", address="5216141234567", payload=text_prompt("x").to_json()
        )
        row.status = OutboxStatus.SENT
        row.platform_message_id = "wamid.OUT77"
    assert await post(pipeline_http, webhooks.status("wamid.OUT77", "delivered")) == 200
    async with session_factory() as session:
        found = await session.get(OutboxMessage, row.id)
    assert found is not None
    assert found.status == OutboxStatus.DELIVERED

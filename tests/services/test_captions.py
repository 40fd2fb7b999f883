"""What a guardian writes with a photo is kept with it in the submission."""

from __future__ import annotations

from sqlalchemy import select

from guardianes.conversations.messages import InboundKind
from guardianes.services.media import store_media
from guardianes.storage.models import SubmissionMedia
from tests.chat_driver import ChatDriver
from tests.web.conftest import make_png

from .conftest import register


async def test_a_photo_caption_is_stored_with_the_submission_photo(chat: ChatDriver) -> None:
    await register(chat)
    await chat.press("Llenar una tarjeta")
    await chat.press("parques")
    await chat.location(28.6355, -106.089)
    await chat.press("Sí, es ese")
    for label in ("Sí", "Bien", "Nada", "No", "Bien", "Bien", "Bien", "Bien"):
        await chat.press(label)
    await chat.press("Omitir")
    stored = await store_media(chat.runtime.settings.media_dir, make_png(), max_bytes=10**6)
    await chat.send(InboundKind.PHOTO, photos=(stored,), text="Columpio roto")
    await chat.press("Listo")
    await chat.press("4 - Bien")
    await chat.text("Todo en orden")

    async with chat.runtime.sessions() as session:
        media = (await session.execute(select(SubmissionMedia))).scalar_one()
    assert media.caption == "Columpio roto"

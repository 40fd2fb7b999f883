"""What a guardian writes with a photo is kept with it in the submission."""

from __future__ import annotations

from sqlalchemy import select

from guardianes.conversations.messages import InboundKind
from guardianes.storage.models import SubmissionMedia
from tests.chat_driver import ChatDriver

from .conftest import store_photo, to_park_photos


async def test_a_photo_caption_is_stored_with_the_submission_photo(chat: ChatDriver) -> None:
    await to_park_photos(chat)
    stored = await store_photo(chat.runtime)
    await chat.send(InboundKind.PHOTO, photos=(stored,), text="Columpio roto")
    await chat.press("Listo")
    await chat.press("4 - Bien")
    await chat.text("Todo en orden")

    async with chat.runtime.sessions() as session:
        media = (await session.execute(select(SubmissionMedia))).scalar_one()
    assert media.caption == "Columpio roto"

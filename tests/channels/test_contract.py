"""The channel contract: every channel plugin carries the same conversation to the same result.

One script runs on Telegram, WhatsApp, the web chat and the console: registration, then a
park card with a photo. Each channel must store the same submission, process a message
delivered twice only once, and answer content the bot cannot read without losing the card.
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from guardianes.storage.models import InboundEvent, Submission
from tests.channels.conftest import ChannelDriver

PARK = (28.6355, -106.089)  # inside the sample park "Plaza Demo de Armas"
PARK_ANSWERS = ("Sí", "Bien", "Nada", "No", "Bien", "Bien", "Bien", "Bien")
JPEG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64 + b"contract"
EXPECTED_ANSWERS: dict[str, Any] = {
    "ubicacion": {"latitude": 28.6355, "longitude": -106.089},
    "poda": "si",
    "riego": "bien",
    "basura": "nada",
    "arboles_problema": "no",
    "juegos": "bien",
    "equipo_deportivo": "bien",
    "bancas": "bien",
    "alumbrado": "bien",
    "calificacion": "4",
    "comentario": "Todo en orden",
    "problemas": 0,
}
# The photo is stored content-addressed, so every channel stores the same path.
PHOTO_SHA256 = hashlib.sha256(JPEG_BYTES).hexdigest()
EXPECTED_ANSWERS["fotos"] = [f"{PHOTO_SHA256[:2]}/{PHOTO_SHA256}.jpg"]


def shown(texts: list[str]) -> str:
    return "\n".join(texts)


async def register(driver: ChannelDriver) -> None:
    await driver.text("hola")
    await driver.press("Español")
    await driver.press("Sí, acepto")
    await driver.text("Ana López")
    await driver.text("Centro")


async def to_the_photo_question(driver: ChannelDriver) -> list[str]:
    await register(driver)
    await driver.press("Llenar una tarjeta")
    await driver.press("parques")
    await driver.location(*PARK)
    await driver.press("Sí, es ese")
    for label in PARK_ANSWERS:
        await driver.press(label)
    return await driver.press("Omitir")  # lamps out inside the park


async def finish_the_card(driver: ChannelDriver) -> list[str]:
    await driver.press("Listo")
    await driver.press("4 - Bien")
    return await driver.text("Todo en orden")


async def submissions(driver: ChannelDriver) -> list[Submission]:
    async with driver.runtime.sessions() as session:
        query = select(Submission).options(selectinload(Submission.media))
        return list((await session.execute(query)).scalars())


async def inbound_events(driver: ChannelDriver) -> int:
    async with driver.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboundEvent)) or 0)


async def test_the_script_stores_the_same_submission_on_every_channel(
    driver: ChannelDriver,
) -> None:
    asked = await to_the_photo_question(driver)
    assert "fotos" in shown(asked)
    await driver.photo(JPEG_BYTES)
    thanks = await finish_the_card(driver)

    assert "Guardamos tu tarjeta" in shown(thanks)
    [submission] = await submissions(driver)
    assert submission.channel == driver.name
    assert submission.answers == EXPECTED_ANSWERS
    assert submission.public_space_id is not None
    media_dir = driver.runtime.settings.media_dir
    assert [(media_dir / m.path).read_bytes() for m in submission.media] == [JPEG_BYTES]


async def test_a_message_delivered_twice_is_processed_once(driver: ChannelDriver) -> None:
    first = await driver.text("hola")
    events = await inbound_events(driver)

    again = await driver.again()

    assert first
    assert again == []
    assert await inbound_events(driver) == events


async def test_content_the_bot_cannot_read_is_answered_and_the_card_goes_on(
    driver: ChannelDriver,
) -> None:
    await to_the_photo_question(driver)

    answer = await driver.unsupported()

    assert shown(answer).strip()
    await driver.photo(JPEG_BYTES)
    assert "Guardamos tu tarjeta" in shown(await finish_the_card(driver))
    [submission] = await submissions(driver)
    assert len(submission.media) == 1

"""Fixtures for the evidence tests: the real Chihuahua maps and contracts, cards sent in chat."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageDraw

from guardianes.conversations.messages import Prompt, PromptKind, StoredMedia
from guardianes.domain.dates import month_of
from guardianes.domain.timezone import zone
from guardianes.geo.index import IndexedSpace
from guardianes.importers.service import import_contracts, import_layers_csv
from guardianes.services.media import store_media
from guardianes.services.runtime import Runtime, reload_gazetteer
from guardianes.storage.db import unit_of_work
from tests.chat_driver import ChatDriver

PEWIS_CONTRACT = "O.M.-38/2020-D"
PEWIS = "Constructora Pewis, S.A. de C.V."
MAX_CARD_STEPS = 40

# What a guardian answers to each question of the park card, by a piece of its text.
PARK_ANSWERS_FINE: dict[str, str] = {
    "pasto está podado": "Sí",
    "riego": "Bien",
    "basura hay tirada": "Nada",
    "árboles secos": "No",
    "Juegos infantiles": "Bien",
    "Canchas": "Bien",
    "Bancas": "Bien",
    "Alumbrado dentro": "Bien",
    "calificas": "3",
}


@dataclass
class ChihuahuaCity:
    """A runtime loaded with the published Chihuahua layers and contracts."""

    runtime: Runtime
    data: Path

    def spaces_of(self, contract: str) -> list[IndexedSpace]:
        """The spaces of one contract's layer, in file order."""
        return [
            space
            for space in self.runtime.gazetteer._spaces  # type: ignore[attr-defined]
            if any(r.contract_number == contract for r in space.responsible)
        ]

    def municipal_parks(self) -> list[IndexedSpace]:
        """Parks the municipality maintains itself."""
        return [
            space
            for space in self.runtime.gazetteer._spaces  # type: ignore[attr-defined]
            if space.service == "green_space_maintenance"
            and all(r.kind == "municipality" for r in space.responsible)
        ]


@pytest.fixture
async def city(runtime: Runtime, chihuahua_data: Path) -> ChihuahuaCity:
    """The real Chihuahua data imported exactly as published."""
    async with unit_of_work(runtime.sessions) as session:
        await import_layers_csv(session, chihuahua_data / "layers.csv")
        await import_contracts(session, chihuahua_data / "contratos_municipio_2018_2020.csv")
    await reload_gazetteer(runtime)
    return ChihuahuaCity(runtime, chihuahua_data)


async def register(chat: ChatDriver, name: str) -> None:
    """Register a guardian who prefers not to give a colonia."""
    await chat.text("hola")
    await chat.press("Español")
    await chat.press("Sí, acepto")
    await chat.text(name)
    await chat.press("Prefiero no decir")


def _answer_for(prompt: Prompt, answers: dict[str, str]) -> str | None:
    for fragment, answer in answers.items():
        if fragment.casefold() in prompt.text.casefold():
            return answer
    return None


async def back_to_menu(chat: ChatDriver) -> None:
    """Answer "Todavía no" when a card that reported a failure asked «¿Ya lo reportaste?»."""
    if chat.replies and any(c.label == "Todavía no" for c in chat.last_question().choices):
        await chat.press("Todavía no")


async def fill_park_card(
    chat: ChatDriver,
    space: IndexedSpace,
    *,
    photos: tuple[StoredMedia, ...] = (),
    **overrides: str,
) -> list[Prompt]:
    """Fill the park card for a space through the real pipeline; returns every reply.

    `overrides` map a fragment of a question's text to the label to press, e.g.
    `{"pasto está podado": "No"}` reports the grass unmowed.
    """
    answers: dict[str, Any] = {**overrides, **PARK_ANSWERS_FINE}
    answers.update(overrides)
    await back_to_menu(chat)
    replies = await chat.press("tarjeta")
    replies += await chat.press("parques")
    point = space.geometry.representative_point()
    replies += await chat.location(point.y, point.x)
    replies += await chat.press("Sí, es ese")
    for _ in range(MAX_CARD_STEPS):
        prompt = chat.last_question()
        if "¿Qué quieres hacer?" in prompt.text or prompt.kind is PromptKind.DONE:
            return replies
        answer = _answer_for(prompt, answers)
        if prompt.kind is PromptKind.PHOTO and photos:
            replies += await chat.photos(*photos)
            photos = ()
        elif prompt.kind is PromptKind.PHOTO and prompt.done_label:
            replies += await chat.press(prompt.done_label)
        elif answer is not None:
            replies += await chat.press(answer)
        elif prompt.skip_label:
            replies += await chat.press(prompt.skip_label)
        elif prompt.kind is PromptKind.TEXT or not prompt.choices:
            replies += await chat.text("0")
        else:
            raise AssertionError(f"no answer for {prompt.text!r}")
        if any("Gracias" in r.text and "tarjeta" in r.text.casefold() for r in replies[-3:]):
            return replies
    raise AssertionError("the card never finished:\n" + chat.all_text())


def this_month() -> tuple[date, date]:
    """First and last local day of the current month (cards carry the real clock's time)."""
    return month_of(datetime.now(zone("America/Chihuahua")).date())


def scene(seed: int, size: int = 256) -> Image.Image:
    """A photo-like picture: smooth random shapes, different for every seed."""
    rng = random.Random(seed)
    picture = Image.new("RGB", (size, size), (rng.randrange(256), 120, 90))
    draw = ImageDraw.Draw(picture)
    for _ in range(12):
        x, y = rng.randrange(size), rng.randrange(size)
        r = rng.randrange(20, size // 2)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
    return picture


def jpeg(picture: Image.Image, *, quality: int = 90, scale: float = 1.0) -> bytes:
    """The picture as JPEG bytes, optionally resized (what a re-sent copy looks like)."""
    if scale != 1.0:
        picture = picture.resize((int(picture.width * scale), int(picture.height * scale)))
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=quality)
    return buffer.getvalue()


async def stored_photo(runtime: Runtime, data: bytes) -> StoredMedia:
    """Store a photo as the channel adapters do, before it reaches the engine."""
    return await store_media(Path(runtime.settings.media_dir), data, max_bytes=10_000_000)

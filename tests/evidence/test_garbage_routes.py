"""The garbage card on the real collection routes: a missed collection day is a discrepancy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from guardianes.conversations.messages import PromptKind
from guardianes.domain.timezone import zone
from guardianes.runtime.sample import SAMPLE_DIR
from guardianes.services.evidence_imports import import_directorates
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Directorate
from guardianes.storage.models_evidence import Discrepancy
from tests.chat_driver import ChatDriver
from tests.evidence.conftest import MAX_CARD_STEPS, ChihuahuaCity, back_to_menu, register


async def fill_garbage_card(chat: ChatDriver, point: tuple[float, float], *, came: str) -> None:
    """Send the garbage card from a point of a route; `came` answers whether the truck came."""
    await back_to_menu(chat)
    await chat.press("tarjeta")
    await chat.press("basura")
    await chat.location(*point)
    await chat.press("Sí, es ese")
    today = datetime.now(zone("America/Chihuahua")).date().isoformat()
    for _ in range(MAX_CARD_STEPS):
        prompt = chat.last_question()
        text = prompt.text.casefold()
        if "¿qué quieres hacer?" in text or "avísanos" in text:
            return  # the menu, or «¿Ya lo reportaste?» after a card that found a failure
        if "qué días debe pasar" in text:
            await chat.press("Lunes" if not prompt.selected else prompt.done_label or "Listo")
        elif "pasó en esos días" in text:
            await chat.press(came)
        elif "por última vez" in text:
            await chat.text(today)
        elif "cuántas veces no pasó" in text:
            await chat.text("3")
        elif "tiradero clandestino" in text:
            await chat.press("No")
        elif prompt.kind is PromptKind.PHOTO or prompt.skip_label:
            await chat.press(prompt.skip_label or "Omitir")
        else:
            raise AssertionError(f"unexpected question {prompt.text!r}")
    raise AssertionError("the garbage card never finished:\n" + chat.all_text())


async def test_a_missed_collection_day_on_a_municipal_route_reaches_aseo_urbano(
    city: ChihuahuaCity,
) -> None:
    async with unit_of_work(city.runtime.sessions) as session:
        await import_directorates(session, SAMPLE_DIR / "direcciones_chihuahua.csv")
    route = next(
        s
        for s in city.runtime.gazetteer._spaces  # type: ignore[attr-defined]
        if s.service == "garbage_collection" and s.geometry.geom_type.endswith("Polygon")
    )
    inside = route.geometry.representative_point()
    chat = ChatDriver(city.runtime, user_id="mara")
    await register(chat, "Mara")

    await fill_garbage_card(chat, (inside.y, inside.x), came="No")

    async with city.runtime.sessions() as session:
        (found,) = (await session.scalars(select(Discrepancy))).all()
        directorate = await session.get(Directorate, found.directorate_id)
    assert (found.service_code, found.obligation, found.kind) == (
        "garbage_collection",
        "collection_day",
        "not_reported",
    )
    assert found.responsible_type == "municipality"
    assert directorate is not None and "Aseo Urbano" in directorate.name

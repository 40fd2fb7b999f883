"""Closing the loop on Telegram: "¿Ya quedó?" arrives as buttons and a "No" reopens the case."""

from __future__ import annotations

from sqlalchemy import select

from guardianes.services import evidence
from guardianes.storage.db import unit_of_work
from guardianes.storage.models_evidence import Discrepancy

from .conftest import Live
from .test_pipeline import fill_park_card_until_photos, finish_park_card


async def mowing_discrepancy(live: Live) -> Discrepancy:
    async with live.runtime.sessions() as session:
        return (
            await session.scalars(select(Discrepancy).where(Discrepancy.obligation == "mowing"))
        ).one()


async def test_a_guardian_answers_ya_quedo_no_with_the_telegram_button(live: Live) -> None:
    await fill_park_card_until_photos(live)  # the grass is reported unmowed
    await finish_park_card(live)
    found = await mowing_discrepancy(live)
    async with unit_of_work(live.runtime.sessions) as session:
        await evidence.change_status(
            session, found.id, "resolved", actor="sindicatura", note="Cuadrilla 4 podó."
        )
    before = len(live.fake.sent(live.user.id))
    await live.sender.run_until_idle()
    (notice,) = live.fake.sent(live.user.id)[before:]
    assert "Cuadrilla 4 podó." in notice.params["text"]
    buttons = [b["text"] for row in notice.params["reply_markup"]["inline_keyboard"] for b in row]
    assert buttons == ["Sí, ya quedó", "No, sigue igual"]

    replies = await live.press("No, sigue igual")

    assert (await mowing_discrepancy(live)).status == "open"
    assert any("Reabrimos" in call.params.get("text", "") for call in replies)

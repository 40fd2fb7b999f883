"""Closing the loop on WhatsApp: "¿Ya quedó?" arrives as reply buttons; "Sí" is a confirmation."""

from __future__ import annotations

from sqlalchemy import select

from guardianes.services import evidence
from guardianes.storage.db import unit_of_work
from guardianes.storage.models_evidence import Discrepancy, GuardianConfirmation

from .test_end_to_end import PARK, PARK_ANSWERS, RunningApp, WhatsAppUser, ana, running

__all__ = ["ana", "running"]  # fixtures of the end-to-end module

UNMOWED = ("No", *PARK_ANSWERS[1:])


async def test_a_guardian_confirms_the_fix_with_the_whatsapp_button(
    ana: WhatsAppUser, running: RunningApp
) -> None:
    await ana.register()
    await ana.press("Llenar una tarjeta")
    await ana.press("parques")
    await ana.location(*PARK)
    await ana.press("Sí, es ese")
    for label in UNMOWED:
        await ana.press(label)
    await ana.press("Omitir")  # lamps out inside the park
    await ana.press("Omitir")  # photos
    await ana.press("4 - Bien")
    await ana.press("Omitir")  # comment
    async with running.runtime.sessions() as session:
        (found,) = (await session.scalars(select(Discrepancy))).all()
    async with unit_of_work(running.runtime.sessions) as session:
        await evidence.change_status(session, found.id, "resolved", actor="sindicatura")
    running.runtime.outbox_wakeup.set()
    (question,) = await running.settle()
    ana.replies.append(question)
    assert question.button_titles == ["Sí, ya quedó", "No, sigue igual"]

    await ana.press("Sí, ya quedó")

    async with running.runtime.sessions() as session:
        (answer,) = (await session.scalars(select(GuardianConfirmation))).all()
        still = await session.get(Discrepancy, found.id)
    assert answer.answer == "yes"
    assert still is not None and still.status == "resolved"

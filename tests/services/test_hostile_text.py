"""Text no database can hold (NUL, lone surrogates) is cleaned at the door, on both backends."""

from __future__ import annotations

from sqlalchemy import select

from guardianes.conversations.messages import Command, InboundKind
from guardianes.domain.enums import InboundStatus
from guardianes.services.runtime import Runtime
from guardianes.storage.models import Guardian, InboundEvent
from tests.chat_driver import ChatDriver
from tests.services.conftest import register


async def test_a_nul_in_a_name_is_dropped_and_the_conversation_goes_on(
    any_runtime: Runtime,
) -> None:
    chat = ChatDriver(any_runtime, user_id="nul-user")
    await register(chat, name="Ana\x00 López")

    async with any_runtime.sessions() as session:
        guardian = (await session.execute(select(Guardian))).scalar_one()
        statuses = set((await session.execute(select(InboundEvent.status))).scalars())
    assert guardian.display_name == "Ana López"
    assert statuses == {InboundStatus.PROCESSED}
    assert await chat.command(Command.MENU)  # the menu answers: nothing is wedged


async def test_a_lone_surrogate_and_control_characters_are_dropped(any_runtime: Runtime) -> None:
    chat = ChatDriver(any_runtime, user_id="surrogate-user")

    await chat.send(InboundKind.TEXT, text="hola\ud800\x07", display_name="Bad\x00Name\udfff")

    async with any_runtime.sessions() as session:
        statuses = set((await session.execute(select(InboundEvent.status))).scalars())
    assert statuses == {InboundStatus.PROCESSED}

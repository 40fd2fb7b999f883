"""Per-person rate limits on the platform channels: a flood is dropped, the person is told
once in their language, and everyone else is unaffected."""

from __future__ import annotations

from sqlalchemy import func, select

from guardianes.conversations.messages import InboundKind, InboundMessage
from guardianes.services.inbound import accept_inbound
from guardianes.services.runtime import Runtime
from guardianes.storage.models import InboundEvent, OutboxMessage

FLOOD = 60


def _message(user: str, n: int, language: str = "es-MX") -> InboundMessage:
    return InboundMessage(
        channel="telegram",
        user_id=user,
        external_id=f"tg:{user}:{n}",
        kind=InboundKind.TEXT,
        text=f"hola {n}",
        language_code=language,
    )


async def _count(runtime: Runtime, statement) -> int:
    async with runtime.sessions() as session:
        return int((await session.execute(statement)).scalar_one())


async def test_a_flood_is_cut_at_the_limit_and_told_once_in_its_language(
    demo_runtime: Runtime,
) -> None:
    accepted = [
        await accept_inbound(demo_runtime, _message("flood", n, "en")) for n in range(FLOOD)
    ]
    await demo_runtime.drain()

    assert accepted.count(True) == 30  # "30/10 seconds"
    stored = await _count(demo_runtime, select(func.count()).select_from(InboundEvent))
    assert stored == 30
    async with demo_runtime.sessions() as session:
        texts = [
            row.payload["text"] for row in (await session.execute(select(OutboxMessage))).scalars()
        ]
    assert sum(text.startswith("One moment, please") for text in texts) == 1


async def test_another_person_is_not_slowed_by_a_flood(demo_runtime: Runtime) -> None:
    for n in range(FLOOD):
        await accept_inbound(demo_runtime, _message("flood", n))

    assert await accept_inbound(demo_runtime, _message("calm", 1))

"""The inbound repository: a conversation's next event, and whether another one waits."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories import inbound as inbound_repo

KEY = "telegram:7"


async def _store(sessions: async_sessionmaker[AsyncSession], external_id: str) -> int:
    async with unit_of_work(sessions) as session:
        event_id = await inbound_repo.record_event(
            session,
            channel="telegram",
            external_id=external_id,
            conversation_key=KEY,
            payload={"text": external_id},
        )
    assert event_id is not None
    return event_id


async def test_the_next_event_comes_with_whether_another_one_waits(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    first = await _store(session_factory, "u1")
    await _store(session_factory, "u2")
    async with unit_of_work(session_factory) as session:
        event, more = await inbound_repo.next_unprocessed_and_more(session, KEY)
    assert event is not None and event.id == first
    assert more


async def test_the_last_waiting_event_says_none_follows(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    only = await _store(session_factory, "u1")
    async with unit_of_work(session_factory) as session:
        event, more = await inbound_repo.next_unprocessed_and_more(session, KEY)
    assert event is not None and event.id == only
    assert not more


async def test_a_conversation_with_nothing_waiting_has_no_next_event(
    session_factory: async_sessionmaker[AsyncSession],
) -> None:
    async with unit_of_work(session_factory) as session:
        assert await inbound_repo.next_unprocessed_and_more(session, KEY) == (None, False)

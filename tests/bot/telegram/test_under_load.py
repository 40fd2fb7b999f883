"""Under load, on the real clock, against a fake Bot API enforcing Telegram's caps.

A guardian who writes during a broadcast of thousands is answered at once (replies have
their own lane and go first at the pacer), and the fake never answers 400 or 429.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from guardianes.services.runtime import Runtime
from tests.chat_load import BotUnderLoad, percentile
from tests.fakes.telegram_server import FakeTelegramServer, RateLimits

RECIPIENTS = 2_000
CHATTERS = 40
P95_LIMIT_SECONDS = 0.25


@pytest.fixture
async def bot_under_load(
    demo_runtime: Runtime, fake: FakeTelegramServer
) -> AsyncIterator[BotUnderLoad]:
    """The bot polling and sending, against a fake that enforces Telegram's caps."""
    fake.enforce_limits(RateLimits())
    bot = BotUnderLoad(demo_runtime, fake)
    await bot.start()
    yield bot
    await bot.stop()


async def test_guardians_who_write_during_a_big_broadcast_are_answered_at_once(
    bot_under_load: BotUnderLoad, fake: FakeTelegramServer
) -> None:
    await bot_under_load.broadcast(RECIPIENTS)
    await fake.wait_for(lambda: bot_under_load.broadcast_sent() >= 60, within=10.0)

    latencies = await bot_under_load.chat(CHATTERS)

    print(sorted(latencies))
    assert percentile(latencies, 0.95) < P95_LIMIT_SECONDS, sorted(latencies)
    sent_meanwhile = bot_under_load.broadcast_sent()
    assert 60 < sent_meanwhile < RECIPIENTS  # the broadcast was going on all along
    assert bot_under_load.refused() == []

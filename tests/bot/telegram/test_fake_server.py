"""The fake Bot API's own behaviour that other tests rely on: offsets and rate caps."""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from tests.fakes.telegram_server import ALICE, BOB, FakeTelegramServer, RateLimits


class ManualClock:
    """A clock tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_getupdates_forgets_updates_below_the_offset(bot: Bot, fake: FakeTelegramServer):
    first, second = await fake.push(fake.updates.text(ALICE, "1"), fake.updates.text(ALICE, "2"))
    assert [u.update_id for u in await bot.get_updates()] == [first, second]
    assert [u.update_id for u in await bot.get_updates(offset=second)] == [second]
    assert await bot.get_updates(offset=second + 1) == []


async def test_per_chat_cap_refuses_a_burst_to_one_chat(bot: Bot, fake: FakeTelegramServer):
    clock = ManualClock()
    limits = fake.enforce_limits(RateLimits(clock=clock))
    for _ in range(3):
        await bot.send_message(ALICE.id, "hola")
    try:
        await bot.send_message(ALICE.id, "una más")
        raise AssertionError("the fourth message in the same second should be refused")
    except TelegramRetryAfter as error:
        assert error.retry_after == 1
    await bot.send_message(BOB.id, "otra persona")  # other chats are not affected
    clock.now += 1.0
    await bot.send_message(ALICE.id, "un segundo después")
    assert limits.refused == 1


async def test_overall_cap_refuses_the_thirty_first_message_in_a_second(
    bot: Bot, fake: FakeTelegramServer
):
    clock = ManualClock()
    limits = fake.enforce_limits(RateLimits(clock=clock))
    for chat in range(30):
        await bot.send_message(1000 + chat, "aviso")
    try:
        await bot.send_message(2000, "aviso")
        raise AssertionError("the 31st message in a second should be refused")
    except TelegramRetryAfter:
        pass
    assert limits.refused == 1

"""End to end on Telegram: many guardians talking at once through the fake Bot API.

Each guardian walks a script (registration, the card menu, the park card up to its first
questions) as fast as the bot answers: an update is injected, the next one only after the
bot's replies to it arrived. Measured: updates/s, and the time from injecting an update to
the fake receiving the first sendMessage for that chat (p50/p95/p99).

The same script runs against a bare aiogram echo bot on the same fake (the baseline: what
aiogram and the fake cost on this machine). "paced" runs the bot at Telegram's caps against
a fake that enforces them (30/s overall, about 1/s per chat); its baseline is the cap.

Usage: python -m bench.telegram_e2e [--guardians 50 200] [--steps 6] [--paced-guardians 50]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bench._common import figure, percentile
from guardianes.config import Settings
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from tests.chat_load import BotUnderLoad
from tests.fakes.telegram_server import FakeTelegramServer, RateLimits, TgUser

FIRST_USER = 40_000_001
# Calibration: a turn is over when the chat stayed quiet this long (paced: over 1/s per chat).
QUIET_SECONDS = 1.0
QUIET_SECONDS_PACED = 2.0
REPLY_WITHIN = 60.0
TELEGRAM_CAP = 30.0

# (kind, value): "text" types, "press" presses the button whose label contains value.
SCRIPT: tuple[tuple[str, str], ...] = (
    ("text", "hola"),
    ("press", "Español"),
    ("press", "Sí, acepto"),
    ("text", "Guardiana de prueba"),
    ("text", "Centro"),
    ("press", "Llenar una tarjeta"),
    ("press", "parques"),
    ("location", ""),
    ("press", "Sí, es ese"),
    ("press", "Sí"),
)
ECHO_KEYBOARD = InlineKeyboardMarkup(
    inline_keyboard=[
        [InlineKeyboardButton(text=value, callback_data=f"echo:{n}")]
        for n, (kind, value) in enumerate(SCRIPT)
        if kind == "press"
    ]
)


class MeasuringFake(FakeTelegramServer):
    """The fake Bot API, telling waiting guardians when a message reaches their chat."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: dict[int, list[float]] = {}
        self._waiters: dict[int, tuple[int, asyncio.Future[None]]] = {}

    async def _record(
        self, method: str, params: dict[str, Any], status: int, at: float = 0.0
    ) -> None:
        await super()._record(method, params, status, at)
        chat = params.get("chat_id")
        if method != "sendMessage" or status != 200 or not isinstance(chat, int):
            return
        arrivals = self.arrivals.setdefault(chat, [])
        arrivals.append(time.monotonic())
        waiter = self._waiters.get(chat)
        if waiter is not None and len(arrivals) >= waiter[0] and not waiter[1].done():
            waiter[1].set_result(None)

    async def messages(self, chat: int, count: int) -> float:
        """Wait until the chat received `count` messages in all; when the first of them came."""
        arrivals = self.arrivals.setdefault(chat, [])
        if len(arrivals) < count:
            future = asyncio.get_running_loop().create_future()
            self._waiters[chat] = (count, future)
            try:
                await asyncio.wait_for(future, REPLY_WITHIN)
            finally:
                self._waiters.pop(chat, None)
        return arrivals[count - 1]


def _update(fake: FakeTelegramServer, user: TgUser, kind: str, value: str) -> dict[str, Any]:
    if kind == "text":
        return fake.updates.text(user, value)
    if kind == "location":
        return fake.updates.location(user, 28.6355, -106.089)  # the sample park
    return fake.press(user, value)


async def calibrate(fake: MeasuringFake, steps: int, quiet: float) -> list[int]:
    """How many messages the bot sends for each step (one guardian, waiting for quiet)."""
    user = TgUser(FIRST_USER - 1, "Calibración")
    counts = []
    for step, (kind, value) in enumerate(SCRIPT[:steps]):
        before = len(fake.arrivals.get(user.id, []))
        await fake.push(_update(fake, user, kind, value))
        await fake.messages(user.id, before + 1)
        # The next press needs its keyboard: on a busy machine it may come after a pause.
        needs_keyboard = step + 1 < steps and SCRIPT[step + 1][0] == "press"
        while True:
            seen = len(fake.arrivals[user.id])
            await asyncio.sleep(quiet)
            if len(fake.arrivals[user.id]) != seen:
                continue
            if not needs_keyboard or fake.last_keyboard_message(user.id) is not None:
                break
        counts.append(len(fake.arrivals[user.id]) - before)
    return counts


@dataclass
class Load:
    """What one load produced."""

    updates: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    lost: int = 0

    @property
    def rate(self) -> float:
        """Updates per second."""
        return self.updates / self.seconds if self.seconds else 0.0


async def load(fake: MeasuringFake, guardians: int, counts: list[int], first: int) -> Load:
    """`guardians` walk the script at once; each step waits for its replies."""
    result = Load()

    async def guardian(n: int) -> None:
        user = TgUser(first + n, f"Guardiana {n}", language_code="es")
        expected = 0
        for (kind, value), count in zip(SCRIPT, counts, strict=False):
            pushed = time.monotonic()
            await fake.push(_update(fake, user, kind, value))
            try:
                arrived = await fake.messages(user.id, expected + 1)
                result.latencies.append(arrived - pushed)
                expected += count
                await fake.messages(user.id, expected)
            except TimeoutError:
                result.lost += 1
                return
            result.updates += 1

    started = time.monotonic()
    await asyncio.gather(*(guardian(n) for n in range(guardians)))
    result.seconds = time.monotonic() - started
    return result


async def echo_bot(fake: MeasuringFake) -> Callable[[], Awaitable[None]]:
    """A bare aiogram echo bot polling the fake; returns its stop function."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url))
    bot = Bot(fake.token, session=session)
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "ok", reply_markup=ECHO_KEYBOARD)

    @dispatcher.callback_query()
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()
        await bot.send_message(query.from_user.id, query.data or "", reply_markup=ECHO_KEYBOARD)

    task = asyncio.create_task(
        dispatcher.start_polling(bot, polling_timeout=1, handle_signals=False)
    )

    async def stop() -> None:
        await dispatcher.stop_polling()
        await task
        await session.close()

    return stop


async def guardianes_bot(
    fake: MeasuringFake, folder: Path, *, paced: bool, local_pacing: bool = False
) -> Callable[[], Awaitable[None]]:
    """The bot as `guardianes serve` runs it for Telegram (polling); returns its stop function."""
    unpaced = (
        {} if paced else {"telegram_rate_per_second": 1e6, "telegram_rate_per_chat_per_second": 1e6}
    )
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        media_dir=folder / "media",
        scheduler_enabled=False,
        telegram_bot_token=fake.token,
        telegram_api_base=fake.base_url,
        rate_limit_person="1000/second",
        outbox_shared_pacing=not local_pacing,
        **unpaced,
    )
    runtime = await build_runtime(settings)
    await load_demo_data_once(runtime)
    bot = BotUnderLoad(runtime, fake)
    await bot.start()

    async def stop() -> None:
        await bot.stop()
        await runtime.close()

    return stop


async def measure(
    which: str,
    guardians: int,
    steps: int,
    folder: Path,
    *,
    paced: bool = False,
    local_pacing: bool = False,
) -> Load:
    """One load against one bot on a fresh fake."""
    fake = MeasuringFake()
    if paced:
        fake.enforce_limits(RateLimits())
    await fake.start()
    if which == "echo":
        stop = await echo_bot(fake)
    else:
        stop = await guardianes_bot(fake, folder, paced=paced, local_pacing=local_pacing)
    try:
        counts = await calibrate(fake, steps, QUIET_SECONDS_PACED if paced else QUIET_SECONDS)
        return await load(fake, guardians, counts, FIRST_USER)
    finally:
        await stop()
        await fake.stop()


def report(
    label: str, ours: Load, echo: Load | None, *, p95_target: str, paced: bool = False
) -> None:
    """Print one load's figures beside the baseline's (the echo bot, or the cap when paced)."""
    if paced:
        baseline, base = TELEGRAM_CAP, f"Telegram cap {TELEGRAM_CAP:.0f}/s"
    else:
        baseline, base = (echo.rate, "aiogram echo bot") if echo else (None, "")
    figure(
        f"{label}: updates/s",
        ours.rate,
        "updates/s",
        baseline=baseline,
        baseline_name=base,
        target="≥ 0.9× echo" if echo else "",
    )
    for name, fraction in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        figure(
            f"{label}: first reply {name}",
            1000 * percentile(ours.latencies, fraction),
            "ms",
            baseline=1000 * percentile(echo.latencies, fraction) if echo else None,
            baseline_name="aiogram echo bot" if echo else "",
            target=p95_target if name == "p95" else "",
        )
    figure(f"{label}: updates without a reply", ours.lost, "", target="0")


async def run(
    guardians: list[int], steps: int, paced_guardians: int, with_echo: bool, what_if: bool
) -> None:
    """Every load, each against the echo bot and the bot, on fresh fakes and databases."""
    for count in guardians:
        target = "< 100 ms" if count <= 50 else "< 250 ms"
        echo = None
        if with_echo:
            with tempfile.TemporaryDirectory() as folder:
                echo = await measure("echo", count, steps, Path(folder))
        with tempfile.TemporaryDirectory() as folder:
            ours = await measure("guardianes", count, steps, Path(folder))
        report(f"{count} guardians, unpaced, SQLite", ours, echo, p95_target=target)
        if what_if:
            with tempfile.TemporaryDirectory() as folder:
                local = await measure("guardianes", count, steps, Path(folder), local_pacing=True)
            label = f"{count} guardians, unpaced, in-process pacing (what-if)"
            report(label, local, echo, p95_target="")
    if paced_guardians:
        with tempfile.TemporaryDirectory() as folder:
            paced = await measure("guardianes", paced_guardians, steps, Path(folder), paced=True)
        label = f"{paced_guardians} guardians, paced, SQLite"
        report(label, paced, None, p95_target="", paced=True)


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--guardians", type=int, nargs="+", default=[50, 200])
    parser.add_argument("--steps", type=int, default=6, help=f"script steps (≤ {len(SCRIPT)})")
    parser.add_argument("--paced-guardians", type=int, default=50, help="0: skip the paced load")
    parser.add_argument("--no-echo", action="store_true", help="skip the baseline (profiling)")
    parser.add_argument(
        "--what-if-local-pacing",
        action="store_true",
        help="also run each load with OUTBOX_SHARED_PACING off (pacing in memory, no database)",
    )
    args = parser.parse_args()
    steps = min(args.steps, len(SCRIPT))
    asyncio.run(
        run(
            args.guardians, steps, args.paced_guardians, not args.no_echo, args.what_if_local_pacing
        )
    )


if __name__ == "__main__":
    main()

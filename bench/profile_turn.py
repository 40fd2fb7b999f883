"""Where a turn's time goes: pyinstrument profiles written to bench/profiles/.

Two profiles, each as an interactive HTML flame graph and as text:
- `park_card`: guardians complete the park card through `handle_inbound` (engine +
  storage, no network), as bench/engine_answers.py measures it;
- `telegram`: guardians talk to the bot through the fake Bot API (polling, outbox,
  pacing), as bench/telegram_e2e.py measures it.
Also printed for `telegram`: the wall time spent in each stage of a reply.

Usage: python -m bench.profile_turn [--guardians 10] [--only park_card|telegram]
(needs the `bench` extra: pip install -e '.[bench]').
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from pyinstrument import Profiler

from bench import engine_answers, telegram_e2e
from bench._common import REPO_ROOT
from guardianes.bot.telegram import channel as telegram_channel
from guardianes.config import Settings
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.scheduler import outbox, pacing
from guardianes.services import inbound

PROFILES = REPO_ROOT / "bench" / "profiles"
INTERVAL = 0.01


class Stages:
    """Wall time spent in chosen coroutines (wrapped in place while profiling)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: Counter[str] = Counter()
        self._undo: list[Callable[[], None]] = []

    def wrap(self, owner: Any, name: str, label: str) -> None:
        """Time every await of `owner.name`."""
        original = getattr(owner, name)

        @functools.wraps(original)
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return await original(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started
                self.calls[label] += 1

        setattr(owner, name, timed)
        self._undo.append(lambda: setattr(owner, name, original))

    def restore(self) -> None:
        """Put the originals back."""
        for undo in reversed(self._undo):
            undo()

    def text(self) -> str:
        """One line per stage, the slowest first."""
        lines = ["stage                          calls   total s   mean ms"]
        for label in sorted(self.seconds, key=self.seconds.__getitem__, reverse=True):
            total, calls = self.seconds[label], self.calls[label]
            lines.append(f"{label:<30} {calls:>5} {total:>9.2f} {1000 * total / calls:>9.1f}")
        return "\n".join(lines)


async def _park_card(guardians: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{folder}/bench.db",
            media_dir=Path(folder) / "media",
            scheduler_enabled=False,
            rate_limit_person="100000/second",
        )
        runtime = await build_runtime(settings)
        await load_demo_data_once(runtime)
        drivers = [engine_answers.TimedDriver(runtime, user_id=f"g{n}") for n in range(guardians)]
        for n, driver in enumerate(drivers):
            await engine_answers.register(driver, n)
        await _profiled(
            "park_card",
            lambda: _all(
                engine_answers.park_card(d, settings.media_dir, n) for n, d in enumerate(drivers)
            ),
        )
        await runtime.close()


async def _all(coroutines: Any) -> None:
    for coroutine in coroutines:
        await coroutine


async def _telegram(guardians: int) -> None:
    stages = Stages()
    stages.wrap(inbound, "store_inbound", "store the update")
    stages.wrap(inbound, "_process_next", "process one turn")
    stages.wrap(outbox.OutboxSender, "_claim", "claim outbox rows")
    stages.wrap(pacing.SharedPacer, "acquire", "pacing slot (database)")
    stages.wrap(telegram_channel.TelegramChannel, "send", "sendMessage (HTTP)")
    stages.wrap(outbox._SentRecorder, "record", "record SENT")
    try:
        with tempfile.TemporaryDirectory() as folder:
            await _profiled(
                "telegram",
                lambda: telegram_e2e.measure("guardianes", guardians, 3, Path(folder)),
            )
    finally:
        stages.restore()
    (PROFILES / "telegram_stages.txt").write_text(stages.text() + "\n", encoding="utf-8")
    print(stages.text())


async def _profiled(name: str, work: Callable[[], Awaitable[Any]]) -> None:
    profiler = Profiler(interval=INTERVAL, async_mode="enabled")
    profiler.start()
    try:
        await work()
    finally:
        profiler.stop()
    PROFILES.mkdir(exist_ok=True)
    (PROFILES / f"{name}.html").write_text(profiler.output_html(), encoding="utf-8")
    text = profiler.output_text(color=False, unicode=True)
    (PROFILES / f"{name}.txt").write_text(text, encoding="utf-8")
    print(f"written {PROFILES / name}.html and .txt")


def main() -> None:
    """Parse arguments and profile."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--guardians", type=int, default=10)
    parser.add_argument("--only", choices=("park_card", "telegram"), default=None)
    args = parser.parse_args()
    if args.only in (None, "park_card"):
        asyncio.run(_park_card(args.guardians))
    if args.only in (None, "telegram"):
        asyncio.run(_telegram(args.guardians * 3))


if __name__ == "__main__":
    main()

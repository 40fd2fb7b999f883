"""The orphan media sweep removes photo files nothing refers to, after a grace time."""

from __future__ import annotations

import os
import time

from guardianes.conversations.messages import Command
from guardianes.services.maintenance import sweep_orphan_media
from guardianes.services.runtime import Runtime
from tests.chat_driver import ChatDriver

from .conftest import store_photo, to_park_photos

DAY = 24 * 3600


def _age(runtime: Runtime, relative: str, seconds: float) -> None:
    path = runtime.settings.media_dir / relative
    past = time.time() - seconds
    os.utime(path, (past, past))


async def test_an_old_file_nothing_refers_to_is_removed(demo_runtime: Runtime) -> None:
    stored = await store_photo(demo_runtime)
    _age(demo_runtime, stored.path, 2 * DAY)

    removed = await sweep_orphan_media(demo_runtime)

    assert removed == 1
    assert not (demo_runtime.settings.media_dir / stored.path).exists()


async def test_a_young_orphan_is_kept_for_the_grace_time(demo_runtime: Runtime) -> None:
    stored = await store_photo(demo_runtime)

    assert await sweep_orphan_media(demo_runtime) == 0
    assert (demo_runtime.settings.media_dir / stored.path).exists()


async def test_a_photo_of_a_card_in_progress_is_kept(chat: ChatDriver) -> None:
    runtime = chat.runtime
    await to_park_photos(chat)
    stored = await store_photo(runtime)
    await chat.photos(stored)
    _age(runtime, stored.path, 2 * DAY)

    assert await sweep_orphan_media(runtime) == 0
    assert (runtime.settings.media_dir / stored.path).exists()


async def test_a_photo_of_a_finished_card_is_kept(chat: ChatDriver) -> None:
    runtime = chat.runtime
    await to_park_photos(chat)
    stored = await store_photo(runtime)
    await chat.photos(stored)
    await chat.press("Listo")
    await chat.press("4 - Bien")
    await chat.text("Todo en orden")
    await chat.command(Command.MENU)
    _age(runtime, stored.path, 2 * DAY)

    assert await sweep_orphan_media(runtime) == 0
    assert (runtime.settings.media_dir / stored.path).exists()


async def test_files_the_media_store_did_not_write_are_left_alone(demo_runtime: Runtime) -> None:
    other = demo_runtime.settings.media_dir / "reports" / "evidence.pdf"
    other.parent.mkdir(parents=True)
    other.write_bytes(b"%PDF-1.7")
    past = time.time() - 2 * DAY
    os.utime(other, (past, past))

    assert await sweep_orphan_media(demo_runtime) == 0
    assert other.exists()

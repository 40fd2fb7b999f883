"""The retention job runs in the background as soon as the scheduler starts."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select

from guardianes.scheduler.privacy import start_privacy_job
from guardianes.services.runtime import Runtime
from guardianes.storage.models import SubmissionMedia
from tests.chat_driver import ChatDriver
from tests.privacy_helpers import file_card

DEADLINE_SECONDS = 10.0


async def _deleted(runtime: Runtime) -> bool:
    async with runtime.sessions() as session:
        media = (await session.execute(select(SubmissionMedia))).scalar_one()
        return media.deleted_at is not None


async def test_the_job_deletes_photos_past_retention_without_being_asked(
    demo_runtime: Runtime,
) -> None:
    chat = ChatDriver(demo_runtime, user_id="job-browser-0000001")
    await chat.text("hola")
    await chat.press("Español")
    await chat.press("Sí, acepto")
    await chat.text("Ana")
    await chat.text("Centro")
    _, photo = await file_card(demo_runtime, "webchat", chat.user_id, age=timedelta(days=400))
    job = await start_privacy_job(demo_runtime)
    try:
        await asyncio.wait_for(job.pass_done.wait(), DEADLINE_SECONDS)
    finally:
        await job.stop()
    assert await _deleted(demo_runtime)
    assert not photo.exists()

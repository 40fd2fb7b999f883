"""Seeding cards with photos for the privacy tests of every channel."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from guardianes.conversations.context import SaveSubmission
from guardianes.conversations.messages import GeoPoint, InboundKind, InboundMessage
from guardianes.services.effects import apply_effects
from guardianes.services.media import store_media
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Submission
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.types import utcnow

JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PARK = GeoPoint(28.6355, -106.089)


async def file_card(
    runtime: Runtime,
    channel: str,
    user_id: str,
    photo: bytes = JPEG,
    *,
    age: timedelta = timedelta(0),
) -> tuple[int, Path]:
    """A parks card with one photo and a free-text comment, filed by that identity's guardian."""
    stored = await store_media(runtime.settings.media_dir, photo, max_bytes=1_000_000)
    completed = utcnow() - age
    effect = SaveSubmission(
        form_id="tarjeta_parques",
        form_version="2026.11.1",
        answers={
            "ubicacion": "28.6355 -106.089",
            "poda": "si",
            "arboles_cuantos": 2,
            "fotos": [stored.path],
            "comentario": "Mi vecino Juan Pérez, de la casa 12, tira basura",
        },
        location=PARK,
        space_id=None,
        photos=(stored,),
        started_at=completed,
        completed_at=completed,
    )
    inbound = InboundMessage(
        channel=channel, user_id=user_id, external_id="seed", kind=InboundKind.TEXT
    )
    async with unit_of_work(runtime.sessions) as session:
        guardian = await guardians_repo.find_guardian(session, channel, user_id)
        await apply_effects(
            session,
            inbound=inbound,
            guardian=guardian,
            effects=[effect],
            forms=runtime.forms,
            staff_actions=None,
        )
    async with runtime.sessions() as session:
        submission_id = (await session.execute(select(func.max(Submission.id)))).scalar_one()
    return int(submission_id), runtime.settings.media_dir / stored.path

"""How long «mis datos» (the export) and «borrar mis datos» (the erasure) take for a busy guardian.

One guardian with CARDS surveillance cards of two photos each; the export writes the JSON file
and queues the photos, the erasure anonymizes the cards and deletes everything else in one
transaction, then the photo files.
Usage: python -m bench.privacy_erasure [CARDS] [DATABASE_URL]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

from bench._common import figure, peak_rss_mib
from guardianes.config import Settings
from guardianes.conversations.context import ErasureKind, SaveSubmission
from guardianes.conversations.messages import GeoPoint, InboundKind, InboundMessage, Prompt
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.services.effects import apply_effects
from guardianes.services.inbound import handle_inbound
from guardianes.services.media import store_media
from guardianes.services.privacy import (
    PrivacyRequestSource,
    closed_questions_from,
    erase_person,
    export_personal_data,
)
from guardianes.services.runtime import Runtime
from guardianes.storage.db import create_engine, unit_of_work, upgrade_database
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.storage.repositories import outbox as outbox_repo
from guardianes.storage.types import utcnow

USER = "bench-guardian-0001"
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 2048


def _message(text: str, number: int) -> InboundMessage:
    return InboundMessage(
        channel="webchat",
        user_id=USER,
        external_id=f"{USER}-{number}",
        kind=InboundKind.TEXT,
        text=text,
    )


async def _register(runtime: Runtime) -> None:
    await handle_inbound(runtime, _message("hola", 1))
    for number, index in ((2, 0), (3, 0)):
        async with runtime.sessions() as session:
            rows = await outbox_repo.pending_for_address(session, "webchat", USER)
        payload = Prompt.from_json(rows[-1].payload).choices[index].payload
        choice = InboundMessage(
            channel="webchat",
            user_id=USER,
            external_id=f"{USER}-{number}",
            kind=InboundKind.CHOICE,
            payload=payload,
        )
        await handle_inbound(runtime, choice)
    await handle_inbound(runtime, _message("Guardián de prueba", 4))
    await handle_inbound(runtime, _message("Centro", 5))


async def _cards(runtime: Runtime, count: int) -> None:
    inbound = _message("seed", 0)
    async with unit_of_work(runtime.sessions) as session:
        guardian = await guardians_repo.find_guardian(session, "webchat", USER)
        for number in range(count):
            photos = tuple(
                [
                    await store_media(
                        runtime.settings.media_dir,
                        JPEG + f"{number}-{side}".encode(),
                        max_bytes=10**6,
                    )
                    for side in ("a", "b")
                ]
            )
            effect = SaveSubmission(
                form_id="tarjeta_parques",
                form_version="2026.11.1",
                answers={
                    "poda": "si",
                    "comentario": "texto libre",
                    "fotos": [p.path for p in photos],
                },
                location=GeoPoint(28.6355, -106.089),
                space_id=None,
                photos=photos,
                started_at=utcnow(),
                completed_at=utcnow(),
            )
            await apply_effects(
                session,
                inbound=inbound,
                guardian=guardian,
                effects=[effect],
                forms=runtime.forms,
                staff_actions=None,
            )


async def run(cards: int, url: str, media: Path) -> None:
    """Seed, export, erase; print the figures."""
    settings = Settings(_env_file=None, database_url=url, media_dir=media)  # type: ignore[call-arg]
    if not settings.is_sqlite:
        engine = create_engine(url)
        await upgrade_database(engine)
        await engine.dispose()
    runtime = await build_runtime(settings)
    await load_demo_data_once(runtime)
    await _register(runtime)
    await _cards(runtime, cards)
    inbound = _message("mis datos", 6)
    started = time.perf_counter()
    async with unit_of_work(runtime.sessions) as session:
        guardian = await guardians_repo.find_guardian(session, "webchat", USER)
        assert guardian is not None
        data = await export_personal_data(
            session,
            media_dir=media,
            guardian=guardian,
            inbound=inbound,
            notice_version=settings.privacy_notice_version,
        )
    export_seconds = time.perf_counter() - started
    started = time.perf_counter()
    async with unit_of_work(runtime.sessions) as session:
        guardian = await guardians_repo.find_guardian(session, "webchat", USER)
        report = await erase_person(
            session,
            media_dir=media,
            closed_questions=closed_questions_from(runtime.catalog),
            channel="webchat",
            user_id=USER,
            addresses=(USER,),
            guardian=guardian,
            kind=ErasureKind.CANCELLATION,
            source=PrivacyRequestSource.CHAT,
        )
    erase_seconds = time.perf_counter() - started
    figure(f"{runtime.engine.dialect.name}: cards of the guardian", cards, "")
    figure("photos exported", len(data.photos), "")
    figure("export (JSON file + outbox rows)", 1000 * export_seconds, "ms")
    figure("photos deleted by the erasure", report.counts["photos_deleted"], "")
    figure("erasure (one transaction + files)", 1000 * erase_seconds, "ms")
    figure("peak memory", peak_rss_mib(), "MiB")
    await runtime.close()


def main() -> None:
    """Entry point."""
    cards = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as folder:
        url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite+aiosqlite:///{folder}/bench.db"
        asyncio.run(run(cards, url, Path(folder) / "media"))


if __name__ == "__main__":
    main()

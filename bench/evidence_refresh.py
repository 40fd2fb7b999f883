"""Time discrepancy computation on the real Chihuahua parks, and the reused-photo scan.

Usage: python -m bench.evidence_refresh [CARDS] [PHOTOS]

Cards are inserted directly (as the pipeline would store them) for random parks of the
real layers, half of them reporting the grass unmowed; each is then refreshed as the
pipeline does after storing it, then everything is recomputed at once.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench._common import CHIHUAHUA_DATA, figure, peak_rss_mib
from guardianes.config import Settings
from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.obligations import obligation_rules
from guardianes.importers.service import import_contracts, import_layers_csv
from guardianes.services import evidence
from guardianes.storage.db import (
    create_engine,
    create_session_factory,
    unit_of_work,
    upgrade_database,
)
from guardianes.storage.models import (
    CardDefinition,
    Guardian,
    PublicSpace,
    Submission,
    SubmissionMedia,
)
from guardianes.storage.repositories.imports import all_spaces

GUARDIANS = 300


async def run(cards: int, photos: int) -> None:
    """Insert cards and photos, then time refreshes and the photo scan."""
    folder = Path(tempfile.mkdtemp())
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        media_dir=folder / "media",
    )
    engine = create_engine(settings.database_url)
    await upgrade_database(engine)
    sessions = create_session_factory(engine)
    parks_form = FormCatalog.load().forms["tarjeta_parques"]
    rng = random.Random(9)
    now = datetime.now(UTC)
    async with unit_of_work(sessions) as session:
        await import_layers_csv(session, CHIHUAHUA_DATA / "layers.csv")
        await import_contracts(session, CHIHUAHUA_DATA / "contratos_municipio_2018_2020.csv")
        spaces: list[PublicSpace] = [s for s in await all_spaces(session) if s.kind != "route_area"]
        definition = CardDefinition(
            form_id=parks_form.form_id,
            version=parks_form.version,
            kind="card",
            title=parks_form.title,
            service_code="green_space_maintenance",
            questions=[rule.to_json() for rule in obligation_rules(parks_form)],
        )
        session.add(definition)
        guardians = [
            Guardian(
                channel="webchat",
                channel_user_id=f"g{i}",
                address=f"g{i}",
                display_name=f"G{i}",
                consent_at=now,
                privacy_notice_version="1",
            )
            for i in range(GUARDIANS)
        ]
        session.add_all(guardians)
        await session.flush()
        stored: list[Submission] = []
        for i in range(cards):
            moment = now - timedelta(days=rng.uniform(0, 60))
            submission = Submission(
                guardian_id=rng.choice(guardians).id,
                card_definition_id=definition.id,
                channel="webchat",
                answers={"poda": rng.choice(["si", "no"]), "riego": "bien", "basura": "nada"},
                public_space_id=rng.choice(spaces).id,
                started_at=moment,
                completed_at=moment,
                media=[
                    SubmissionMedia(
                        question="fotos",
                        position=0,
                        path=f"x/{i}.jpg",
                        sha256=f"{i:064x}",
                        mime_type="image/jpeg",
                        size=1,
                        perceptual_hash=f"{rng.getrandbits(64):016x}",
                    )
                ]
                if i < photos
                else [],
            )
            session.add(submission)
            stored.append(submission)
        await session.flush()
        ids = [s.id for s in stored]
    started = time.perf_counter()
    for submission_id in ids:
        async with unit_of_work(sessions) as session:
            await evidence.refresh_for_submission(session, submission_id, settings=settings)
    per_card = (time.perf_counter() - started) / len(ids)
    figure(
        f"refresh after each card ({cards} cards, {min(photos, cards)} photos)",
        per_card * 1000,
        "ms/card",
    )
    for label in ("refresh all (first)", "refresh all (again, no change)"):
        started = time.perf_counter()
        async with unit_of_work(sessions) as session:
            report = await evidence.refresh_all(session, settings=settings)
        figure(label, time.perf_counter() - started, "s")
    figure("discrepancies", len(report.discrepancy_ids), "")
    figure("peak memory", peak_rss_mib(), "MiB")
    await engine.dispose()


def main() -> None:
    """Entry point."""
    cards = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    photos = int(sys.argv[2]) if len(sys.argv) > 2 else cards
    asyncio.run(run(cards, photos))


if __name__ == "__main__":
    main()

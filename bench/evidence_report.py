"""Render evidence reports on the real Chihuahua parks: one discrepancy and a batch of all the
parks of contract O.M.-38/2020-D, each with three cards and a photo; time and size.

Usage: python -m bench.evidence_report
"""

from __future__ import annotations

import asyncio
import io
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

from PIL import Image
from sqlalchemy import select

from bench._common import CHIHUAHUA_DATA, figure, peak_rss_mib
from guardianes.domain.timezone import zone
from guardianes.importers.service import import_contracts, import_layers_csv
from guardianes.services.media import store_media
from guardianes.services.reports.evidence_pdf import evidence_report_pdf
from guardianes.services.reports.evidence_report import build_evidence_report, evidence_report_html
from guardianes.storage.db import (
    create_engine,
    create_session_factory,
    unit_of_work,
    upgrade_database,
)
from guardianes.storage.models import (
    CardDefinition,
    Guardian,
    Layer,
    PublicSpace,
    Submission,
    SubmissionMedia,
)
from guardianes.storage.models_evidence import Discrepancy, DiscrepancyEvidence

ZONE = zone("America/Chihuahua")
OBSERVED = datetime(2026, 11, 10, 16, tzinfo=UTC)


def _photo(seed: int) -> bytes:
    image = Image.new("RGB", (1024, 768), (40 + seed % 200, 120, 60))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=80)
    return buffer.getvalue()


async def run() -> None:
    """Seed discrepancies on every park of the contract, then render and time the reports."""
    folder = Path(tempfile.mkdtemp(prefix="bench-report-"))
    engine = create_engine(f"sqlite+aiosqlite:///{folder / 'bench.db'}")
    await upgrade_database(engine)
    sessions = create_session_factory(engine)
    media = folder / "media"
    async with unit_of_work(sessions) as session:
        await import_layers_csv(session, CHIHUAHUA_DATA / "layers.csv")
        await import_contracts(session, CHIHUAHUA_DATA / "contratos_municipio_2018_2020.csv")
        parks = list(
            (
                await session.scalars(
                    select(PublicSpace)
                    .join(Layer, Layer.id == PublicSpace.layer_id)
                    .where(Layer.contract_number == "O.M.-38/2020-D")
                )
            ).all()
        )
        guardian = Guardian(
            channel="webchat",
            channel_user_id="bench",
            address="bench",
            display_name="bench",
            consent_at=OBSERVED,
            privacy_notice_version="bench",
        )
        card = CardDefinition(form_id="tarjeta_parques", version="1", title="Parques")
        session.add_all([guardian, card])
        await session.flush()
        ids = []
        for n, park in enumerate(parks):
            discrepancy = Discrepancy(
                public_space_id=park.id,
                service_code="green_space_maintenance",
                obligation="mowing",
                period_start=date(2026, 11, 1),
                period_end=date(2026, 11, 30),
                kind="reported_done",
                reported_status="done",
                contract_number="O.M.-38/2020-D",
                responsible_name="Constructora Pewis, S.A. de C.V.",
                guardian_count=3,
                evidence_count=3,
                strength="strong",
                first_observed_at=OBSERVED,
                last_observed_at=OBSERVED,
            )
            session.add(discrepancy)
            await session.flush()
            ids.append(discrepancy.id)
            for k in range(3):
                submission = Submission(
                    guardian_id=guardian.id,
                    card_definition_id=card.id,
                    channel="webchat",
                    answers={"poda": "no"},
                    latitude=park.centroid_lat,
                    longitude=park.centroid_lon,
                    public_space_id=park.id,
                    started_at=OBSERVED,
                    completed_at=OBSERVED,
                )
                session.add(submission)
                await session.flush()
                stored = await store_media(media, _photo(n * 3 + k), max_bytes=5_000_000)
                session.add(
                    SubmissionMedia(
                        submission_id=submission.id,
                        question="foto",
                        position=0,
                        path=stored.path,
                        sha256=stored.sha256,
                        mime_type=stored.mime_type,
                        size=stored.size,
                    )
                )
                session.add(
                    DiscrepancyEvidence(
                        discrepancy_id=discrepancy.id,
                        submission_id=submission.id,
                        guardian_id=guardian.id,
                        question="poda",
                        answer="no",
                        observed_at=OBSERVED,
                    )
                )
    for label, wanted in (("one discrepancy", ids[:1]), (f"batch of {len(ids)} parks", ids)):
        started = time.perf_counter()
        async with unit_of_work(sessions) as session:
            report = await build_evidence_report(
                session, wanted, media_dir=media, timezone=ZONE, now=OBSERVED
            )
        gathered = time.perf_counter() - started
        started = time.perf_counter()
        pdf = evidence_report_pdf(report)
        rendered_pdf = time.perf_counter() - started
        started = time.perf_counter()
        html = evidence_report_html(report)
        rendered_html = time.perf_counter() - started
        figure(f"{label}: gather from database", gathered * 1000, "ms")
        figure(f"{label}: render PDF", rendered_pdf * 1000, "ms")
        figure(f"{label}: PDF size", len(pdf) / 1024, "KiB")
        figure(f"{label}: render HTML (photos inlined)", rendered_html * 1000, "ms")
        figure(f"{label}: HTML size", len(html) / 1024, "KiB")
    figure("peak memory", peak_rss_mib(), "MiB")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(run())

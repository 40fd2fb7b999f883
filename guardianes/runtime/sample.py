"""The demo data shipped in `sample_data/`, loaded on first start by `make run`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.config import Settings
from guardianes.importers import service
from guardianes.importers.complaint_channels import (
    import_complaint_channels,
    parse_complaint_channels,
)
from guardianes.services.evidence_imports import import_directorates, import_status

SAMPLE_DIR = Path(__file__).resolve().parents[2] / "sample_data"


async def load_sample_data(
    session: AsyncSession, sample_dir: Path = SAMPLE_DIR, *, settings: Settings | None = None
) -> None:
    """Import the sample colonias, contracts, layers, complaints, complaint channels,
    directorates and service status (idempotent; no commit)."""
    await service.import_colonias(session, sample_dir / "colonias_muestra.kml")
    await service.import_contracts(session, sample_dir / "contratos_muestra.csv")
    await service.import_layers_csv(session, sample_dir / "layers.csv", derive_colonias=False)
    await service.import_complaints(session, sample_dir / "quejas_muestra.csv")
    await import_complaint_channels(
        session, parse_complaint_channels(sample_dir / "canales_queja_muestra.csv")
    )
    await import_directorates(session, sample_dir / "direcciones_chihuahua.csv")
    await import_status(
        session, sample_dir / "estado_servicios_muestra.csv", settings=settings or Settings()
    )

"""Fixtures of the reports tests: the API app with its seeded world, a directorate, a
discrepancy with evidence, and a local SMTP server that records what it receives."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP, Envelope, Session
from pypdf import PdfReader
from sqlalchemy import select

from guardianes.config import Settings
from guardianes.domain.enums import DiscrepancyKind, DiscrepancyStatus, EvidenceStrength
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Contract, Directorate, PublicSpace
from guardianes.storage.models_evidence import Discrepancy, DiscrepancyEvidence
from tests.api.conftest import (  # noqa: F401  (fixtures reused by these tests)
    World,
    _forms_parsed_once,
    api_app,
    api_runtime,
    as_viewer,
    client,
    sample_sqlite,
    shipped_forms,
    tokens,
    world,
)
from tests.evidence.conftest import city  # noqa: F401  (the real Chihuahua data)

PARKS_EMAIL = "parques@municipio.test"
HEAD_EMAIL = "titular.parques@municipio.test"
SENDER = "contraloria@municipio.test"


class Inbox:
    """An aiosmtpd handler keeping every message it accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.arrived = asyncio.Event()
        self.port = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.envelopes.append(envelope)
        self.arrived.set()
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        """The received messages, parsed."""
        out = []
        for envelope in self.envelopes:
            raw = envelope.content if isinstance(envelope.content, bytes) else b""
            parsed = message_from_bytes(raw, policy=policy.default)
            assert isinstance(parsed, EmailMessage)
            out.append(parsed)
        return out


@pytest.fixture
async def smtp_server() -> AsyncIterator[Inbox]:
    """A real SMTP server (aiosmtpd) on 127.0.0.1 and a random port, in the test's loop."""
    inbox = Inbox()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(inbox, hostname="smtp.test"), host="127.0.0.1", port=0
    )
    inbox.port = server.sockets[0].getsockname()[1]
    yield inbox
    server.close()
    await server.wait_closed()


@pytest.fixture
def api_settings(settings: Settings, sample_sqlite: Path, tmp_path: Path) -> Settings:  # noqa: F811
    """The API settings on a copy of the sample database, with e-mail on (port set by tests)."""
    database = tmp_path / "api.db"
    shutil.copyfile(sample_sqlite, database)
    return settings.model_copy(
        update={
            "database_url": f"sqlite+aiosqlite:///{database}",
            "smtp_host": "127.0.0.1",
            "smtp_port": 9,
            "smtp_tls": "none",
            "smtp_sender": SENDER,
        }
    )


def pdf_text(data: bytes) -> str:
    """Every page's text of a PDF."""
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(data)).pages)


@dataclass
class Seeded:
    """A directorate in charge of parks and a discrepancy backed by the world's May card."""

    directorate: int
    discrepancy: int
    space: int
    contract_number: str
    company: str
    extra: dict[str, Any] = field(default_factory=dict)


async def seed_discrepancy(
    runtime: Runtime,
    ids: World,
    *,
    head_email: str | None = HEAD_EMAIL,
    notification_email: str | None = PARKS_EMAIL,
    due_at: datetime | None = None,
    status: str = DiscrepancyStatus.OPEN,
    obligation: str = "mowing",
) -> Seeded:
    """Write the directorate and one reported-done discrepancy on the world's space."""
    async with unit_of_work(runtime.sessions) as session:
        directorate = (
            await session.scalars(
                select(Directorate).where(Directorate.name == "Dirección de Parques")
            )
        ).one_or_none()
        if directorate is None:
            directorate = Directorate(
                name="Dirección de Parques",
                service_code="green_space_maintenance",
                notification_email=notification_email,
                head_name="Titular",
                head_email=head_email,
            )
            session.add(directorate)
            await session.flush()
        contract = await session.get(Contract, ids.contract)
        assert contract is not None
        space = await session.get(PublicSpace, ids.space)
        assert space is not None
        observed = datetime(2024, 5, 10, 15, tzinfo=UTC)
        discrepancy = Discrepancy(
            public_space_id=ids.space,
            service_code="green_space_maintenance",
            obligation=obligation,
            period_start=date(2024, 5, 1),
            period_end=date(2024, 5, 31),
            kind=DiscrepancyKind.REPORTED_DONE,
            status=status,
            reported_status="done",
            contract_id=contract.id,
            company_id=contract.company_id,
            contract_number=contract.contract_number,
            responsible_name="Jardines Demo del Centro, S.A. de C.V.",
            responsible_type="contractor",
            directorate_id=directorate.id,
            colonia_id=ids.centro,
            guardian_count=1,
            evidence_count=1,
            strength=EvidenceStrength.WEAK,
            first_observed_at=observed,
            last_observed_at=observed,
            due_at=due_at or observed + timedelta(days=15),
        )
        session.add(discrepancy)
        await session.flush()
        session.add(
            DiscrepancyEvidence(
                discrepancy_id=discrepancy.id,
                submission_id=ids.may_submission,
                guardian_id=ids.ana,
                question="poda",
                answer="no",
                observed_at=observed,
            )
        )
        return Seeded(
            directorate=directorate.id,
            discrepancy=discrepancy.id,
            space=space.id,
            contract_number=contract.contract_number or "",
            company="Jardines Demo del Centro",
        )

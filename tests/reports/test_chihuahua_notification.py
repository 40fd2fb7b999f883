"""Issue 9, point 12 (the e-mail half), on the real Chihuahua data: the reported-done
discrepancy against Constructora Pewis is e-mailed to the directorate with its PDF."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from guardianes.domain.enums import DiscrepancyStatus
from guardianes.services.reports import mail
from guardianes.services.reports.mail import EmailDispatcher
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Directorate
from guardianes.storage.models_evidence import Discrepancy
from tests.evidence.conftest import (
    PEWIS_CONTRACT,
    ChihuahuaCity,
)
from tests.evidence.test_discrepancies_chihuahua import contradict_mowing
from tests.reports.conftest import SENDER, Inbox, pdf_text

DIRECTORATE_EMAIL = "mantenimiento.urbano@municipiochihuahua.test"


async def test_the_pewis_discrepancy_is_emailed_to_the_directorate_with_its_pdf(
    city: ChihuahuaCity, tmp_path: Path, smtp_server: Inbox
) -> None:
    async with unit_of_work(city.runtime.sessions) as session:
        session.add(
            Directorate(
                name="Dirección de Mantenimiento Urbano",
                service_code="green_space_maintenance",
                notification_email=DIRECTORATE_EMAIL,
            )
        )
    park = city.spaces_of(PEWIS_CONTRACT)[0]
    await contradict_mowing(city, park, tmp_path)
    async with unit_of_work(city.runtime.sessions) as session:
        (found,) = (await session.scalars(select(Discrepancy))).all()
        emails = await mail.queue_notification(session, [found.id], requested_by="test")

    settings = city.runtime.settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_server.port,
            "smtp_tls": "none",
            "smtp_sender": SENDER,
        }
    )
    report = await EmailDispatcher(city.runtime.sessions, settings).run_once()

    assert report.sent == [emails[0].id]
    [message] = smtp_server.messages()
    assert message["To"] == DIRECTORATE_EMAIL
    [attachment] = list(message.iter_attachments())
    text = pdf_text(attachment.get_content())
    assert "Constructora Pewis" in text
    assert PEWIS_CONTRACT in text
    assert park.name.split()[0] in text
    assert "Guardianes distintos" in text and "3" in text
    assert "Sólida (3 o más guardianes)" in text
    for guardian in ("ana", "beto", "carla"):
        assert guardian not in text.casefold().split()
    async with unit_of_work(city.runtime.sessions) as session:
        notified = await session.get(Discrepancy, found.id)
        assert notified is not None and notified.status == DiscrepancyStatus.NOTIFIED
        assert (
            await session.scalars(
                select(Directorate.name).where(Directorate.id == notified.directorate_id)
            )
        ).one() == "Dirección de Mantenimiento Urbano"

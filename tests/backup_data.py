"""A database worth backing up: rows in every table, made through the services, and photos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from guardianes.domain.enums import OccurrenceStatus, StaffTokenRole
from guardianes.domain.timezone import zone
from guardianes.runtime.bootstrap import load_demo_data_once
from guardianes.services import staff_tokens
from guardianes.services.media import store_media
from guardianes.services.reminders import ReminderSpec, create_reminder
from guardianes.services.runtime import Runtime
from guardianes.services.visits import create_visit
from guardianes.storage.base import Base
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Directorate, Guardian, QuizAttempt
from guardianes.storage.repositories import reminders as reminders_repo
from guardianes.storage.repositories.whatsapp_identities import resolve_user_id
from guardianes.storage.types import utcnow
from tests.chat_driver import ChatDriver
from tests.services.conftest import to_park_photos
from tests.web.conftest import make_png

# The tables this helper fills; a table another feature adds is compared too, when filled.
FILLED_TABLES = {
    "alembic_version",
    "broadcast_deliveries",
    "broadcasts",
    "card_definitions",
    "colonias",
    "companies",
    "complaint_counts",
    "contracts",
    "conversation_states",
    "directorates",
    "guardians",
    "inbound_events",
    "layers",
    "outbox_messages",
    "public_spaces",
    "quiz_attempts",
    "reminder_occurrences",
    "reminders",
    "service_types",
    "staff_tokens",
    "submission_media",
    "submissions",
    "visits",
    "whatsapp_identities",
}


async def fill_park_card(chat: ChatDriver, runtime: Runtime, photos: int = 2) -> None:
    """Register on the web chat and send the park card of the sample park with photos."""
    await to_park_photos(chat)
    for number in range(photos):
        stored = await store_media(
            runtime.settings.media_dir, make_png(rgb=(number, 90, 30)), max_bytes=10**6
        )
        await chat.photos(stored)
    await chat.press("Listo")
    await chat.press("4 - Bien")
    await chat.text("Todo en orden")


async def populate(runtime: Runtime) -> None:
    """Sample data, a guardian's card with photos, a visit, a reminder, tokens and more."""
    await load_demo_data_once(runtime)
    await fill_park_card(ChatDriver(runtime, user_id="guardian-backup"), runtime)
    local = zone(runtime.settings.timezone)
    now = utcnow()
    async with unit_of_work(runtime.sessions) as session:
        guardian = (await session.execute(select(Guardian))).scalars().first()
        assert guardian is not None and guardian.colonia_id is not None
        await create_visit(
            session,
            colonia_id=guardian.colonia_id,
            place="Parque Central",
            starts_at=(now + timedelta(days=3)).replace(tzinfo=None),
            description="Recorrido con la Sindicatura",
            created_by="backup test",
            timezone=local,
        )
        reminder = await create_reminder(
            session,
            ReminderSpec(name="Tarjeta semanal", cron={"day_of_week": "mon", "hour": 10}),
            timezone=local,
            now=now,
        )
        await reminders_repo.add_occurrences(
            session,
            reminder_id=reminder.id,
            guardian_ids=[guardian.id],
            scheduled_for=now - timedelta(days=1),
            status=OccurrenceStatus.SKIPPED,
            now=now,
        )
        await staff_tokens.create_token(session, name="backup test", role=StaffTokenRole.STAFF)
        await resolve_user_id(session, wa_id="5216141234567", bsuid="MX.1234567890")
        session.add(
            Directorate(
                name="Dirección de Prueba de Respaldos",
                service_code=None,
                notification_email="respaldos@example.org",
            )
        )
        session.add(
            QuizAttempt(
                guardian_id=guardian.id,
                form_id="cuestionario_capacitacion",
                form_version="1",
                phase="pre",
                answers={"p1": "a"},
                score=3,
                max_score=5,
                started_at=datetime(2026, 11, 1, 10, tzinfo=UTC),
                completed_at=datetime(2026, 11, 1, 10, 5, tzinfo=UTC),
            )
        )


async def every_row(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """All rows of every table of the schema, ordered by primary key."""
    rows: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            statement = select(table).order_by(*table.primary_key.columns)
            rows[table.name] = [tuple(r) for r in await conn.execute(statement)]
        versions = await conn.execute(text("SELECT version_num FROM alembic_version"))
        rows["alembic_version"] = [tuple(r) for r in versions]
    return rows

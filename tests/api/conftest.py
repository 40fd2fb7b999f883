"""Fixtures of the staff API tests: the started app, a token per role, a small seeded world."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from guardianes.app import create_app
from guardianes.config import Settings
from guardianes.conversations.catalog import FormCatalog
from guardianes.domain.enums import FormKind, GuardianRole, StaffTokenRole
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.services import staff_tokens
from guardianes.services.media import store_media
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import (
    CardDefinition,
    Colonia,
    Contract,
    Guardian,
    PublicSpace,
    QuizAttempt,
    Submission,
    SubmissionMedia,
)
from tests.web.conftest import make_png

BASE = "/api/v1"
MAX_PHOTO_BYTES = 1024 * 1024


@dataclass(frozen=True)
class Tokens:
    """Plain tokens of one app: one per role, and one already revoked."""

    admin: str
    staff: str
    viewer: str
    revoked: str
    admin_id: int
    revoked_id: int

    def of(self, role: str) -> str:
        """The token of a role name (`admin`, `staff`, `viewer`, `revoked`)."""
        value: str = getattr(self, role)
        return value


def bearer(token: str) -> dict[str, str]:
    """The Authorization header of a token."""
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def shipped_forms() -> FormCatalog:
    """The shipped forms, parsed once for the whole session."""
    return FormCatalog.load()


@pytest.fixture(autouse=True)
def _forms_parsed_once(monkeypatch: pytest.MonkeyPatch, shipped_forms: FormCatalog) -> None:
    """Parsing the XLSForms is most of an app start; the API tests never touch forms."""

    def load(
        cls: type[FormCatalog], extra_dir: Path | None = None, *, shipped_dir: Path | None = None
    ) -> FormCatalog:
        assert extra_dir is None and shipped_dir is None, "only the shipped forms are cached"
        return shipped_forms

    monkeypatch.setattr(FormCatalog, "load", classmethod(load))


async def _build_sample_database(settings: Settings) -> None:
    runtime = await build_runtime(settings)
    try:
        await load_demo_data_once(runtime)
    finally:
        await runtime.close()


@pytest.fixture(scope="session")
def sample_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file holding the sample data, built once and copied by each test."""
    folder = tmp_path_factory.mktemp("sample-db")
    database = folder / "sample.db"
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=f"sqlite+aiosqlite:///{database}",
        media_dir=folder / "media",
        forms_dir=None,
        scheduler_enabled=False,
    )
    asyncio.run(_build_sample_database(settings))
    return database


@pytest.fixture
def api_settings(settings: Settings, sample_sqlite: Path, tmp_path: Path) -> Settings:
    """Settings of the API app on a copy of the sample SQLite database (modules may override)."""
    database = tmp_path / "api.db"
    shutil.copyfile(sample_sqlite, database)
    return settings.model_copy(update={"database_url": f"sqlite+aiosqlite:///{database}"})


@pytest.fixture
def any_database_settings(
    settings: Settings, database_url: str, db_engine: AsyncEngine
) -> Settings:
    """Settings on the parametrized backend (SQLite and PostgreSQL), migrated and empty."""
    return settings.model_copy(update={"database_url": database_url})


@pytest.fixture
async def api_app(api_settings: Settings) -> AsyncIterator[FastAPI]:
    """The whole app with the sample data, its lifespan running."""
    app = create_app(api_settings, demo=True)
    async with app.router.lifespan_context(app):
        yield app


@pytest.fixture
def api_runtime(api_app: FastAPI) -> Runtime:
    """The runtime the app's lifespan built."""
    runtime: Runtime = api_app.state.runtime
    return runtime


@pytest.fixture
async def client(api_app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the app, without credentials."""
    transport = httpx.ASGITransport(app=api_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        yield http


@pytest.fixture
async def tokens(api_runtime: Runtime) -> Tokens:
    """A token of each role, and a revoked staff token."""
    async with unit_of_work(api_runtime.sessions) as session:
        admin, admin_plain = await staff_tokens.create_token(
            session, name="admin", role=StaffTokenRole.ADMIN
        )
        _, staff_plain = await staff_tokens.create_token(
            session, name="staff", role=StaffTokenRole.STAFF
        )
        _, viewer_plain = await staff_tokens.create_token(
            session, name="viewer", role=StaffTokenRole.VIEWER
        )
        revoked, revoked_plain = await staff_tokens.create_token(
            session, name="gone", role=StaffTokenRole.ADMIN
        )
        await staff_tokens.revoke_token(session, revoked.id)
        return Tokens(
            admin=admin_plain,
            staff=staff_plain,
            viewer=viewer_plain,
            revoked=revoked_plain,
            admin_id=admin.id,
            revoked_id=revoked.id,
        )


@pytest.fixture
async def as_viewer(client: httpx.AsyncClient, tokens: Tokens) -> httpx.AsyncClient:
    """The client with the viewer token."""
    client.headers.update(bearer(tokens.viewer))
    return client


# ---------------------------------------------------------------- a small seeded world


@dataclass(frozen=True)
class World:
    """Ids of the rows seeded on top of the sample data."""

    centro: int
    santa_rosa: int
    obrera: int
    ana: int  # webchat guardian of Centro
    beto: int  # telegram lead of Centro
    carla: int  # whatsapp guardian of Santa Rosa
    dora: int  # telegram guardian without colonia
    space: int
    contract: int
    may_submission: int  # parks card in Centro, with a photo
    june_submission: int  # lighting card in Santa Rosa
    photo: int
    photo_bytes: bytes


async def _colonia_id(session: AsyncSession, name: str) -> int:
    result = await session.execute(select(Colonia.id).where(Colonia.name == name))
    return int(result.scalar_one())


def _guardian(
    name: str, channel: str, colonia_id: int | None, role: GuardianRole = GuardianRole.GUARDIAN
) -> Guardian:
    return Guardian(
        channel=channel,
        channel_user_id=f"{channel}-{name}",
        address=f"{channel}-{name}",
        display_name=name,
        colonia_id=colonia_id,
        role=role,
        locale="es",
        consent_at=datetime(2024, 5, 1, tzinfo=UTC),
        privacy_notice_version="test",
    )


def _submission(
    guardian: Guardian, card: CardDefinition, colonia_id: int, completed_at: datetime
) -> Submission:
    return Submission(
        guardian_id=guardian.id,
        card_definition_id=card.id,
        channel=guardian.channel,
        answers={"estado": "bueno"},
        latitude=28.6355,
        longitude=-106.089,
        colonia_id=colonia_id,
        started_at=completed_at,
        completed_at=completed_at,
    )


@pytest.fixture
async def world(api_runtime: Runtime) -> World:
    """Four guardians, two cards, two submissions (one with a photo) and two quiz attempts."""
    photo_bytes = make_png()
    stored = await store_media(
        Path(api_runtime.settings.media_dir), photo_bytes, max_bytes=MAX_PHOTO_BYTES
    )
    async with unit_of_work(api_runtime.sessions) as session:
        centro = await _colonia_id(session, "Centro")
        santa_rosa = await _colonia_id(session, "Santa Rosa")
        obrera = await _colonia_id(session, "Obrera")
        space = (await session.execute(select(PublicSpace.id).limit(1))).scalar_one()
        contract = (await session.execute(select(Contract.id).limit(1))).scalar_one()
        ana = _guardian("Ana", "webchat", centro)
        beto = _guardian("Beto", "telegram", centro, GuardianRole.LEAD)
        carla = _guardian("Carla", "whatsapp", santa_rosa)
        dora = _guardian("Dora", "telegram", None)
        parks = CardDefinition(form_id="test_parks", version="1", kind=FormKind.CARD, title="P")
        lights = CardDefinition(form_id="test_lights", version="1", kind=FormKind.CARD, title="L")
        session.add_all([ana, beto, carla, dora, parks, lights])
        await session.flush()
        may = _submission(ana, parks, centro, datetime(2024, 5, 10, 15, tzinfo=UTC))
        may.public_space_id = space
        may.contract_id = contract
        june = _submission(carla, lights, santa_rosa, datetime(2024, 6, 20, 15, tzinfo=UTC))
        session.add_all([may, june])
        await session.flush()
        photo = SubmissionMedia(
            submission_id=may.id,
            question="foto",
            position=0,
            path=stored.path,
            sha256=stored.sha256,
            mime_type=stored.mime_type,
            size=stored.size,
        )
        session.add(photo)
        for phase, score in (("pre", 2), ("post", 4)):
            session.add(
                QuizAttempt(
                    guardian_id=ana.id,
                    form_id="test_quiz",
                    form_version="1",
                    phase=phase,
                    answers={},
                    score=score,
                    max_score=5,
                    started_at=datetime(2024, 5, 1, tzinfo=UTC),
                    completed_at=datetime(2024, 5, 1, tzinfo=UTC),
                )
            )
        await session.flush()
        return World(
            centro=centro,
            santa_rosa=santa_rosa,
            obrera=obrera,
            ana=ana.id,
            beto=beto.id,
            carla=carla.id,
            dora=dora.id,
            space=space,
            contract=contract,
            may_submission=may.id,
            june_submission=june.id,
            photo=photo.id,
            photo_bytes=photo_bytes,
        )

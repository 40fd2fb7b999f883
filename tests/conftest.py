"""Fixtures shared by every test: settings, migrated databases (SQLite and PostgreSQL), runtime."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from guardianes.config import Settings
from guardianes.conversations.xlsform import Form
from guardianes.services.runtime import Runtime
from guardianes.storage.base import Base
from guardianes.storage.db import create_engine, create_session_factory, upgrade_database

REPO_ROOT = Path(__file__).resolve().parents[1]
CHIHUAHUA_DATA = Path(
    os.environ.get("GUARDIANES_TEST_DATA", REPO_ROOT.parent / "shared" / "data" / "chihuahua")
)
POSTGRES_ADMIN_DSN = os.environ.get(
    "GUARDIANES_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# pytest-xdist's workers start with COLUMNS=80 and LINES=24 set, and the CLI's rich consoles
# (made at import) would keep that size for good, ignoring the COLUMNS a CLI test passes.
if "PYTEST_XDIST_WORKER" in os.environ:
    for variable in ("COLUMNS", "LINES"):
        os.environ.pop(variable, None)


@pytest.fixture
def chihuahua_data() -> Path:
    """The real public data of Chihuahua, read where `../shared` publishes it."""
    if not CHIHUAHUA_DATA.is_dir():
        pytest.fail(f"real data folder not found: {CHIHUAHUA_DATA}")
    return CHIHUAHUA_DATA


async def _admin(statement: str) -> None:
    """Run one statement on the PostgreSQL server's admin database."""
    connection = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


async def _create_database(name: str) -> None:
    await _admin(f'CREATE DATABASE "{name}"')


async def _drop_database(name: str) -> None:
    await _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade_database(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A PostgreSQL database made for this test session, migrated, dropped at the end."""
    with _scratch_postgres("guardianes_test") as url:
        asyncio.run(_migrate(url))
        yield url


@pytest.fixture(scope="session", autouse=True)
def channel_policies() -> None:
    """Register each channel's delivery policy, as the service does when it starts.

    Fixtures that assemble a `Runtime` by hand (WhatsApp, scheduler) used to rely on an
    earlier test's `build_runtime` having done it: in a worker of its own such a test failed.
    """
    from guardianes.runtime.channels import register_policies

    register_policies()


@pytest.fixture(scope="session", autouse=True)
def forms_parsed_once() -> Iterator[None]:
    """Parse each unchanged form file once per test process, not in every runtime built.

    Every runtime reloads the shipped XLSForms (pyxform reading spreadsheets), a fifth of a
    runtime's start; the loader itself is tested on its own in tests/conversations.
    """
    from guardianes.conversations import catalog

    parsed: dict[tuple[Path, int, int], Form] = {}
    parse = catalog.load_form

    def load(path: Path | str) -> Form:
        found = Path(path).resolve()
        stat = found.stat()
        key = (found, stat.st_mtime_ns, stat.st_size)
        if key not in parsed:
            parsed[key] = parse(path)
        return parsed[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(catalog, "load_form", load)
        yield


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per test process, copied for each test that needs it.

    Running the Alembic migrations took about half a second per test; a copy is equivalent
    (the migrations are deterministic) and the migration tests still start from empty files.
    """
    path = tmp_path_factory.mktemp("migrated") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


def copy_migrated(template: Path, url: str) -> None:
    """Lay a copy of the migrated template where the SQLite `url` points."""
    shutil.copyfile(template, url.split("///", 1)[1])


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file for one test."""
    return f"sqlite+aiosqlite:///{tmp_path / 'guardianes.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Run the test once on SQLite and once on PostgreSQL."""
    fixture = "sqlite_url" if request.param == "sqlite" else "postgres_url"
    url: str = request.getfixturevalue(fixture)
    return url


async def _empty_postgres(engine: AsyncEngine) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))


@pytest.fixture
async def db_engine(database_url: str, migrated_sqlite: Path) -> AsyncIterator[AsyncEngine]:
    """A migrated database of the parametrized backend, emptied after the test."""
    if database_url.startswith("sqlite"):
        copy_migrated(migrated_sqlite, database_url)
    engine = create_engine(database_url)
    if engine.dialect.name != "sqlite":
        await _empty_postgres(engine)
    yield engine
    if engine.dialect.name == "postgresql":
        await _empty_postgres(engine)
    await engine.dispose()


@pytest.fixture
def session_factory(db_engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions on the migrated test database."""
    return create_session_factory(db_engine)


@pytest.fixture
async def session(
    session_factory: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One session; the test commits what it wants kept."""
    async with session_factory() as session:
        yield session


def settings_in(folder: Path, **overrides: Any) -> Settings:
    """Settings on a SQLite database and media folder in `folder`, no platform channels."""
    values: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{folder / 'app.db'}",
        "media_dir": folder / "media",
        "forms_dir": None,
        "scheduler_enabled": False,
        "telegram_bot_token": None,
        "whatsapp_token": None,
        "whatsapp_phone_number_id": None,
    }
    return Settings(_env_file=None, **values | overrides)  # type: ignore[call-arg]


@pytest.fixture
def settings(tmp_path: Path, migrated_sqlite: Path) -> Settings:
    """Settings on a temporary, already migrated SQLite database and media folder, no channels."""
    settings = settings_in(tmp_path)
    copy_migrated(migrated_sqlite, settings.database_url)
    return settings


@pytest.fixture
async def runtime(settings: Settings) -> AsyncIterator[Runtime]:
    """A runtime on a fresh, migrated SQLite database with no channels registered."""
    from guardianes.runtime.bootstrap import build_runtime

    runtime = await build_runtime(settings)
    yield runtime
    await runtime.close()


@pytest.fixture
async def demo_runtime(runtime: Runtime) -> Runtime:
    """A runtime whose database holds the project's sample colonias, spaces and contracts."""
    from guardianes.runtime.bootstrap import load_demo_data_once

    await load_demo_data_once(runtime)
    return runtime


@contextmanager
def _scratch_postgres(prefix: str) -> Iterator[str]:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    try:
        asyncio.run(_create_database(name))
    except (OSError, asyncpg.PostgresError) as error:
        if IN_CI:
            pytest.fail(f"PostgreSQL is required under CI=true: {error}")
        pytest.skip(f"PostgreSQL not reachable: {error}")
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:5432/{name}"
    finally:
        asyncio.run(_drop_database(name))


@pytest.fixture
def new_postgres_url() -> Iterator[str]:
    """A new PostgreSQL database with no schema for one test, dropped after it."""
    with _scratch_postgres("guardianes_new") as url:
        yield url


@pytest.fixture
def other_postgres_url() -> Iterator[str]:
    """A second new PostgreSQL database with no schema (e.g. a restore target)."""
    with _scratch_postgres("guardianes_other") as url:
        yield url

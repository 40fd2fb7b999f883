"""Backups: a populated service is backed up and restored into a fresh database, row for row."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from guardianes import __version__
from guardianes.config import Settings
from guardianes.runtime.bootstrap import build_runtime
from guardianes.services.backup import (
    MANIFEST,
    create_backup,
    file_digest,
    read_manifest,
    restore_backup,
)
from guardianes.services.runtime import Runtime
from guardianes.storage.backup import BackupError, DumpFormat, table_names
from guardianes.storage.db import create_engine, head_revision
from tests.backup_data import FILLED_TABLES, every_row, populate
from tests.conftest import _migrate


@dataclass
class Site:
    """Where a service keeps its data: a database and a media folder."""

    settings: Settings

    @property
    def media(self) -> Path:
        """The media folder."""
        return self.settings.media_dir


def _site(settings: Settings, url: str, media: Path) -> Site:
    return Site(settings.model_copy(update={"database_url": url, "media_dir": media}))


@pytest.fixture(params=["sqlite", "postgresql"])
def sites(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> tuple[Site, Site]:
    """A source and an empty target, both SQLite or both PostgreSQL."""
    if request.param == "sqlite":
        source = f"sqlite+aiosqlite:///{tmp_path / 'source' / 'guardianes.db'}"
        target = f"sqlite+aiosqlite:///{tmp_path / 'target' / 'guardianes.db'}"
    else:
        source = request.getfixturevalue("new_postgres_url")
        target = request.getfixturevalue("other_postgres_url")
    return (
        _site(settings, source, tmp_path / "source-media"),
        _site(settings, target, tmp_path / "target-media"),
    )


@pytest.fixture
async def populated(sites: tuple[Site, Site]) -> AsyncIterator[Runtime]:
    """The source site's runtime, its database full (rows in every table) and photos stored."""
    source = sites[0].settings
    if not source.is_sqlite:
        await _migrate(source.database_url)
    runtime = await build_runtime(source)
    await populate(runtime)
    yield runtime
    await runtime.close()


async def _rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    engine = create_engine(url)
    try:
        return await every_row(engine)
    finally:
        await engine.dispose()


def _photos(media: Path) -> dict[str, tuple[int, str]]:
    return {
        p.relative_to(media).as_posix(): file_digest(p) for p in media.rglob("*") if p.is_file()
    }


async def test_a_restored_backup_holds_every_row_and_photo(
    populated: Runtime, sites: tuple[Site, Site], tmp_path: Path
) -> None:
    source, target = sites
    report = await create_backup(source.settings, tmp_path / "backup")

    await restore_backup(target.settings, tmp_path / "backup")

    before = await _rows(source.settings.database_url)
    assert {t for t, rows in before.items() if rows} >= FILLED_TABLES
    assert await _rows(target.settings.database_url) == before
    assert len(_photos(source.media)) == 2
    assert _photos(target.media) == _photos(source.media)
    assert report.photos == 2


async def test_the_manifest_describes_the_backup(
    populated: Runtime, sites: tuple[Site, Site], tmp_path: Path
) -> None:
    source = sites[0]
    await create_backup(source.settings, tmp_path / "backup")

    data = json.loads((tmp_path / "backup" / MANIFEST).read_text(encoding="utf-8"))
    assert data["app_version"] == __version__
    assert data["alembic_revision"] == head_revision()
    assert data["database_kind"] == populated.engine.dialect.name
    assert data["created_at"]
    assert data["row_counts"]["submission_media"] == 2
    assert data["row_counts"]["alembic_version"] == 1
    for entry in data["files"]:
        path = tmp_path / "backup" / entry["path"]
        assert file_digest(path) == (entry["size"], entry["sha256"])
    assert {e["path"] for e in data["files"]} >= {data["database_file"]}
    assert sum(e["path"].startswith("media/") for e in data["files"]) == 2


@pytest.mark.postgres
async def test_a_plain_sql_dump_restores_too(
    new_postgres_url: str, other_postgres_url: str, settings: Settings, tmp_path: Path
) -> None:
    source = _site(settings, new_postgres_url, tmp_path / "source-media")
    target = _site(settings, other_postgres_url, tmp_path / "target-media")
    await _migrate(new_postgres_url)
    runtime = await build_runtime(source.settings)
    try:
        await populate(runtime)
    finally:
        await runtime.close()

    report = await create_backup(
        source.settings, tmp_path / "backup", postgres_format=DumpFormat.PLAIN
    )
    await restore_backup(target.settings, tmp_path / "backup")

    assert report.manifest.database_file == "database.sql"
    assert await _rows(other_postgres_url) == await _rows(new_postgres_url)


async def test_restore_refuses_a_database_that_is_not_empty(
    populated: Runtime, sites: tuple[Site, Site], tmp_path: Path
) -> None:
    source = sites[0]
    await create_backup(source.settings, tmp_path / "backup")

    with pytest.raises(BackupError, match="not empty"):
        await restore_backup(source.settings, tmp_path / "backup")


async def test_restore_refuses_a_damaged_backup_before_touching_the_database(
    populated: Runtime, sites: tuple[Site, Site], tmp_path: Path
) -> None:
    source, target = sites
    report = await create_backup(source.settings, tmp_path / "backup")
    photo = tmp_path / "backup" / report.manifest.media_files[0].path
    photo.write_bytes(photo.read_bytes() + b"tampered")

    with pytest.raises(BackupError, match="damaged"):
        await restore_backup(target.settings, tmp_path / "backup")

    engine = create_engine(target.settings.database_url)
    try:
        assert await table_names(engine) == []
    finally:
        await engine.dispose()


async def test_restore_refuses_a_schema_revision_this_code_does_not_know(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    await create_backup(settings, tmp_path / "backup")
    manifest_path = tmp_path / "backup" / MANIFEST
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data["alembic_revision"] = "ffffffffffff"
    manifest_path.write_text(json.dumps(data), encoding="utf-8")
    target = _site(settings, f"sqlite+aiosqlite:///{tmp_path / 'new.db'}", tmp_path / "m2")

    with pytest.raises(BackupError, match="does not know"):
        await restore_backup(target.settings, tmp_path / "backup")


async def test_restore_refuses_a_folder_without_a_manifest(
    settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "half").mkdir()
    with pytest.raises(BackupError, match="unfinished"):
        await restore_backup(settings, tmp_path / "half")


async def test_backup_refuses_a_folder_that_already_holds_files(
    runtime: Runtime, settings: Settings, tmp_path: Path
) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "something").write_text("x")
    with pytest.raises(BackupError, match="not an empty folder"):
        await create_backup(settings, tmp_path / "old")


async def test_restore_into_another_kind_of_database_is_refused(
    runtime: Runtime, settings: Settings, new_postgres_url: str, tmp_path: Path
) -> None:
    await create_backup(settings, tmp_path / "backup")
    target = _site(settings, new_postgres_url, tmp_path / "m2")
    with pytest.raises(BackupError, match="same kind"):
        await restore_backup(target.settings, tmp_path / "backup")


@pytest.mark.postgres
async def test_a_postgresql_backup_without_pg_dump_says_what_to_install(
    new_postgres_url: str, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _migrate(new_postgres_url)
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))
    source = _site(settings, new_postgres_url, tmp_path / "media")
    with pytest.raises(BackupError, match="pg_dump was not found on PATH: install"):
        await create_backup(source.settings, tmp_path / "backup")


def test_the_commands_back_up_and_restore(tmp_path: Path) -> None:
    def guardianes(database: Path, media: Path, *args: str) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GUARDIANES_")}
        env["GUARDIANES_DATABASE_URL"] = f"sqlite+aiosqlite:///{database}"
        env["GUARDIANES_MEDIA_DIR"] = str(media)
        return subprocess.run(
            [sys.executable, "-m", "guardianes", *args],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
            env=env,
            check=False,
        )

    source = tmp_path / "source.db"
    assert guardianes(source, tmp_path / "m1", "db", "upgrade").returncode == 0
    made = guardianes(source, tmp_path / "m1", "backup", str(tmp_path / "backup"))
    assert made.returncode == 0, made.stderr
    assert "Backup written" in made.stdout

    restored = guardianes(
        tmp_path / "target.db", tmp_path / "m2", "restore", str(tmp_path / "backup")
    )
    assert restored.returncode == 0, restored.stderr
    assert "Restored" in restored.stdout
    again = guardianes(tmp_path / "target.db", tmp_path / "m2", "restore", str(tmp_path / "backup"))
    assert again.returncode == 1
    assert "not empty" in again.stderr
    assert read_manifest(tmp_path / "backup").database_format is DumpFormat.SQLITE


async def test_a_missing_sqlite_database_is_not_backed_up_as_an_empty_one(
    settings: Settings, tmp_path: Path
) -> None:
    missing = _site(settings, f"sqlite+aiosqlite:///{tmp_path / 'typo.db'}", tmp_path / "m")
    with pytest.raises(BackupError, match="does not exist"):
        await create_backup(missing.settings, tmp_path / "backup")
    assert not (tmp_path / "typo.db").exists()


@pytest.mark.postgres
async def test_restore_into_a_database_that_cannot_be_reached_says_so(
    settings: Settings, new_postgres_url: str, tmp_path: Path
) -> None:
    source = _site(settings, new_postgres_url, tmp_path / "m1")
    await _migrate(new_postgres_url)
    await create_backup(source.settings, tmp_path / "backup")
    nowhere = _site(settings, f"{new_postgres_url}_never_created", tmp_path / "m2")
    with pytest.raises(BackupError, match="cannot be reached"):
        await restore_backup(nowhere.settings, tmp_path / "backup")


async def test_restore_never_overwrites_a_different_photo_of_the_same_name(
    populated: Runtime, sites: tuple[Site, Site], tmp_path: Path
) -> None:
    source, target = sites
    report = await create_backup(source.settings, tmp_path / "backup")
    clash = target.media / report.manifest.media_files[0].path.removeprefix("media/")
    clash.parent.mkdir(parents=True)
    clash.write_bytes(b"another photo")

    with pytest.raises(BackupError, match="differ from the backup"):
        await restore_backup(target.settings, tmp_path / "backup")
    assert clash.read_bytes() == b"another photo"

"""Backups of the whole service: the database, the photos and a manifest that proves them.

A backup folder holds the database (a SQLite file, or a pg_dump archive or script), the media
folder under `media/`, and `manifest.json`, written last: time, app version, Alembic
revision, database kind and format, every file with its size and SHA-256, and the rows of
every table. A restore checks all of it before touching anything, refuses a database that
already holds tables, loads the database, checks its rows and revision against the manifest,
then copies the photos (refusing to overwrite a different file of the same name).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from guardianes import __version__
from guardianes.config import Settings
from guardianes.storage.backup import (
    DUMP_FILES,
    BackupError,
    DumpFormat,
    postgres_dump,
    postgres_restore,
    revision_is_known,
    row_counts,
    sqlite_backup,
    sqlite_path,
    sqlite_restore,
    table_names,
)
from guardianes.storage.db import create_engine, current_revision, head_revision
from guardianes.storage.types import utcnow

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncEngine

MANIFEST = "manifest.json"
MEDIA_FOLDER = "media"
MANIFEST_FORMAT = 1
CHUNK = 1024 * 1024
PARTIAL_SUFFIX = ".part"  # photos being written by the media store: not yet photos


@dataclass(frozen=True, slots=True)
class BackupFile:
    """One file of a backup, relative to its folder, with what it must contain."""

    path: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """What a backup holds and how to check it."""

    created_at: str
    app_version: str
    alembic_revision: str | None
    database_kind: str  # sqlite | postgresql
    database_format: DumpFormat
    database_file: str
    row_counts: dict[str, int]
    files: list[BackupFile] = field(default_factory=list)
    format: int = MANIFEST_FORMAT

    @property
    def media_files(self) -> list[BackupFile]:
        """The photos, under `media/`."""
        return [f for f in self.files if f.path.startswith(f"{MEDIA_FOLDER}/")]

    def to_json(self) -> str:
        """The manifest as written to `manifest.json`."""
        return json.dumps(asdict(self), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        """Read a manifest; a malformed one raises `BackupError`."""
        try:
            if data["format"] != MANIFEST_FORMAT:
                raise BackupError(f"manifest format {data['format']} is not supported")
            return cls(
                created_at=str(data["created_at"]),
                app_version=str(data["app_version"]),
                alembic_revision=data["alembic_revision"],
                database_kind=str(data["database_kind"]),
                database_format=DumpFormat(data["database_format"]),
                database_file=str(data["database_file"]),
                row_counts={str(k): int(v) for k, v in data["row_counts"].items()},
                files=[
                    BackupFile(str(f["path"]), int(f["size"]), str(f["sha256"]))
                    for f in data["files"]
                ],
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise BackupError(f"{MANIFEST} is malformed: {error!r}") from error


@dataclass(frozen=True, slots=True)
class BackupReport:
    """What a backup or restore did."""

    folder: Path
    manifest: Manifest

    @property
    def rows(self) -> int:
        """Rows in all tables."""
        return sum(self.manifest.row_counts.values())

    @property
    def photos(self) -> int:
        """Files of the media folder."""
        return len(self.manifest.media_files)

    @property
    def size(self) -> int:
        """Bytes of every file."""
        return sum(f.size for f in self.manifest.files)


# ---------------------------------------------------------------- files


def file_digest(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a file."""
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as stream:
        while chunk := stream.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def _describe(folder: Path, relative: str) -> BackupFile:
    size, sha256 = file_digest(folder / relative)
    return BackupFile(relative, size, sha256)


def _media_files(media_dir: Path) -> list[Path]:
    if not media_dir.is_dir():
        return []
    return sorted(
        p for p in media_dir.rglob("*") if p.is_file() and not p.name.endswith(PARTIAL_SUFFIX)
    )


def _copy_media(media_dir: Path, folder: Path) -> list[BackupFile]:
    """Copy every photo into `folder/media`, hashing what was written."""
    copied = []
    for source in _media_files(media_dir):
        relative = f"{MEDIA_FOLDER}/{source.relative_to(media_dir).as_posix()}"
        target = folder / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        copied.append(_describe(folder, relative))
    return copied


def _prepare_folder(folder: Path) -> None:
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise BackupError(f"{folder} is not an empty folder: choose a new one for each backup")
    folder.mkdir(parents=True, exist_ok=True)


def _write_manifest(folder: Path, manifest: Manifest) -> None:
    # Written last and renamed into place: a folder without a manifest is an unfinished backup.
    partial = folder / f"{MANIFEST}{PARTIAL_SUFFIX}"
    partial.write_text(manifest.to_json(), encoding="utf-8")
    os.replace(partial, folder / MANIFEST)


def read_manifest(folder: Path) -> Manifest:
    """The manifest of a backup folder."""
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{path} not found: not a Guardianes backup, or an unfinished one")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackupError(f"{path} cannot be read: {error}") from error
    if not isinstance(data, dict):
        raise BackupError(f"{path} is not a manifest")
    return Manifest.from_json(data)


def verify_files(folder: Path, manifest: Manifest) -> None:
    """Raise unless every file of the manifest is there with its size and SHA-256."""
    problems = []
    for expected in manifest.files:
        path = folder / expected.path
        if not path.is_file():
            problems.append(f"{expected.path} is missing")
            continue
        size, sha256 = file_digest(path)
        if (size, sha256) != (expected.size, expected.sha256):
            problems.append(f"{expected.path} differs from the manifest (size or SHA-256)")
    if problems:
        raise BackupError("the backup is damaged: " + "; ".join(problems))


# ---------------------------------------------------------------- backup


async def create_backup(
    settings: Settings, folder: Path, *, postgres_format: DumpFormat = DumpFormat.CUSTOM
) -> BackupReport:
    """Back up the configured database and media folder into the new or empty `folder`."""
    if postgres_format is DumpFormat.SQLITE:
        raise BackupError("a PostgreSQL dump is either custom or plain")
    if settings.is_sqlite and not sqlite_path(settings.database_url).is_file():
        # Connecting would create an empty database, and back that up.
        raise BackupError(
            f"the SQLite database {sqlite_path(settings.database_url)} does not exist"
        )
    _prepare_folder(folder)
    started = utcnow()
    engine = create_engine(settings.database_url)
    try:
        revision = await _reachable_revision(engine)
        kind = engine.dialect.name
        if kind == "sqlite":
            dump_format = DumpFormat.SQLITE
            counts = await asyncio.to_thread(
                sqlite_backup, sqlite_path(settings.database_url), folder / DUMP_FILES[dump_format]
            )
        else:
            dump_format = postgres_format
            counts = await postgres_dump(
                engine, settings.database_url, folder / DUMP_FILES[dump_format], dump_format
            )
    finally:
        await engine.dispose()
    database_file = DUMP_FILES[dump_format]
    files = [await asyncio.to_thread(_describe, folder, database_file)]
    files += await asyncio.to_thread(_copy_media, settings.media_dir, folder)
    manifest = Manifest(
        created_at=_iso(started),
        app_version=__version__,
        alembic_revision=revision,
        database_kind=kind,
        database_format=dump_format,
        database_file=database_file,
        row_counts=counts,
        files=files,
    )
    _write_manifest(folder, manifest)
    return BackupReport(folder, manifest)


async def _reachable_revision(engine: AsyncEngine) -> str | None:
    try:
        return await current_revision(engine)
    except (SQLAlchemyError, OSError) as error:
        raise BackupError(f"the configured database cannot be reached: {error}") from error


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


# ---------------------------------------------------------------- restore


def _media_conflicts(folder: Path, manifest: Manifest, media_dir: Path) -> list[str]:
    conflicts = []
    for photo in manifest.media_files:
        target = media_dir / photo.path.removeprefix(f"{MEDIA_FOLDER}/")
        if target.exists() and file_digest(target) != (photo.size, photo.sha256):
            conflicts.append(str(target))
    return conflicts


def _restore_media(folder: Path, manifest: Manifest, media_dir: Path) -> None:
    for photo in manifest.media_files:
        target = media_dir / photo.path.removeprefix(f"{MEDIA_FOLDER}/")
        if target.exists():
            continue  # the same content (checked before): content-addressed names
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + PARTIAL_SUFFIX)
        shutil.copyfile(folder / photo.path, partial)
        os.replace(partial, target)


async def restore_backup(settings: Settings, folder: Path) -> BackupReport:
    """Restore a backup folder into the configured, empty database and the media folder."""
    manifest = read_manifest(folder)
    await asyncio.to_thread(verify_files, folder, manifest)
    revision = manifest.alembic_revision
    if revision is not None and not revision_is_known(revision):
        raise BackupError(
            f"the backup is at schema revision {revision}, which this version of Guardianes "
            f"({__version__}) does not know: restore it with the version that made it "
            f"({manifest.app_version}) or a newer one"
        )
    engine = create_engine(settings.database_url)
    try:
        kind = engine.dialect.name
        if kind != manifest.database_kind:
            raise BackupError(
                f"the backup holds a {manifest.database_kind} database and "
                f"GUARDIANES_DATABASE_URL points at {kind}: restore into the same kind"
            )
        await _reachable_revision(engine)
        existing = await table_names(engine)
        if existing:
            raise BackupError(
                f"the configured database is not empty (it has {len(existing)} tables, e.g. "
                f"{', '.join(existing[:3])}): restore only into a new, empty database"
            )
        conflicts = await asyncio.to_thread(_media_conflicts, folder, manifest, settings.media_dir)
        if conflicts:
            raise BackupError(
                f"{len(conflicts)} files of {settings.media_dir} differ from the backup's "
                f"(e.g. {conflicts[0]}): restore into an empty media folder"
            )
        dump = folder / manifest.database_file
        if manifest.database_format is DumpFormat.SQLITE:
            await engine.dispose()  # nothing of ours holds the file while it is written
            await asyncio.to_thread(sqlite_restore, dump, sqlite_path(settings.database_url))
        else:
            await postgres_restore(settings.database_url, dump, manifest.database_format)
        restored_counts = await row_counts(engine)
        restored_revision = await current_revision(engine)
    finally:
        await engine.dispose()
    if restored_counts != manifest.row_counts:
        differing = sorted(
            t
            for t in set(restored_counts) | set(manifest.row_counts)
            if restored_counts.get(t) != manifest.row_counts.get(t)
        )
        raise BackupError(f"restored rows differ from the manifest in: {', '.join(differing)}")
    if restored_revision != revision:
        raise BackupError(
            f"the restored schema is at {restored_revision}, the manifest says {revision}"
        )
    await asyncio.to_thread(_restore_media, folder, manifest, settings.media_dir)
    return BackupReport(folder, manifest)


def upgrade_needed(report: BackupReport) -> bool:
    """True when the restored schema is older than this code's (run `db upgrade`)."""
    return report.manifest.alembic_revision != head_revision()

"""Importing what the authority reports (status files) and who answers for it (directorates).

A status file is all or nothing: every row is checked first — cells, the space it names,
the service — and a single bad row means nothing is written, with every bad row listed
(line, column, reason). `skip_invalid` imports the good rows and reports the rest.
Rows are keyed by space, service, obligation, period and source, so importing the same
file again changes nothing and a corrected file updates rows in place. The discrepancies
the file affects are recomputed in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.config import Settings
from guardianes.geo.normalize import normalize_contract_number, normalize_name
from guardianes.importers.files import read_csv
from guardianes.importers.report import ImportFileError, ImportReport, Problem
from guardianes.importers.service import KNOWN_SERVICES, ensure_service_type
from guardianes.importers.status import RowProblem, StatusFile, StatusRecord, parse_status_file
from guardianes.services import evidence
from guardianes.storage.models import Directorate, Layer, PublicSpace
from guardianes.storage.models_evidence import ServiceStatusReport
from guardianes.storage.repositories import directorates as directorates_repo
from guardianes.storage.repositories import evidence as evidence_repo
from guardianes.storage.repositories import imports as imports_repo


class StatusImportError(Exception):
    """A status file with bad rows, imported with nothing written."""

    def __init__(self, problems: list[RowProblem]) -> None:
        super().__init__(f"{len(problems)} bad row(s); nothing was imported")
        self.problems = problems


@dataclass(slots=True)
class StatusImportResult:
    """What a status import did: row counts, problems, and the discrepancies it moved."""

    report: ImportReport
    row_problems: list[RowProblem] = field(default_factory=list)
    refresh: evidence.RefreshReport = field(default_factory=evidence.RefreshReport)


@dataclass(frozen=True, slots=True)
class _SpaceIndex:
    by_code: dict[str, list[tuple[PublicSpace, Layer]]]
    by_name: dict[str, list[tuple[PublicSpace, Layer]]]


async def _space_index(session: AsyncSession, city_id: int | None = None) -> _SpaceIndex:
    layers = {layer.id: layer for layer in await imports_repo.all_layers(session, city_id)}
    by_code: dict[str, list[tuple[PublicSpace, Layer]]] = defaultdict(list)
    by_name: dict[str, list[tuple[PublicSpace, Layer]]] = defaultdict(list)
    for space in await imports_repo.all_spaces(session, city_id):
        pair = (space, layers[space.layer_id])
        if space.source_code:
            by_code[space.source_code.strip().upper()].append(pair)
        by_name[normalize_name(space.name)].append(pair)
    return _SpaceIndex(dict(by_code), dict(by_name))


def _match_space(
    index: _SpaceIndex, record: StatusRecord, file: str
) -> tuple[tuple[PublicSpace, Layer] | None, RowProblem | None]:
    if record.space_code:
        column, wanted = "space_code", record.space_code
        candidates = index.by_code.get(record.space_code.strip().upper(), [])
    else:
        column, wanted = "space_name", record.space_name or ""
        candidates = index.by_name.get(normalize_name(wanted), [])
    if record.layer:
        layer_key = record.layer.strip().lower()
        candidates = [
            (s, layer)
            for s, layer in candidates
            if layer.file_name.lower() == layer_key
            or layer.file_name.lower().rsplit(".", 1)[0] == layer_key
        ]
    if record.contract:
        contract_key = normalize_contract_number(record.contract)
        candidates = [
            (s, layer)
            for s, layer in candidates
            if normalize_contract_number(layer.contract_number) == contract_key
        ]
    service_matches = [
        (s, layer) for s, layer in candidates if layer.service_code == record.service
    ]
    if len(service_matches) == 1:
        return service_matches[0], None
    if not candidates:
        narrowed = " with that layer/contract" if record.layer or record.contract else ""
        return None, RowProblem(file, record.line, column, f"no space '{wanted}'{narrowed}")
    if not service_matches:
        services = ", ".join(sorted({layer.service_code for _, layer in candidates}))
        return None, RowProblem(
            file,
            record.line,
            "service",
            f"'{wanted}' is a space of {services}, not {record.service}",
        )
    layers = ", ".join(sorted(layer.file_name for _, layer in service_matches))
    return None, RowProblem(
        file,
        record.line,
        column,
        f"'{wanted}' matches {len(service_matches)} spaces ({layers}); add a layer or contract",
    )


async def import_status(
    session: AsyncSession,
    path: Path,
    *,
    settings: Settings,
    skip_invalid: bool = False,
    parsed: StatusFile | None = None,
    city_id: int | None = None,
) -> StatusImportResult:
    """Import a status file (all or nothing unless `skip_invalid`) and refresh discrepancies."""
    parsed = parsed or parse_status_file(path)
    problems = list(parsed.problems)
    services = await imports_repo.service_types(session)
    # cities: a status row names a space of its city only (two cities may share codes).
    index = await _space_index(session, city_id)
    matched: list[tuple[StatusRecord, PublicSpace]] = []
    for record in parsed.records:
        if record.service not in services and record.service not in KNOWN_SERVICES:
            problems.append(
                RowProblem(
                    path.name,
                    record.line,
                    "service",
                    f"unknown service '{record.service}'; known: "
                    + ", ".join(sorted(set(services) | set(KNOWN_SERVICES))),
                )
            )
            continue
        pair, problem = _match_space(index, record, path.name)
        if problem is not None:
            problems.append(problem)
            continue
        assert pair is not None
        matched.append((record, pair[0]))
    problems.sort(key=lambda p: (p.line, p.column or ""))
    if problems and not skip_invalid:
        raise StatusImportError(problems)
    report = ImportReport(label=path.name)
    report.skipped = len({p.line for p in problems})
    report.problems = [Problem(p.file, f"line {p.line}", _reason(p)) for p in problems]
    for record, _space in matched:
        if record.service not in services:
            await ensure_service_type(session, record.service)
            services = await imports_repo.service_types(session)
    keys = {
        (
            space.id,
            record.service,
            record.obligation,
            record.period_start,
            record.period_end,
            record.source,
        ): record
        for record, space in matched
    }
    existing = await evidence_repo.status_reports_by_key(session, keys)
    touched: list[int] = []
    for key, record in keys.items():
        row = existing.get(key)
        values: dict[str, Any] = {
            "status": record.status,
            "note": record.note,
            "source_file": path.name,
            "line": record.line,
        }
        if row is None:
            row = await evidence_repo.add(
                session,
                ServiceStatusReport(
                    public_space_id=key[0],
                    service_code=record.service,
                    obligation=record.obligation,
                    period_start=record.period_start,
                    period_end=record.period_end,
                    source=record.source,
                    **values,
                ),
            )
            report.created += 1
            touched.append(row.id)
        elif row.status != record.status or row.note != record.note:
            for name, value in values.items():
                setattr(row, name, value)
            report.updated += 1
            touched.append(row.id)
        else:
            report.unchanged += 1
    await session.flush()
    refresh = await evidence.refresh_for_status_import(session, touched, settings=settings)
    return StatusImportResult(report=report, row_problems=problems, refresh=refresh)


def _reason(problem: RowProblem) -> str:
    return f"column {problem.column}: {problem.reason}" if problem.column else problem.reason


# ---------------------------------------------------------------- directorates

_DIRECTORATE_ALIASES: dict[str, tuple[str, ...]] = {
    "name": ("name", "nombre", "direccion", "dependencia"),
    "service": ("service", "servicio", "service_code"),
    "email": ("email", "correo", "notification_email", "correo_notificaciones"),
    "head_name": ("head_name", "titular", "nombre_titular", "responsable"),
    "head_email": ("head_email", "correo_titular", "email_titular"),
    "phone": ("phone", "telefono"),
    "address": ("address", "domicilio", "notification_address"),
    "layers": ("layers", "capas", "archivos"),
}


@dataclass(frozen=True, slots=True)
class DirectorateFields:
    """What staff give for a directorate (API or CSV)."""

    name: str
    service_code: str | None = None
    notification_email: str | None = None
    head_name: str | None = None
    head_email: str | None = None
    phone: str | None = None
    notification_address: str | None = None


class DirectorateConflictError(ValueError):
    """Another directorate has that name, or the directorate is still referenced."""


async def _check_service(session: AsyncSession, service_code: str | None) -> None:
    if service_code is None:
        return
    services = await imports_repo.service_types(session)
    if service_code in services:
        return
    if service_code not in KNOWN_SERVICES:
        raise ValueError(f"unknown service '{service_code}'")
    await ensure_service_type(session, service_code)


async def create_directorate(session: AsyncSession, fields: DirectorateFields) -> Directorate:
    """A new directorate; its service's layers without one are linked to it."""
    await _check_service(session, fields.service_code)
    if await directorates_repo.by_name(session, fields.name) is not None:
        raise DirectorateConflictError(f"a directorate named '{fields.name}' exists")
    row = await directorates_repo.add(session, Directorate(**_directorate_values(fields)))
    await directorates_repo.link_layers_of_service(session, row)
    return row


async def update_directorate(
    session: AsyncSession, directorate_id: int, changes: dict[str, Any]
) -> Directorate | None:
    """Change some fields of a directorate; None when it does not exist."""
    row = await directorates_repo.get(session, directorate_id)
    if row is None:
        return None
    if "service_code" in changes:
        await _check_service(session, changes["service_code"])
    if "name" in changes and changes["name"] != row.name:
        other = await directorates_repo.by_name(session, changes["name"])
        if other is not None:
            raise DirectorateConflictError(f"a directorate named '{changes['name']}' exists")
    for name, value in changes.items():
        setattr(row, name, value)
    await session.flush()
    await directorates_repo.link_layers_of_service(session, row)
    return row


async def delete_directorate(session: AsyncSession, directorate_id: int) -> bool:
    """Delete a directorate no discrepancy points to; False when it does not exist."""
    row = await directorates_repo.get(session, directorate_id)
    if row is None:
        return False
    if await directorates_repo.discrepancy_count(session, directorate_id):
        raise DirectorateConflictError("discrepancies point to this directorate")
    await directorates_repo.unlink_layers(session, directorate_id)
    await directorates_repo.delete(session, row)
    return True


def _directorate_values(fields: DirectorateFields) -> dict[str, Any]:
    return {
        "name": fields.name,
        "service_code": fields.service_code,
        "notification_email": fields.notification_email,
        "head_name": fields.head_name,
        "head_email": fields.head_email,
        "phone": fields.phone,
        "notification_address": fields.notification_address,
    }


def _looks_like_email(value: str) -> bool:
    local, _, domain = value.partition("@")
    return bool(local) and "." in domain and " " not in value


async def import_directorates(
    session: AsyncSession, path: Path, *, city_id: int | None = None
) -> ImportReport:
    """Create or update a city's directorates by name from a CSV; link them to its layers."""
    if city_id is None:
        from guardianes.storage.repositories.cities import resolve_city

        city_id = (await resolve_city(session, None)).id
    table = read_csv(path)
    lowered = {normalize_name(h).lower().replace(" ", "_"): h for h in table.header}
    columns = {
        field: next((lowered[a] for a in aliases if a in lowered), None)
        for field, aliases in _DIRECTORATE_ALIASES.items()
    }
    if columns["name"] is None:
        raise ImportFileError(path, "missing column 'name' (or nombre, direccion)")
    report = ImportReport(label=path.name)
    layers = {
        layer.file_name.lower(): layer for layer in await imports_repo.all_layers(session, city_id)
    }
    for row in table.rows:

        def value(field: str, values: dict[str, str] = row.values) -> str | None:
            column = columns[field]
            text = " ".join((values.get(column) or "").split()) if column else ""
            return text or None

        where = f"line {row.line}"
        name = value("name")
        if name is None:
            report.problems.append(Problem(path.name, where, "column name: a name is required"))
            report.skipped += 1
            continue
        bad = [
            f"column {f}: '{value(f)}' is not an e-mail address"
            for f in ("email", "head_email")
            if value(f) and not _looks_like_email(str(value(f)))
        ]
        service_code = value("service")
        if service_code is not None and service_code not in KNOWN_SERVICES:
            services = await imports_repo.service_types(session)
            if service_code not in services:
                bad.append(f"column service: unknown service '{service_code}'")
        if bad:
            report.problems.extend(Problem(path.name, where, reason) for reason in bad)
            report.skipped += 1
            continue
        await _check_service(session, service_code)
        fields = DirectorateFields(
            name=name[:300],
            service_code=service_code,
            notification_email=value("email"),
            head_name=value("head_name"),
            head_email=value("head_email"),
            phone=value("phone"),
            notification_address=value("address"),
        )
        current = await directorates_repo.by_name(session, fields.name, city_id)
        if current is None:
            current = await directorates_repo.add(
                session, Directorate(city_id=city_id, **_directorate_values(fields))
            )
            report.created += 1
        else:
            changed = False
            for attribute, new in _directorate_values(fields).items():
                if getattr(current, attribute) != new:
                    setattr(current, attribute, new)
                    changed = True
            if changed:
                report.updated += 1
            else:
                report.unchanged += 1
        for file_name in (value("layers") or "").replace(",", ";").split(";"):
            layer = layers.get(file_name.strip().lower())
            if file_name.strip() and layer is None:
                report.problems.append(
                    Problem(path.name, where, f"column layers: no layer '{file_name.strip()}'")
                )
            elif layer is not None:
                layer.directorate_id = current.id
        await session.flush()
        await directorates_repo.link_layers_of_service(session, current)
    return report

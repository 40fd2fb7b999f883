"""The directory of official complaint channels, one CSV row per channel.

Format (UTF-8 CSV, comma or semicolon, header required; Spanish headers accepted)::

    service,kind,name,contact,hours,notes,confirmed
    street_lighting,phone,Reporte de alumbrado,614 000 0000,Lunes a viernes,,no
    ,office,Sindicatura Municipal,Calle …,,,no

- `service` (`servicio`): a service type code; empty means every service.
- `kind` (`tipo`): phone, app, web, office, whatsapp or email (Spanish words accepted:
  teléfono, aplicación, formulario, oficina, correo).
- `name` (`nombre`), `contact` (`contacto`): required; the number, address or link.
- `hours` (`horario`), `notes` (`notas`): optional.
- `confirmed` (`confirmado`): `yes` once staff checked the channel; anything else is shown
  to guardians as "to be confirmed".

A channel is identified by (service, kind, name): importing again updates it in place.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import ComplaintChannelKind
from guardianes.importers.files import read_csv
from guardianes.importers.report import ImportFileError, ImportReport, Problem
from guardianes.storage.repositories import training as repo

_REQUIRED = {
    "kind": ("kind", "tipo"),
    "name": ("name", "nombre"),
    "contact": ("contact", "contacto"),
}
_OPTIONAL = {
    "service": ("service", "servicio"),
    "hours": ("hours", "horario"),
    "notes": ("notes", "notas"),
    "confirmed": ("confirmed", "confirmado"),
}
_KIND_WORDS = {
    "phone": ComplaintChannelKind.PHONE,
    "telefono": ComplaintChannelKind.PHONE,
    "teléfono": ComplaintChannelKind.PHONE,
    "app": ComplaintChannelKind.APP,
    "aplicacion": ComplaintChannelKind.APP,
    "aplicación": ComplaintChannelKind.APP,
    "web": ComplaintChannelKind.WEB,
    "formulario": ComplaintChannelKind.WEB,
    "office": ComplaintChannelKind.OFFICE,
    "oficina": ComplaintChannelKind.OFFICE,
    "whatsapp": ComplaintChannelKind.WHATSAPP,
    "email": ComplaintChannelKind.EMAIL,
    "correo": ComplaintChannelKind.EMAIL,
}
_YES = frozenset({"yes", "si", "sí", "true", "1", "x"})
MAX_NAME = 200
MAX_CONTACT = 500
MAX_HOURS = 200


@dataclass(frozen=True, slots=True)
class ChannelRecord:
    """One channel read from the file."""

    line: int
    service: str | None
    kind: ComplaintChannelKind
    name: str
    contact: str
    hours: str | None
    notes: str | None
    confirmed: bool


@dataclass(frozen=True, slots=True)
class ChannelsFile:
    """Parsed channels and the rows that could not be read."""

    path: Path
    records: tuple[ChannelRecord, ...]
    problems: tuple[Problem, ...]


def parse_complaint_channels(path: Path) -> ChannelsFile:
    """Read a channels CSV; raises ImportFileError when a required column is missing."""
    table = read_csv(path)
    lowered = {name.strip().lower(): name for name in table.header}
    columns: dict[str, str | None] = {}
    for field, aliases in {**_REQUIRED, **_OPTIONAL}.items():
        found = next((lowered[a] for a in aliases if a in lowered), None)
        if found is None and field in _REQUIRED:
            raise ImportFileError(
                path,
                f"missing column '{field}' ({' or '.join(aliases)});"
                " expected service,kind,name,contact,hours,notes,confirmed",
            )
        columns[field] = found

    def value(values: dict[str, str], field: str) -> str:
        column = columns[field]
        return " ".join(values.get(column, "").split()) if column else ""

    records: list[ChannelRecord] = []
    problems: list[Problem] = []
    seen: dict[tuple[str | None, str, str], int] = {}
    for row in table.rows:
        where = f"line {row.line}"
        kind_text = value(row.values, "kind").lower()
        kind = _KIND_WORDS.get(kind_text)
        name = value(row.values, "name")
        contact = value(row.values, "contact")
        if kind is None:
            known = ", ".join(k.value for k in ComplaintChannelKind)
            problems.append(Problem(path.name, where, f"kind '{kind_text}' is not one of {known}"))
            continue
        if not name or not contact:
            problems.append(Problem(path.name, where, "name and contact are required"))
            continue
        if len(name) > MAX_NAME or len(contact) > MAX_CONTACT:
            problems.append(Problem(path.name, where, "name or contact is too long"))
            continue
        hours = value(row.values, "hours")[:MAX_HOURS] or None
        service = value(row.values, "service") or None
        key = (service, kind.value, name)
        if key in seen:
            problems.append(Problem(path.name, where, f"repeats line {seen[key]}"))
            continue
        seen[key] = row.line
        records.append(
            ChannelRecord(
                line=row.line,
                service=service,
                kind=kind,
                name=name,
                contact=contact,
                hours=hours,
                notes=value(row.values, "notes") or None,
                confirmed=value(row.values, "confirmed").lower() in _YES,
            )
        )
    return ChannelsFile(path, tuple(records), tuple(problems))


async def import_complaint_channels(
    session: AsyncSession, parsed: ChannelsFile, *, city_id: int | None = None
) -> ImportReport:
    """Insert or update every channel of the file for city `city_id` (default: the only one)."""
    report = ImportReport(label=parsed.path.name, problems=list(parsed.problems))
    report.skipped = len(parsed.problems)
    for record in parsed.records:
        created = await repo.upsert_complaint_channel(
            session,
            city_id=city_id,
            service_code=record.service,
            kind=record.kind.value,
            name=record.name,
            values={
                "contact": record.contact,
                "hours": record.hours,
                "notes": record.notes,
                "confirmed": record.confirmed,
                "active": True,
            },
        )
        if created:
            report.created += 1
        else:
            report.updated += 1
    return report

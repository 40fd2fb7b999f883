"""Import services: parsed files → database rows, idempotently.

Every function takes an explicit `AsyncSession`, only `flush()`es and leaves the commit to
its caller (one unit of work per command). Re-importing a file updates rows in place:
layers by file name, spaces by (layer, placemark key), contracts by natural key, companies
by RFC (else normalised name), colonias by normalised name, complaints by
(colonia, service, period).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry
from shapely.strtree import STRtree
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import ResponsibleType
from guardianes.geo.normalize import normalize_contract_number, normalize_name
from guardianes.importers.colonias import (
    ColoniaRecord,
    ColoniasFile,
    colonias_from_routes,
    parse_colonias_file,
)
from guardianes.importers.complaints import ComplaintsFile, parse_complaints
from guardianes.importers.contracts import ContractRecord, ContractsFile, parse_contracts
from guardianes.importers.kml import KmlDocument, geometry_to_geojson, parse_kml
from guardianes.importers.layers import LayerSpec, parse_layers_csv, space_kind, validate_layer
from guardianes.importers.maps import FieldChoice, parse_map
from guardianes.importers.ocds import parse_ocds
from guardianes.importers.red_flags import compute_flags
from guardianes.importers.report import (
    ImportFileError,
    ImportReport,
    Problem,
    reject_unless,
)
from guardianes.storage.models import (
    Colonia,
    Company,
    ComplaintCount,
    Contract,
    Layer,
    PublicSpace,
    ServiceType,
)
from guardianes.storage.repositories import imports as repo
from guardianes.storage.repositories.cities import resolve_city

ProgressFn = Callable[[int, int], None]  # (done, total)
GARBAGE_COLLECTION = "garbage_collection"
# Names for the services the shipped data uses; other codes get their code as a name until
# staff edit them.
KNOWN_SERVICES: dict[str, tuple[str, str]] = {
    "green_space_maintenance": ("Mantenimiento de áreas verdes", "Green space maintenance"),
    GARBAGE_COLLECTION: ("Recolección de basura", "Garbage collection"),
    "street_lighting": ("Alumbrado público", "Street lighting"),
}
_CENTS = Decimal("0.01")


@dataclass(frozen=True, slots=True)
class LayersImport:
    """Reports of a layers.csv import: the CSV itself, each map file, derived colonias."""

    csv: ImportReport
    layers: tuple[ImportReport, ...]
    colonias: ImportReport | None


def _noop(_done: int, _total: int) -> None:
    """Progress sink when the caller does not show progress."""


# ---------------------------------------------------------------- service types


class UnknownServiceError(ValueError):
    """A service code that is neither in the database nor one of the shipped ones."""

    def __init__(self, code: str, valid: list[str]) -> None:
        super().__init__(
            f"unknown service '{code}'; valid: {', '.join(valid)} "
            "(add one with `guardianes services add CODE --name-es … --name-en …`)"
        )
        self.code = code
        self.valid = valid


async def valid_service_codes(session: AsyncSession) -> list[str]:
    """Codes an import may name: those in the database and the shipped ones."""
    return sorted(set(await repo.service_types(session)) | set(KNOWN_SERVICES))


async def check_service(session: AsyncSession, code: str) -> None:
    """Raise UnknownServiceError unless the code is known (nothing is created)."""
    valid = await valid_service_codes(session)
    if code not in valid:
        raise UnknownServiceError(code, valid)


async def ensure_service_type(session: AsyncSession, code: str) -> None:
    """Create a shipped service type on first use; an unknown code is refused, never invented.

    A typo in `--service` used to create a junk service; new services are added on purpose
    with `guardianes services add`.
    """
    existing = await repo.service_types(session)
    if code in existing:
        return
    if code not in KNOWN_SERVICES:
        raise UnknownServiceError(code, sorted(set(existing) | set(KNOWN_SERVICES)))
    name_es, name_en = KNOWN_SERVICES[code]
    session.add(ServiceType(code=code, name_es=name_es, name_en=name_en))
    await session.flush()


async def add_service_type(session: AsyncSession, code: str, *, name_es: str, name_en: str) -> bool:
    """Create or rename a service type; True when it was new."""
    existing = await repo.service_types(session)
    row = existing.get(code)
    if row is None:
        session.add(ServiceType(code=code, name_es=name_es, name_en=name_en))
        await session.flush()
        return True
    row.name_es, row.name_en = name_es, name_en
    await session.flush()
    return False


# ---------------------------------------------------------------- layers and spaces


async def _city_id(session: AsyncSession, city_id: int | None) -> int:
    """The given city, else the deployment's only one (the default city when none yet)."""
    return city_id if city_id is not None else (await resolve_city(session, None)).id


async def import_kml_layer(
    session: AsyncSession,
    spec: LayerSpec,
    *,
    document: KmlDocument | None = None,
    on_progress: ProgressFn = _noop,
    city_id: int | None = None,
    skip_invalid: bool = False,
    fields: FieldChoice | None = None,
) -> ImportReport:
    """Upsert one map file (any format) as a layer and its placemarks as public spaces.

    All or nothing: a bad placemark raises ImportRejectedError before anything is written,
    unless `skip_invalid`.
    """
    reason = validate_layer(spec)
    if reason is not None:
        raise ImportFileError(spec.path, reason)
    await check_service(session, spec.service)
    document = document or parse_map(spec.path, fields=fields)
    report = ImportReport(label=spec.file_name, problems=list(document.problems))
    report.skipped = len(document.problems)
    reject_unless(report, skip_invalid=skip_invalid)
    await ensure_service_type(session, spec.service)
    city_id = await _city_id(session, city_id)
    layer = await repo.layer_by_file_name(session, spec.file_name, city_id)
    if layer is None:
        layer = Layer(file_name=spec.file_name, city_id=city_id)
        session.add(layer)
    layer.document_name = document.document_name
    layer.title = spec.title or document.document_name or spec.file_name
    layer.service_code = spec.service
    layer.year = spec.year
    layer.contract_number = spec.contract
    layer.responsible_name = spec.responsible
    layer.responsible_type = ResponsibleType(spec.responsible_type)
    await session.flush()
    existing = await repo.spaces_of_layer(session, layer.id)
    total = len(document.placemarks)
    for done, placemark in enumerate(document.placemarks, start=1):
        values: dict[str, Any] = {
            "source_code": placemark.code,
            "name": placemark.name[:500],
            "kind": space_kind(spec.service, placemark.geometry_type),
            "description": _space_description(placemark.description, placemark.folders),
            "geometry_geojson": placemark.geojson,
            "centroid_lat": placemark.centroid_lat,
            "centroid_lon": placemark.centroid_lon,
            "min_lat": placemark.bbox.min_lat,
            "min_lon": placemark.bbox.min_lon,
            "max_lat": placemark.bbox.max_lat,
            "max_lon": placemark.bbox.max_lon,
        }
        space = existing.get(placemark.key)
        if space is None:
            session.add(PublicSpace(layer_id=layer.id, placemark_key=placemark.key, **values))
            report.created += 1
        elif _assign(space, values):
            report.updated += 1
        else:
            report.unchanged += 1
        on_progress(done, total)
    await session.flush()
    await link_spaces_to_colonias(session, city_id)
    return report


def _space_description(description: str, folders: tuple[str, ...]) -> str | None:
    # The folder path names the operator and contract in the route file; keep it visible.
    parts = [description] if description else []
    if folders:
        parts.append("Carpeta: " + " / ".join(folders))
    return "\n".join(parts) or None


async def import_layers_csv(
    session: AsyncSession,
    csv_path: Path,
    *,
    derive_colonias: bool = True,
    on_progress: ProgressFn = _noop,
    city_id: int | None = None,
    skip_invalid: bool = False,
) -> LayersImport:
    """Import every map file a layers.csv lists; garbage-route files also yield colonias.

    Every listed file is read and checked before anything is written: a missing, truncated
    or wrong-kind file, an unknown service or a bad placemark rejects the whole list (each
    problem names layers.csv's line and the file), unless `skip_invalid`.
    """
    city_id = await _city_id(session, city_id)
    layers_file = parse_layers_csv(csv_path)
    csv_report = ImportReport(label=csv_path.name, problems=list(layers_file.problems))
    csv_report.skipped = len(layers_file.problems)
    valid = await valid_service_codes(session)
    parsed: list[tuple[LayerSpec, KmlDocument]] = []
    for spec in layers_file.layers:
        where = f"line {spec.line}"
        if spec.service not in valid:
            csv_report.problems.append(
                Problem(csv_path.name, where, str(UnknownServiceError(spec.service, valid)))
            )
            csv_report.skipped += 1
            continue
        try:
            document = parse_map(spec.path, fields=spec.fields)
        except ImportFileError as exc:
            csv_report.problems.append(
                Problem(csv_path.name, where, f"file '{spec.path.name}' {exc.reason}")
            )
            csv_report.skipped += 1
            continue
        for problem in document.problems:
            csv_report.problems.append(
                Problem(
                    problem.file,
                    f"{problem.where} (listed on {csv_path.name} {where})",
                    problem.reason,
                    blocking=problem.blocking,
                )
            )
        parsed.append((spec, document))
    reject_unless(csv_report, skip_invalid=skip_invalid)
    reports: list[ImportReport] = []
    colonias_report: ImportReport | None = None
    for spec, document in parsed:
        csv_report.created += 1
        if derive_colonias and spec.service == GARBAGE_COLLECTION:
            derived = await import_colonia_records(
                session, colonias_from_routes(document), city_id=city_id, skip_invalid=True
            )
            colonias_report = derived
        reports.append(
            await import_kml_layer(
                session,
                spec,
                document=document,
                on_progress=on_progress,
                city_id=city_id,
                skip_invalid=True,
            )
        )
    # The placemark problems are in each file's own report; keep the CSV's to its rows.
    csv_report.problems = [p for p in csv_report.problems if p.file == csv_path.name]
    return LayersImport(csv_report, tuple(reports), colonias_report)


# ---------------------------------------------------------------- colonias


async def import_colonias(
    session: AsyncSession,
    path: Path,
    *,
    from_routes: bool = False,
    city_id: int | None = None,
    skip_invalid: bool = False,
    fields: FieldChoice | None = None,
) -> ImportReport:
    """Import colonias from a colonias map or CSV, or derive them from a garbage-route KML."""
    parsed = (
        colonias_from_routes(parse_kml(path))
        if from_routes
        else parse_colonias_file(path, fields=fields)
    )
    return await import_colonia_records(session, parsed, city_id=city_id, skip_invalid=skip_invalid)


async def import_colonia_records(
    session: AsyncSession,
    parsed: ColoniasFile,
    *,
    city_id: int | None = None,
    skip_invalid: bool = False,
) -> ImportReport:
    """Upsert a city's colonias by normalised name; a known geometry is never erased by a
    name-only file.

    All or nothing: any problem in the file rejects it unless `skip_invalid`.
    """
    report = ImportReport(label=f"colonias ({parsed.path.name})", problems=list(parsed.problems))
    report.skipped = len(parsed.problems)
    reject_unless(report, skip_invalid=skip_invalid)
    city_id = await _city_id(session, city_id)
    existing = {c.normalized_name: c for c in await repo.all_colonias(session, city_id)}
    for record in parsed.records:
        colonia = existing.get(record.normalized_name)
        values = _colonia_values(record, colonia)
        if colonia is None:
            colonia = Colonia(normalized_name=record.normalized_name, city_id=city_id, **values)
            session.add(colonia)
            existing[record.normalized_name] = colonia
            report.created += 1
        elif _assign(colonia, values):
            report.updated += 1
        else:
            report.unchanged += 1
    await session.flush()
    await link_spaces_to_colonias(session)
    return report


def _colonia_values(record: ColoniaRecord, current: Colonia | None) -> dict[str, Any]:
    values: dict[str, Any] = {"name": record.name[:200]}
    if record.geometry is not None:
        values["geometry_geojson"] = geometry_to_geojson(record.geometry)
    elif current is None:
        values["geometry_geojson"] = None
    return values


async def link_spaces_to_colonias(session: AsyncSession, city_id: int | None = None) -> int:
    """Set each space's colonia to the colonia area of its city containing its centroid;
    returns changes. Without a city, every city in turn."""
    if city_id is None:
        from guardianes.storage.repositories.cities import all_cities

        return sum(
            [await link_spaces_to_colonias(session, city.id) for city in await all_cities(session)]
        )
    areas: list[tuple[int, BaseGeometry]] = [
        (c.id, shape(c.geometry_geojson))
        for c in await repo.all_colonias(session, city_id)
        if c.geometry_geojson and c.geometry_geojson.get("type") in {"Polygon", "MultiPolygon"}
    ]
    if not areas:
        return 0
    tree = STRtree([geometry for _, geometry in areas])
    changed = 0
    for space in await repo.all_spaces(session, city_id):
        hits = tree.query(Point(space.centroid_lon, space.centroid_lat), predicate="intersects")
        # Smallest containing area wins: a colonia drawn inside a bigger one is more precise.
        candidates = sorted((areas[int(i)][1].area, areas[int(i)][0]) for i in hits)
        colonia_id = candidates[0][1] if candidates else space.colonia_id
        if colonia_id != space.colonia_id:
            space.colonia_id = colonia_id
            changed += 1
    await session.flush()
    return changed


# ---------------------------------------------------------------- contracts and companies


class _Companies:
    """In-memory company index for one import: by RFC, then by normalised name."""

    def __init__(self, session: AsyncSession, companies: list[Company]) -> None:
        self._session = session
        self._by_rfc = {c.rfc: c for c in companies if c.rfc}
        self._by_name: dict[str, list[Company]] = {}
        for company in companies:
            self._by_name.setdefault(company.normalized_name, []).append(company)

    def resolve(self, record: ContractRecord) -> Company | None:
        """The record's company, created when new; an RFC-less match gains the RFC."""
        if not record.company_name or not record.company_normalized_name:
            return None
        if record.company_rfc and record.company_rfc in self._by_rfc:
            return self._by_rfc[record.company_rfc]
        same_name = self._by_name.get(record.company_normalized_name, [])
        if record.company_rfc:
            # Same name without a tax id yet (e.g. created from layers.csv): same company.
            company = next((c for c in same_name if c.rfc is None), None)
            if company is not None:
                company.rfc = record.company_rfc
                self._by_rfc[record.company_rfc] = company
                return company
        elif same_name:
            return same_name[0]
        company = Company(
            name=record.company_name[:500],
            normalized_name=record.company_normalized_name[:500],
            rfc=record.company_rfc,
            constitution_date=record.company_constitution_date,
        )
        self._session.add(company)
        self._by_name.setdefault(company.normalized_name, []).append(company)
        if company.rfc:
            self._by_rfc[company.rfc] = company
        return company


async def import_contracts(
    session: AsyncSession,
    path: Path,
    *,
    parsed: ContractsFile | None = None,
    on_progress: ProgressFn = _noop,
    city_id: int | None = None,
    skip_invalid: bool = False,
) -> ImportReport:
    """Upsert a city's contracts by natural key and their winning companies (all or nothing)."""
    parsed = parsed or parse_contracts(path)
    city_id = await _city_id(session, city_id)
    report = ImportReport(label=path.name, problems=list(parsed.problems))
    report.skipped = len(parsed.problems)
    reject_unless(report, skip_invalid=skip_invalid)
    companies = _Companies(session, list(await repo.all_companies(session)))
    existing = await repo.contracts_by_natural_key(
        session, (r.natural_key for r in parsed.records), city_id
    )
    total = len(parsed.records)
    for done, record in enumerate(parsed.records, start=1):
        company = companies.resolve(record)
        if company is not None and company.id is None:
            await session.flush()  # the new company needs its id before the contract refers to it
        values = _contract_values(record, company)
        contract = existing.get(record.natural_key)
        if contract is None:
            session.add(Contract(natural_key=record.natural_key, city_id=city_id, **values))
            report.created += 1
        elif _assign(contract, values):
            report.updated += 1
        else:
            report.unchanged += 1
        on_progress(done, total)
    await session.flush()
    return report


def _money(value: Decimal | None) -> Decimal | None:
    # The columns keep cents; quantising first keeps re-imports from seeing false changes.
    return value.quantize(_CENTS) if value is not None else None


def _contract_values(record: ContractRecord, company: Company | None) -> dict[str, Any]:
    risks = record.risks
    return {
        "period": record.period,
        "agency": record.agency,
        "process_number": record.process_number,
        "contract_number": record.contract_number,
        "contract_date": record.contract_date,
        "amount": _money(record.amount),
        "object": record.object,
        "subject": record.subject,
        "procedure_type": record.procedure_type,
        "company_id": company.id if company is not None else None,
        "call_date": record.call_date,
        "bases_date": record.bases_date,
        "proposals_date": record.proposals_date,
        "start_date": record.start_date,
        "clarification_date": record.clarification_date,
        "opening_date": record.opening_date,
        "ruling_date": record.ruling_date,
        "bidders_count": record.bidders_count,
        "solvent_bidders_count": record.solvent_bidders_count,
        "bidders": record.bidders,
        "budgeted_amount": _money(record.budgeted_amount),
        "funding_source": record.funding_source,
        "settlement_date": record.settlement_date,
        "settlement_amount": _money(record.settlement_amount),
        "exception_basis": record.exception_basis,
        "exception_amount": _money(record.exception_amount),
        "risk_favoritism": risks.favoritism,
        "risk_directed_tender": risks.directed_tender,
        "risk_split_contracts": risks.split_contracts,
        "risk_overpricing": risks.overpricing,
        "risk_short_deadlines": risks.short_deadlines,
        "risk_collusion": risks.collusion,
        "risk_shell_company": risks.shell_company,
        "obligations": record.obligations,
        **_flag_values(record),
    }


def _flag_values(record: ContractRecord) -> dict[str, Any]:
    flags = record.flags or compute_flags(
        procedure_type=record.procedure_type,
        bidders_count=record.bidders_count,
        tender_start=record.call_date,
        tender_end=record.proposals_date,
        first_value=_money(record.amount) if record.settlement_amount is not None else None,
        last_value=_money(record.settlement_amount),
    )
    return {
        "flag_single_bidder": flags.single_bidder,
        "flag_direct_award": flags.direct_award,
        "flag_short_tender": flags.short_tender,
        "flag_value_increase": flags.value_increase,
        "value_increase_pct": flags.value_increase_pct,
        "ocid": record.ocid,
        "ocds_history": record.ocds_history,
    }


async def import_ocds(
    session: AsyncSession,
    paths: list[Path],
    *,
    parsed: ContractsFile | None = None,
    on_progress: ProgressFn = _noop,
    city_id: int | None = None,
    skip_invalid: bool = False,
) -> ImportReport:
    """Import OCDS packages, records or releases (files or folders) as contracts and companies."""
    parsed = parsed or parse_ocds(paths)
    return await import_contracts(
        session,
        parsed.path,
        parsed=parsed,
        on_progress=on_progress,
        city_id=city_id,
        skip_invalid=skip_invalid,
    )


# ---------------------------------------------------------------- complaints


async def import_complaints(
    session: AsyncSession,
    path: Path,
    *,
    create_colonias: bool = False,
    parsed: ComplaintsFile | None = None,
    city_id: int | None = None,
    skip_invalid: bool = False,
) -> ImportReport:
    """Set complaint counts per colonia, service and period (re-import sets, never adds).

    All or nothing: an unknown service or colonia, or a bad row, rejects the file unless
    `skip_invalid`; colonias it would create are not created then either.
    """
    parsed = parsed or parse_complaints(path)
    report = ImportReport(label=path.name, problems=list(parsed.problems))
    report.skipped = len(parsed.problems)
    city_id = await _city_id(session, city_id)
    colonias = {c.normalized_name: c for c in await repo.all_colonias(session, city_id)}
    valid = await valid_service_codes(session)
    for record in parsed.records:
        where = f"line {record.line}"
        if record.service not in valid:
            report.problems.append(
                Problem(path.name, where, str(UnknownServiceError(record.service, valid)))
            )
            report.skipped += 1
        elif not create_colonias and normalize_name(record.colonia) not in colonias:
            report.problems.append(
                Problem(
                    path.name, where, f"unknown colonia '{record.colonia}' (import colonias first)"
                )
            )
            report.skipped += 1
    reject_unless(report, skip_invalid=skip_invalid)
    bad_lines = {p.where for p in report.problems}
    resolved: list[tuple[int, str, Any, str, int]] = []
    for record in parsed.records:
        where = f"line {record.line}"
        if where in bad_lines:
            continue
        await ensure_service_type(session, record.service)
        key = normalize_name(record.colonia)
        colonia = colonias.get(key)
        if colonia is None and create_colonias:
            colonia = Colonia(
                name=record.colonia[:200],
                normalized_name=key,
                city_id=city_id,
                geometry_geojson=None,
            )
            session.add(colonia)
            await session.flush()
            colonias[key] = colonia
        if colonia is None:
            continue
        resolved.append(
            (colonia.id, record.service, record.period_start, record.granularity, record.count)
        )
    existing = await repo.complaint_counts(session, (row[0] for row in resolved))
    for colonia_id, service, period_start, granularity, count in resolved:
        row = existing.get((colonia_id, service, period_start, granularity))
        if row is None:
            session.add(
                ComplaintCount(
                    colonia_id=colonia_id,
                    service_code=service,
                    period_start=period_start,
                    granularity=granularity,
                    count=count,
                )
            )
            report.created += 1
        elif row.count != count:
            row.count = count
            report.updated += 1
        else:
            report.unchanged += 1
    await session.flush()
    return report


# ---------------------------------------------------------------- helpers


def _assign(row: object, values: dict[str, Any]) -> bool:
    """Copy values onto an ORM row; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def find_contract_id(numbers: list[tuple[int, str]], contract_number: str | None) -> int | None:
    """The contract whose number matches ignoring punctuation ('O.M.-38/2020-D' = 'OM382020D')."""
    wanted = normalize_contract_number(contract_number)
    if wanted is None:
        return None
    return next(
        (cid for cid, number in numbers if normalize_contract_number(number) == wanted), None
    )

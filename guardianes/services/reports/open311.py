"""Open311 GeoReport v2, read-only: card types as services, discrepancies as service requests.

Field names follow the GeoReport v2 specification exactly. It is public like the city's open
data, so it carries nothing about guardians: a request's location is the public space's
centroid (never where a guardian stood), `media_url` is always null (photos stay behind
staff authentication), and `status_notes` is the status in words, never a staff note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.xlsform import Form, QuestionType
from guardianes.domain.enums import DiscrepancyStatus
from guardianes.locales import translator
from guardianes.services.reports.evidence_report import label
from guardianes.storage.models_evidence import Discrepancy
from guardianes.storage.repositories import reports as repo

DEFAULT_SPAN = timedelta(days=90)
MAX_REQUESTS = 1000
CLOSED = frozenset({DiscrepancyStatus.RESOLVED, DiscrepancyStatus.DISMISSED})
_DATATYPES = {
    QuestionType.TEXT: "text",
    QuestionType.INTEGER: "number",
    QuestionType.DECIMAL: "number",
    QuestionType.SELECT_ONE: "singlevaluelist",
    QuestionType.SELECT_MULTIPLE: "multivaluelist",
    QuestionType.DATE: "datetime",
    QuestionType.GEOPOINT: "string",
    QuestionType.IMAGE: "string",
}


class Open311Error(Exception):
    """A GeoReport error: the HTTP status and its description."""

    def __init__(self, code: int, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description

    def body(self) -> list[dict[str, Any]]:
        """The GeoReport error list."""
        return [{"code": self.code, "description": self.description}]


def _w3(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _service(form: Form, locale: str) -> dict[str, Any]:
    t = translator(locale)
    group = label(t, f"service.{form.service}", form.service) if form.service else None
    obligations = sorted({q.obligation for q in form.questions if q.obligation})
    return {
        "service_code": form.form_id,
        "service_name": form.localized_title(locale),
        "description": t("reports.open311.service_description", title=form.localized_title(locale)),
        "metadata": True,
        "type": "batch",
        "keywords": ", ".join([form.service or "", *obligations]).strip(", "),
        "group": group,
    }


def services(catalog: FormCatalog, locale: str) -> list[dict[str, Any]]:
    """Every surveillance card as a GeoReport service."""
    return [_service(form, locale) for form in catalog.cards()]


def service_definition(catalog: FormCatalog, code: str, locale: str) -> dict[str, Any]:
    """A card's questions as GeoReport attributes; 404 for an unknown code."""
    form = catalog.get(code)
    if form is None or form not in catalog.cards():
        raise Open311Error(404, f"service_code {code} not found")
    attributes = []
    order = 0
    for question in form.questions:
        datatype = _DATATYPES.get(question.type)
        if datatype is None:
            continue  # notes and calculations are not answers a person gives
        order += 1
        attribute: dict[str, Any] = {
            "variable": True,
            "code": question.name,
            "datatype": datatype,
            "required": question.required,
            "datatype_description": form.text(question.hints, locale) or None,
            "order": order,
            "description": form.text(question.labels, locale) or question.name,
        }
        if question.choices:
            attribute["values"] = [
                {"key": c.name, "name": form.text(c.labels, locale) or c.name}
                for c in question.choices
            ]
        attributes.append(attribute)
    return {"service_code": form.form_id, "attributes": attributes}


@dataclass(frozen=True, slots=True)
class RequestQuery:
    """GeoReport filters, already parsed."""

    service_request_ids: tuple[int, ...] = ()
    service_codes: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None


def parse_datetime(name: str, value: str | None) -> datetime | None:
    """A w3 date-time with its zone (e.g. 2026-01-01T00:00:00Z); 400 otherwise."""
    if value is None or value == "":
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace(" ", "+"))
    except ValueError as error:
        raise Open311Error(
            400, f"{name} must be a w3 date-time, e.g. 2026-01-01T00:00:00Z"
        ) from error
    if moment.tzinfo is None:
        raise Open311Error(400, f"{name} must include its time zone (Z or ±HH:MM)")
    return moment


def parse_query(
    *,
    service_request_id: str | None,
    service_code: str | None,
    status: str | None,
    start_date: str | None,
    end_date: str | None,
) -> RequestQuery:
    """Check and parse the GeoReport filters; raises Open311Error(400) with the reason."""
    ids: list[int] = []
    for part in (service_request_id or "").split(","):
        if part.strip():
            if not part.strip().isdigit() or len(part.strip()) > 12:
                raise Open311Error(400, f"service_request_id {part.strip()} is not a request id")
            ids.append(int(part.strip()))
    statuses = tuple(s.strip() for s in (status or "").split(",") if s.strip())
    for value in statuses:
        if value not in ("open", "closed"):
            raise Open311Error(400, f"status {value} is not open or closed")
    codes = tuple(c.strip() for c in (service_code or "").split(",") if c.strip())
    start = parse_datetime("start_date", start_date)
    end = parse_datetime("end_date", end_date)
    if start is not None and end is not None and start > end:
        raise Open311Error(400, "start_date must not be after end_date")
    return RequestQuery(tuple(ids), codes, statuses, start, end)


async def service_requests(
    session: AsyncSession, catalog: FormCatalog, query: RequestQuery, *, now: datetime, locale: str
) -> list[dict[str, Any]]:
    """Discrepancies as GeoReport service requests, newest first (90 days / 1000 by default)."""
    if query.service_request_ids:
        found = await repo.discrepancies_by_ids(session, list(query.service_request_ids))
    else:
        end = query.end or now
        start = query.start or end - DEFAULT_SPAN
        found = await repo.discrepancies_observed_between(session, start, end)
    forms = await repo.form_of_evidence(session, [d.id for d in found])
    requests = []
    for d in found:
        code = forms.get(d.id, d.service_code)
        state = "closed" if d.status in CLOSED else "open"
        if query.statuses and state not in query.statuses:
            continue
        if query.service_codes and code not in query.service_codes:
            continue
        requests.append((d, code, state))
    requests = requests[:MAX_REQUESTS]
    return await _as_requests(session, catalog, requests, locale)


async def service_request(
    session: AsyncSession, catalog: FormCatalog, request_id: str, *, locale: str
) -> list[dict[str, Any]]:
    """One request, as the one-element list GeoReport answers with; 404 when unknown."""
    if not request_id.isdigit() or len(request_id) > 12:
        raise Open311Error(404, f"service_request_id {request_id} not found")
    found = await repo.discrepancies_by_ids(session, [int(request_id)])
    if not found:
        raise Open311Error(404, f"service_request_id {request_id} not found")
    d = found[0]
    forms = await repo.form_of_evidence(session, [d.id])
    state = "closed" if d.status in CLOSED else "open"
    return await _as_requests(
        session, catalog, [(d, forms.get(d.id, d.service_code), state)], locale
    )


async def _as_requests(
    session: AsyncSession,
    catalog: FormCatalog,
    items: list[tuple[Discrepancy, str, str]],
    locale: str,
) -> list[dict[str, Any]]:
    t = translator(locale)
    spaces = {
        s.space.id: s.space
        for s in await repo.spaces_with_layers(
            session, space_ids=sorted({d.public_space_id for d, _, _ in items})
        )
    }
    colonias = await repo.colonias_by_id(session)
    directorates = await repo.directorates_by_id(session)
    out = []
    for d, code, state in items:
        space = spaces.get(d.public_space_id)
        form = catalog.get(code)
        directorate = directorates.get(d.directorate_id or -1)
        obligation = label(t, f"evidence.obligation.{d.obligation}", d.obligation)
        place = f"{space.name} ({space.source_code})" if space and space.source_code else None
        address = ", ".join(
            part
            for part in (place or (space.name if space else None), colonias.get(d.colonia_id or -1))
            if part
        )
        out.append(
            {
                "service_request_id": str(d.id),
                "status": state,
                "status_notes": label(t, f"reports.status.{d.status}", d.status),
                "service_name": form.localized_title(locale)
                if form
                else label(t, f"service.{d.service_code}", d.service_code),
                "service_code": code,
                "description": t(
                    "reports.open311.request_description",
                    obligation=obligation,
                    kind=label(t, f"reports.kind.{d.kind}", d.kind),
                    start=d.period_start.isoformat(),
                    end=d.period_end.isoformat(),
                    guardians=d.guardian_count,
                    responsible=d.responsible_name or "-",
                    contract=d.contract_number or "-",
                ),
                "agency_responsible": directorate.name if directorate else d.responsible_name,
                "service_notice": None,
                "requested_datetime": _w3(d.first_observed_at),
                "updated_datetime": _w3(d.updated_at),
                "expected_datetime": _w3(d.due_at),
                "address": address or None,
                "address_id": space.source_code if space else None,
                "zipcode": None,
                "lat": space.centroid_lat if space else None,
                "long": space.centroid_lon if space else None,
                "media_url": None,
            }
        )
    return out

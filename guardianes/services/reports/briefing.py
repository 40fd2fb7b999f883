"""Before a visit: the colonia briefing (HTML, PDF) and its short chat message to guardians.

Complaints are counted over the last N whole months before the current one (complaint data
arrives by month), per service; open discrepancies are those still open, notified or
acknowledged; each public space lists who answers for it from its map layer.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.dates import add_months
from guardianes.locales import Translator, translator
from guardianes.services.reports.evidence_report import label
from guardianes.services.reports.rendering import render_html
from guardianes.storage.repositories import reports as repo


class ColoniaNotFoundError(LookupError):
    """No colonia with that id."""


@dataclass(frozen=True, slots=True)
class ServiceComplaints:
    """Complaints about one service in the window."""

    service_code: str
    service: str
    count: int


@dataclass(frozen=True, slots=True)
class BriefingSpace:
    """A public space of the colonia and who answers for it."""

    id: int
    name: str
    code: str | None
    kind: str
    service: str
    responsible: str | None
    responsible_type: str
    contract_number: str | None
    directorate: str | None


@dataclass(frozen=True, slots=True)
class BriefingDiscrepancy:
    """An unresolved discrepancy in the colonia."""

    id: int
    space: str
    service: str
    obligation: str
    status: str
    period: str
    guardians: int
    responsible: str | None


@dataclass
class Briefing:
    """What staff read before visiting a colonia."""

    colonia_id: int
    colonia: str
    months: int
    window_start: date
    window_end: date  # first day of the last month counted
    generated_at: str
    complaints: list[ServiceComplaints]
    total_complaints: int
    discrepancies: list[BriefingDiscrepancy]
    spaces: list[BriefingSpace]
    locale: str
    texts: dict[str, str]


TEXT_KEYS = (
    "title",
    "generated",
    "window",
    "complaints",
    "service",
    "count",
    "no_complaints",
    "discrepancies",
    "no_discrepancies",
    "space",
    "obligation",
    "status",
    "period",
    "guardians",
    "responsible",
    "spaces",
    "no_spaces",
    "kind",
    "contract",
    "directorate",
    "privacy",
)


async def build_briefing(
    session: AsyncSession,
    colonia_id: int,
    *,
    months: int,
    now: datetime,
    timezone: ZoneInfo,
    locale: str = "es",
) -> Briefing:
    """Gather the briefing of one colonia."""
    names = await repo.colonias_by_id(session, [colonia_id])
    if colonia_id not in names:
        raise ColoniaNotFoundError(colonia_id)
    t = translator(locale)
    current = now.astimezone(timezone).date().replace(day=1)
    start = add_months(current, -months)
    complaints = await repo.monthly_complaints(
        session, colonia_id=colonia_id, since=start, until=current
    )
    totals: dict[str, int] = {}
    for row in complaints:
        totals[row.service_code] = totals.get(row.service_code, 0) + row.count
    per_service = [
        ServiceComplaints(code, label(t, f"service.{code}", code), count)
        for code, count in sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    ]
    places = await repo.spaces_with_layers(session, colonia_id=colonia_id)
    directorates = await repo.directorates_by_id(session)
    spaces = [
        BriefingSpace(
            id=p.space.id,
            name=p.space.name,
            code=p.space.source_code,
            kind=p.space.kind,
            service=label(t, f"service.{p.layer.service_code}", p.layer.service_code),
            responsible=p.layer.responsible_name,
            responsible_type=label(
                t, f"reports.source.{p.layer.responsible_type}", p.layer.responsible_type
            ),
            contract_number=p.layer.contract_number,
            directorate=(
                directorates[p.layer.directorate_id].name
                if p.layer.directorate_id in directorates
                else None
            ),
        )
        for p in places
    ]
    unresolved = await repo.unresolved_discrepancies(session, colonia_id=colonia_id)
    space_names = {
        s.space.id: s.space.name
        for s in await repo.spaces_with_layers(
            session, space_ids=sorted({d.public_space_id for d in unresolved})
        )
    }
    discrepancies = [
        BriefingDiscrepancy(
            id=d.id,
            space=space_names.get(d.public_space_id, str(d.public_space_id)),
            service=label(t, f"service.{d.service_code}", d.service_code),
            obligation=label(t, f"evidence.obligation.{d.obligation}", d.obligation),
            status=label(t, f"reports.status.{d.status}", d.status),
            period=f"{d.period_start.isoformat()} – {d.period_end.isoformat()}",
            guardians=d.guardian_count,
            responsible=d.responsible_name,
        )
        for d in unresolved
    ]
    texts = {key: t(f"reports.briefing.{key}") for key in TEXT_KEYS}
    return Briefing(
        colonia_id=colonia_id,
        colonia=names[colonia_id],
        months=months,
        window_start=start,
        window_end=add_months(current, -1),
        generated_at=now.astimezone(timezone).strftime("%Y-%m-%d %H:%M"),
        complaints=per_service,
        total_complaints=sum(totals.values()),
        discrepancies=discrepancies,
        spaces=spaces,
        locale=locale,
        texts=texts,
    )


def briefing_title(briefing: Briefing) -> str:
    """The briefing's title with the colonia and window."""
    return briefing.texts["title"].format(colonia=briefing.colonia, months=briefing.months)


def briefing_html(briefing: Briefing) -> str:
    """The briefing as one HTML page."""
    return render_html(
        "briefing.html", b=briefing, t=briefing.texts, title=briefing_title(briefing)
    )


def briefing_pdf(briefing: Briefing) -> bytes:
    """The briefing as PDF."""
    from guardianes.services.reports.pdf import ReportPDF  # fpdf2 loads on the first PDF

    t = briefing.texts
    title = briefing_title(briefing)
    pdf = ReportPDF(title, t["privacy"])
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.title_block(title)
    window = t["window"].format(
        start=briefing.window_start.strftime("%Y-%m"), end=briefing.window_end.strftime("%Y-%m")
    )
    pdf.field_rows([(t["generated"], briefing.generated_at), (t["period"], window)])
    width = pdf.w - pdf.l_margin - pdf.r_margin
    pdf.subtitle(t["complaints"])
    if briefing.complaints:
        pdf.grid(
            [t["service"], t["count"]],
            [[c.service, str(c.count)] for c in briefing.complaints],
            [width - 30, 30],
        )
    else:
        pdf.paragraph(t["no_complaints"])
    pdf.subtitle(t["discrepancies"])
    if briefing.discrepancies:
        pdf.grid(
            [t["space"], t["obligation"], t["status"], t["period"], t["guardians"]],
            [
                [d.space, d.obligation, d.status, d.period, str(d.guardians)]
                for d in briefing.discrepancies
            ],
            [width - 135, 35, 35, 45, 20],
        )
    else:
        pdf.paragraph(t["no_discrepancies"])
    pdf.subtitle(t["spaces"])
    if briefing.spaces:
        pdf.grid(
            [t["space"], t["service"], t["responsible"], t["contract"]],
            [
                [
                    f"{s.name} ({s.code})" if s.code else s.name,
                    s.service,
                    f"{s.responsible or '-'} ({s.responsible_type})",
                    s.contract_number or "-",
                ]
                for s in briefing.spaces
            ],
            [width - 150, 45, 70, 35],
        )
    else:
        pdf.paragraph(t["no_spaces"])
    return pdf.to_bytes()


def briefing_message(briefing: Briefing, t: Translator | None = None) -> str:
    """The short chat message for the colonia's guardians, in the briefing's language."""
    t = t or translator(briefing.locale)
    parts = [
        t(
            "reports.briefing.chat_complaint_one"
            if c.count == 1
            else "reports.briefing.chat_complaint",
            count=c.count,
            service=c.service.lower(),
        )
        for c in briefing.complaints
        if c.count
    ]
    period = (
        t("reports.briefing.chat_last_month")
        if briefing.months == 1
        else t("reports.briefing.chat_last_months", months=briefing.months)
    )
    if parts:
        joined = (
            parts[0]
            if len(parts) == 1
            else ", ".join(parts[:-1]) + t("reports.briefing.chat_and") + parts[-1]
        )
        text = t("reports.briefing.chat_complaints", complaints=joined, period=period)
    else:
        text = t("reports.briefing.chat_no_complaints", period=period)
    if briefing.discrepancies:
        count = len(briefing.discrepancies)
        key = "chat_discrepancies_one" if count == 1 else "chat_discrepancies"
        text += " " + t(f"reports.briefing.{key}", count=count)
    return text + " " + t("reports.briefing.chat_closing")

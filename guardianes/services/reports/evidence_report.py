"""The evidence report a directorate receives: per discrepancy or per batch, HTML and PDF.

It carries what a directorate needs to act and nothing about who the guardians are: the
space and a small map of it, the contract (number, amount, company), the obligation, the
status the authority reported, and the guardians' answers with their times and photos,
counted as distinct guardians (never names, phones or channel ids).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.locales import Translator, translator
from guardianes.services.reports.minimap import MiniMap, build_minimap, to_svg
from guardianes.services.reports.rendering import render_html
from guardianes.storage.repositories import evidence as evidence_repo
from guardianes.storage.repositories import reports as repo

MAX_PHOTOS_PER_DISCREPANCY = 6
PHOTO_TYPES = {"image/jpeg", "image/png"}


def label(t: Translator, key: str, default: str) -> str:
    """A catalog text, or `default` when the catalog has none."""
    text = t(key)
    return default if text == key else text


def money(amount: Decimal | None) -> str | None:
    """An amount as pesos with thousands separators."""
    return None if amount is None else f"${amount:,.2f}"


@dataclass(frozen=True, slots=True)
class EvidencePhoto:
    """One photo of the evidence: its file and when it was taken into a card."""

    path: Path
    mime_type: str
    observed_at: str

    def data_uri(self) -> str:
        """The photo inlined, so the HTML report needs no server to show it."""
        encoded = base64.b64encode(self.path.read_bytes()).decode("ascii")
        return f"data:{self.mime_type};base64,{encoded}"


@dataclass(frozen=True, slots=True)
class EvidenceAnswer:
    """One failed answer of one card: when, what was asked, what was answered."""

    observed_at: str
    question: str
    answer: str
    repeat: bool
    has_location: bool


@dataclass
class DiscrepancySection:
    """Everything the report says about one discrepancy."""

    id: int
    kind: str
    kind_label: str
    status: str
    status_label: str
    space_name: str
    space_code: str | None
    colonia: str | None
    service: str
    obligation: str
    period: str
    reported_status: str | None
    report_source: str | None
    report_note: str | None
    contract_number: str | None
    contract_amount: str | None
    contract_object: str | None
    contract_date: str | None
    procedure_type: str | None
    company: str | None
    responsible: str | None
    directorate: str | None
    guardian_count: int
    evidence_count: int
    strength: str
    strength_label: str
    first_observed: str
    last_observed: str
    due: str | None
    minimap: MiniMap | None
    answers: list[EvidenceAnswer] = field(default_factory=list)
    photos: list[EvidencePhoto] = field(default_factory=list)
    more_photos: int = 0

    @property
    def map_svg(self) -> str | None:
        """The map as inline SVG for the HTML report."""
        return to_svg(self.minimap) if self.minimap else None


@dataclass
class EvidenceReport:
    """A report on one or several discrepancies, ready to render."""

    title: str
    generated_at: str
    directorate: str | None
    locale: str
    sections: list[DiscrepancySection]
    texts: dict[str, str]

    @property
    def companies(self) -> list[str]:
        """The companies the report names, for the e-mail's summary."""
        return sorted({s.company or s.responsible or "" for s in self.sections} - {""})


def _local(moment: datetime | None, timezone: ZoneInfo) -> str | None:
    if moment is None:
        return None
    return moment.astimezone(timezone).strftime("%Y-%m-%d %H:%M")


def _day(day: date | None) -> str | None:
    return None if day is None else day.isoformat()


def _answer_text(answer: Any) -> str:
    if isinstance(answer, list):
        return ", ".join(str(a) for a in answer)
    if isinstance(answer, dict):
        return ", ".join(f"{k}: {v}" for k, v in answer.items())
    return str(answer)


TEXT_KEYS = (
    "title_one",
    "title_batch",
    "generated",
    "directorate",
    "space",
    "colonia",
    "service",
    "obligation",
    "period",
    "kind",
    "status",
    "reported",
    "reported_none",
    "source",
    "note",
    "contract",
    "amount",
    "object",
    "contract_date",
    "procedure",
    "company",
    "responsible",
    "evidence",
    "guardians",
    "cards",
    "strength",
    "first_seen",
    "last_seen",
    "due",
    "answers",
    "answer_time",
    "answer_question",
    "answer_value",
    "repeat",
    "photos",
    "more_photos",
    "map",
    "map_legend",
    "privacy",
    "intro",
)


def report_texts(t: Translator) -> dict[str, str]:
    """The fixed texts of the report in one language."""
    return {key: t(f"reports.doc.{key}") for key in TEXT_KEYS}


async def build_evidence_report(
    session: AsyncSession,
    discrepancy_ids: list[int],
    *,
    media_dir: Path,
    timezone: ZoneInfo,
    now: datetime,
    locale: str = "es",
) -> EvidenceReport:
    """Gather the report of the given discrepancies (unknown ids are left out)."""
    t = translator(locale)
    discrepancies = await repo.discrepancies_by_ids(session, discrepancy_ids)
    spaces = {
        s.space.id: s
        for s in await repo.spaces_with_layers(
            session, space_ids=[d.public_space_id for d in discrepancies]
        )
    }
    contracts = await repo.contracts_by_ids(
        session, [d.contract_id for d in discrepancies if d.contract_id]
    )
    companies = await repo.companies_by_ids(
        session, [d.company_id for d in discrepancies if d.company_id]
    )
    directorates = await repo.directorates_by_id(session)
    colonias = await repo.colonias_by_id(
        session, [d.colonia_id for d in discrepancies if d.colonia_id]
    )
    reports = {
        r.id: r
        for r in await evidence_repo.status_reports_by_ids(
            session, [d.status_report_id for d in discrepancies if d.status_report_id]
        )
    }
    evidence = await evidence_repo.evidence_for_discrepancies(
        session, [d.id for d in discrepancies]
    )
    submission_ids = {e.submission_id for rows in evidence.values() for e in rows}
    submissions = await evidence_repo.submissions_by_ids(session, submission_ids)
    media = await evidence_repo.media_of_submissions(session, submission_ids)
    sections = []
    for d in discrepancies:
        place = spaces.get(d.public_space_id)
        contract_company = contracts.get(d.contract_id or -1)
        contract = contract_company[0] if contract_company else None
        company = companies.get(d.company_id or -1) or (
            contract_company[1] if contract_company else None
        )
        report = reports.get(d.status_report_id or -1)
        rows = evidence.get(d.id, [])
        markers = []
        answers = []
        photos: list[EvidencePhoto] = []
        seen_paths: set[str] = set()
        more = 0
        for row in rows:
            submission = submissions.get(row.submission_id)
            has_location = bool(submission and submission.latitude is not None)
            if submission is not None and submission.latitude is not None:
                markers.append((submission.latitude, float(submission.longitude or 0.0)))
            answers.append(
                EvidenceAnswer(
                    observed_at=_local(row.observed_at, timezone) or "",
                    question=row.question,
                    answer=_answer_text(row.answer),
                    repeat=row.is_repeat,
                    has_location=has_location,
                )
            )
            for photo in media.get(row.submission_id, []):
                if photo.path in seen_paths or photo.mime_type not in PHOTO_TYPES:
                    continue
                seen_paths.add(photo.path)
                file = _inside(media_dir, photo.path)
                if file is None:
                    continue
                if len(photos) >= MAX_PHOTOS_PER_DISCREPANCY:
                    more += 1
                    continue
                photos.append(
                    EvidencePhoto(file, photo.mime_type, _local(row.observed_at, timezone) or "")
                )
        directorate = directorates.get(d.directorate_id or -1)
        sections.append(
            DiscrepancySection(
                id=d.id,
                kind=d.kind,
                kind_label=label(t, f"reports.kind.{d.kind}", d.kind),
                status=d.status,
                status_label=label(t, f"reports.status.{d.status}", d.status),
                space_name=place.space.name if place else str(d.public_space_id),
                space_code=place.space.source_code if place else None,
                colonia=colonias.get(d.colonia_id or -1),
                service=label(t, f"service.{d.service_code}", d.service_code),
                obligation=label(t, f"evidence.obligation.{d.obligation}", d.obligation),
                period=f"{d.period_start.isoformat()} – {d.period_end.isoformat()}",
                reported_status=(
                    label(t, f"reports.reported.{d.reported_status}", d.reported_status)
                    if d.reported_status
                    else None
                ),
                report_source=(
                    label(t, f"reports.source.{report.source}", report.source) if report else None
                ),
                report_note=report.note if report else None,
                contract_number=d.contract_number
                or (contract.contract_number if contract else None),
                contract_amount=money(contract.amount) if contract else None,
                contract_object=contract.object if contract else None,
                contract_date=_day(contract.contract_date) if contract else None,
                procedure_type=contract.procedure_type if contract else None,
                company=company.name if company else None,
                responsible=d.responsible_name,
                directorate=directorate.name if directorate else None,
                guardian_count=d.guardian_count,
                evidence_count=d.evidence_count,
                strength=d.strength,
                strength_label=label(t, f"reports.strength.{d.strength}", d.strength),
                first_observed=_local(d.first_observed_at, timezone) or "",
                last_observed=_local(d.last_observed_at, timezone) or "",
                due=_local(d.due_at, timezone),
                minimap=build_minimap(place.space.geometry_geojson, markers) if place else None,
                answers=answers,
                photos=photos,
                more_photos=more,
            )
        )
    directorate_names = {s.directorate for s in sections if s.directorate}
    texts = report_texts(t)
    title = texts["title_one"] if len(sections) == 1 else texts["title_batch"]
    return EvidenceReport(
        title=title.format(count=len(sections), id=sections[0].id if sections else ""),
        generated_at=_local(now, timezone) or "",
        directorate=directorate_names.pop() if len(directorate_names) == 1 else None,
        locale=locale,
        sections=sections,
        texts=texts,
    )


def _inside(media_dir: Path, relative: str) -> Path | None:
    root = media_dir.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def evidence_report_html(report: EvidenceReport) -> str:
    """The report as one self-contained HTML page (photos and map inlined)."""
    return render_html("evidence_report.html", report=report, t=report.texts)

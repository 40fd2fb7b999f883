"""The evidence report as PDF (fpdf2): one section per discrepancy with its map and photos."""

from __future__ import annotations

from typing import TYPE_CHECKING

from guardianes.services.reports.evidence_report import DiscrepancySection, EvidenceReport
from guardianes.services.reports.rendering import pdf_safe

if TYPE_CHECKING:
    from guardianes.services.reports.pdf import ReportPDF

MAP_SIZE = 55.0
PHOTO_WIDTH = 56.0
PHOTO_HEIGHT = 42.0


def evidence_report_pdf(report: EvidenceReport) -> bytes:
    """Render the report; returns the PDF's bytes."""
    from guardianes.services.reports.pdf import ReportPDF  # fpdf2 loads on the first PDF

    t = report.texts
    pdf = ReportPDF(report.title, t["privacy"])
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.title_block(report.title)
    pdf.field_rows([(t["generated"], report.generated_at), (t["directorate"], report.directorate)])
    pdf.paragraph(t["intro"])
    for index, section in enumerate(report.sections):
        if index:
            pdf.add_page()
        _section(pdf, section, t)
    return pdf.to_bytes()


def _section(pdf: ReportPDF, s: DiscrepancySection, t: dict[str, str]) -> None:
    name = f"{s.space_name} ({s.space_code})" if s.space_code else s.space_name
    pdf.subtitle(f"#{s.id} · {name} · {s.obligation}")
    top = pdf.get_y()
    text_width = pdf.w - pdf.l_margin - pdf.r_margin - MAP_SIZE - 4
    pdf.field_rows(
        [
            (t["kind"], s.kind_label),
            (t["status"], s.status_label),
            (t["colonia"], s.colonia),
            (t["service"], s.service),
            (t["obligation"], s.obligation),
            (t["period"], s.period),
            (t["reported"], s.reported_status or t["reported_none"]),
            (t["source"], s.report_source),
            (t["note"], s.report_note),
            (t["directorate"], s.directorate),
        ],
        width=text_width,
    )
    fields_end = pdf.get_y()
    if s.minimap is not None:
        x = pdf.w - pdf.r_margin - MAP_SIZE
        pdf.minimap(s.minimap, x, top, MAP_SIZE)
        pdf.set_xy(x, top + MAP_SIZE + 0.5)
        pdf.set_font("helvetica", "", 7)
        pdf.multi_cell(MAP_SIZE, 3.4, pdf_safe(t["map_legend"]))
        pdf.set_xy(pdf.l_margin, max(fields_end, pdf.get_y()))
    pdf.subtitle(t["contract"])
    pdf.field_rows(
        [
            (t["company"], s.company or s.responsible),
            (t["contract"], s.contract_number),
            (t["amount"], s.contract_amount),
            (t["contract_date"], s.contract_date),
            (t["procedure"], s.procedure_type),
            (t["object"], s.contract_object),
        ]
    )
    pdf.subtitle(t["evidence"])
    pdf.field_rows(
        [
            (t["guardians"], str(s.guardian_count)),
            (t["cards"], str(s.evidence_count)),
            (t["strength"], s.strength_label),
            (t["first_seen"], s.first_observed),
            (t["last_seen"], s.last_observed),
            (t["due"], s.due),
        ]
    )
    if s.answers:
        pdf.ln(1)
        pdf.grid(
            [t["answer_time"], t["answer_question"], t["answer_value"]],
            [
                [a.observed_at, a.question, a.answer + (f" ({t['repeat']})" if a.repeat else "")]
                for a in s.answers
            ],
            [32.0, 48.0, pdf.w - pdf.l_margin - pdf.r_margin - 80.0],
        )
    if s.photos:
        pdf.subtitle(t["photos"])
        _photos(pdf, s)
        if s.more_photos:
            pdf.paragraph(t["more_photos"].format(count=s.more_photos))


def _photos(pdf: ReportPDF, s: DiscrepancySection) -> None:
    from fpdf.errors import FPDFException  # loaded already: `pdf` is an fpdf2 document

    per_row = 3
    gap = 4.0
    for start in range(0, len(s.photos), per_row):
        if pdf.get_y() + PHOTO_HEIGHT + 8 > pdf.h - 20:
            pdf.add_page()
        y = pdf.get_y()
        for offset, photo in enumerate(s.photos[start : start + per_row]):
            x = pdf.l_margin + offset * (PHOTO_WIDTH + gap)
            try:
                pdf.image(
                    photo.path, x=x, y=y, w=PHOTO_WIDTH, h=PHOTO_HEIGHT, keep_aspect_ratio=True
                )
            except (FPDFException, OSError, ValueError, SyntaxError):
                # A damaged photo must not stop the report; its place stays empty.
                pdf.rect(x, y, PHOTO_WIDTH, PHOTO_HEIGHT)
            pdf.set_xy(x, y + PHOTO_HEIGHT + 0.5)
            pdf.set_font("helvetica", "", 7)
            pdf.cell(PHOTO_WIDTH, 3.5, pdf_safe(photo.observed_at))
        pdf.set_xy(pdf.l_margin, y + PHOTO_HEIGHT + 6)

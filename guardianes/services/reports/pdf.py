"""`ReportPDF`, the fpdf2 document every PDF report draws on.

fpdf2 and fontTools weigh about 30 MiB: the report modules import this one inside the
functions that draw a PDF, so a service that never renders one never loads them.
"""

from __future__ import annotations

from fpdf import FPDF

from guardianes.services.reports.minimap import MiniMap
from guardianes.services.reports.rendering import FONT, PDF_ENCODING, pdf_safe


class ReportPDF(FPDF):
    """An A4 report with a title line in the header and page numbers in the footer."""

    def __init__(self, heading: str, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.core_fonts_encoding = PDF_ENCODING
        self.heading = pdf_safe(heading)
        self.footer_text = pdf_safe(footer_text)
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(15, 15, 15)
        self.set_title(self.heading)
        self.set_creator("Guardianes")

    def header(self) -> None:
        """The report's name on every page."""
        self.set_font(FONT, "B", 9)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, self.heading, new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.ln(1)

    def footer(self) -> None:
        """Page n/N and the privacy line."""
        self.set_y(-13)
        self.set_font(FONT, "", 7)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self.footer_text}  -  {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)

    def title_block(self, text: str, size: int = 15) -> None:
        """A bold title."""
        self.set_font(FONT, "B", size)
        self.multi_cell(0, 7, pdf_safe(text), new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def subtitle(self, text: str) -> None:
        """A section heading."""
        self.ln(2)
        self.set_font(FONT, "B", 11)
        self.set_fill_color(232, 240, 232)
        self.multi_cell(0, 6, pdf_safe(text), fill=True, new_x="LMARGIN", new_y="NEXT")
        self.ln(1)

    def paragraph(self, text: str, size: int = 9) -> None:
        """Plain text."""
        self.set_font(FONT, "", size)
        self.multi_cell(0, 4.6, pdf_safe(text), new_x="LMARGIN", new_y="NEXT")

    def field_rows(self, rows: list[tuple[str, str | None]], width: float | None = None) -> None:
        """Label: value lines, skipping empty values."""
        label_width = 42.0
        total = width or (self.w - self.l_margin - self.r_margin)
        left = self.get_x()
        for name, value in rows:
            if value in (None, ""):
                continue
            self.set_x(left)
            self.set_font(FONT, "B", 9)
            y = self.get_y()
            self.multi_cell(label_width, 4.6, pdf_safe(name))
            after_label = self.get_y()
            self.set_xy(left + label_width, y)
            self.set_font(FONT, "", 9)
            self.multi_cell(total - label_width, 4.6, pdf_safe(value))
            self.set_y(max(after_label, self.get_y()))
        self.set_x(left)

    def grid(self, header: list[str], rows: list[list[str]], widths: list[float]) -> None:
        """A simple table with a shaded header row."""
        self.set_font(FONT, "B", 8)
        self.set_fill_color(238, 238, 238)
        for name, width in zip(header, widths, strict=True):
            self.cell(width, 5.5, pdf_safe(name), border=1, fill=True)
        self.ln()
        self.set_font(FONT, "", 8)
        for row in rows:
            if self.get_y() > self.h - 25:
                self.add_page()
            for value, width in zip(row, widths, strict=True):
                self.cell(width, 5, self.fit(pdf_safe(value), width - 2), border=1)
            self.ln()

    def fit(self, text: str, width: float) -> str:
        """`text` cut to `width` with an ellipsis when it is too long for a table cell."""
        if self.get_string_width(text) <= width:
            return text
        while text and self.get_string_width(text + "...") > width:
            text = text[:-1]
        return text + "..."

    def minimap(self, minimap: MiniMap, x: float, y: float, size: float) -> None:
        """The space's shape as vector polygons, with the evidence locations as red dots."""
        self.set_draw_color(150, 150, 150)
        self.set_fill_color(245, 245, 240)
        self.rect(x, y, size, size, style="DF")
        self.set_draw_color(46, 125, 50)
        self.set_fill_color(156, 204, 156)
        self.set_line_width(0.4)
        for ring in minimap.rings:
            if len(ring) >= 3:
                self.polygon([(x + px * size, y + py * size) for px, py in ring], style="DF")
        for line in minimap.lines:
            self.polyline([(x + px * size, y + py * size) for px, py in line])
        self.set_fill_color(46, 125, 50)
        for px, py in minimap.points:
            self.circle(x + px * size, y + py * size, 1.2, style="F")
        self.set_fill_color(198, 40, 40)
        for px, py in minimap.markers:
            self.circle(x + px * size, y + py * size, 1.2, style="F")
        self.set_line_width(0.2)
        self.set_draw_color(0, 0, 0)

    def to_bytes(self) -> bytes:
        """The finished document."""
        return bytes(self.output())

"""Rendering helpers shared by the reports: Jinja2 for HTML; the PDF class is in `pdf`.

The PDF uses the standard Helvetica font with the Windows-1252 encoding, which holds every
Spanish letter and the usual typographic marks; anything outside it (emoji, other scripts)
is replaced so a guardian's answer can never make a report fail.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
PDF_ENCODING = "windows-1252"
FONT = "helvetica"


@cache
def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(template: str, **values: Any) -> str:
    """Render one of the report templates."""
    return _environment().get_template(template).render(**values)


def pdf_safe(text: object) -> str:
    """Text the PDF's core font can show: unsupported characters become '?'."""
    value = "" if text is None else str(text)
    return value.encode(PDF_ENCODING, errors="replace").decode(PDF_ENCODING)

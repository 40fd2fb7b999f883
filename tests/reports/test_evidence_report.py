"""The evidence report: what it shows, in HTML and PDF, and what it never shows."""

from __future__ import annotations

import httpx

from guardianes.services.reports.minimap import build_minimap, to_svg
from guardianes.services.runtime import Runtime
from tests.api.conftest import BASE, World
from tests.reports.conftest import pdf_text, seed_discrepancy


async def test_the_pdf_names_the_company_contract_obligation_and_reported_status(
    as_viewer: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    response = await as_viewer.get(f"{BASE}/discrepancies/{seeded.discrepancy}/report.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = pdf_text(response.content)
    assert "Jardines Demo del Centro" in text
    assert seeded.contract_number in text
    assert "Reportado como realizado, encontrado sin cumplir" in text
    assert "Dirección de Parques" in text
    assert "Sólida" not in text and "Débil (1 guardián)" in text


async def test_the_html_report_inlines_its_map_and_photos(
    as_viewer: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    response = await as_viewer.get(f"{BASE}/discrepancies/{seeded.discrepancy}/report.html")
    assert response.status_code == 200
    html = response.text
    assert "<svg" in html and "<path" in html
    assert 'src="data:image/png;base64,' in html
    assert "http://" not in html.replace("http://www.w3.org/2000/svg", "")


async def test_no_report_names_a_guardian(
    as_viewer: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    seeded = await seed_discrepancy(api_runtime, world)
    html = (await as_viewer.get(f"{BASE}/discrepancies/{seeded.discrepancy}/report.html")).text
    pdf = pdf_text(
        (await as_viewer.get(f"{BASE}/discrepancies/{seeded.discrepancy}/report.pdf")).content
    )
    for personal in ("Ana", "webchat-Ana"):
        assert personal not in html
        assert personal not in pdf


async def test_a_batch_report_holds_every_discrepancy_asked_for(
    as_viewer: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    first = await seed_discrepancy(api_runtime, world)
    second = await seed_discrepancy(api_runtime, world, obligation="litter")
    response = await as_viewer.get(
        f"{BASE}/reports/evidence.pdf",
        params=[("id", first.discrepancy), ("id", second.discrepancy)],
    )
    assert response.status_code == 200
    text = pdf_text(response.content)
    assert "2 discrepancias" in text
    assert f"#{first.discrepancy}" in text and f"#{second.discrepancy}" in text


async def test_an_unknown_discrepancy_has_no_report(as_viewer: httpx.AsyncClient) -> None:
    response = await as_viewer.get(f"{BASE}/discrepancies/987654/report.pdf")
    assert response.status_code == 404


def test_the_minimap_keeps_the_shape_inside_its_box() -> None:
    square = {
        "type": "Polygon",
        "coordinates": [
            [
                [-106.09, 28.63],
                [-106.08, 28.63],
                [-106.08, 28.64],
                [-106.09, 28.64],
                [-106.09, 28.63],
            ]
        ],
    }
    minimap = build_minimap(square, markers=[(28.635, -106.085)])
    assert minimap is not None
    xs = [x for ring in minimap.rings for x, _ in ring]
    ys = [y for ring in minimap.rings for _, y in ring]
    assert 0 < min(xs) < max(xs) < 1 and 0 < min(ys) < max(ys) < 1
    assert minimap.markers == ((0.5, 0.5),)
    assert to_svg(minimap).startswith("<svg")


def test_a_geometry_that_cannot_be_read_gives_no_map() -> None:
    assert build_minimap({"type": "Polygon", "coordinates": "nonsense"}) is None

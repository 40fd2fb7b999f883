"""The dashboard's pages show what the API's services compute, and its forms act through them."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import select

from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Broadcast
from guardianes.storage.models_evidence import Discrepancy, DiscrepancyEvent
from tests.api.conftest import Tokens, World
from tests.chat_driver import ChatDriver
from tests.staff_dashboard.conftest import Login, page_csrf

PAGES = (
    "/staff",
    "/staff/mapa",
    "/staff/discrepancias",
    "/staff/contratos",
    "/staff/contratos/revision?number=DEMO-01/2024",
    "/staff/colonias",
    "/staff/capacitacion",
    "/staff/guardianes",
    "/staff/avisos",
    "/staff/visitas",
    "/staff/importaciones",
)


@pytest.fixture
async def as_viewer(client: httpx.AsyncClient, login: Login, tokens: Tokens) -> httpx.AsyncClient:
    await login(tokens.viewer)
    return client


@pytest.fixture
async def as_staff(client: httpx.AsyncClient, login: Login, tokens: Tokens) -> httpx.AsyncClient:
    await login(tokens.staff)
    return client


async def _only_discrepancy(runtime: Runtime) -> Discrepancy:
    async with unit_of_work(runtime.sessions) as session:
        return (await session.execute(select(Discrepancy))).scalars().one()


@pytest.mark.parametrize("path", PAGES)
async def test_a_viewer_sees_every_page(
    as_viewer: httpx.AsyncClient, world: World, path: str
) -> None:
    answer = await as_viewer.get(path)

    assert answer.status_code == 200, answer.text
    assert "Content-Security-Policy" in answer.headers
    assert answer.headers["cache-control"] == "no-store"


async def test_a_viewer_sees_no_forms_to_act(as_viewer: httpx.AsyncClient, world: World) -> None:
    page = (await as_viewer.get("/staff/avisos")).text

    assert 'id="composer"' not in page


async def test_the_overview_counts_active_guardians(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    page = (await as_viewer.get("/staff")).text

    assert '<span class="figure">4</span> guardianes activos' in page


async def test_the_map_serves_the_spaces_export_filtered_by_service(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    every = (await as_viewer.get("/staff/mapa/espacios.geojson")).json()["features"]
    garbage = (
        await as_viewer.get("/staff/mapa/espacios.geojson?service=garbage_collection")
    ).json()["features"]

    assert len(every) > len(garbage) > 0
    assert {f["properties"]["service"] for f in garbage} == {"garbage_collection"}
    assert {f["properties"]["latest_card_status"] for f in every} <= {"ok", "failure", "no_cards"}


async def test_the_map_filters_by_contract_and_period(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    url = "/staff/mapa/espacios.geojson?contract=DEMO-01/2024&since=2024-05-01&until=2024-05-31"

    features = (await as_viewer.get(url)).json()["features"]

    assert [f["id"] for f in features] == [world.space]


async def test_the_contract_page_shows_coverage_and_failure_rates(
    as_viewer: httpx.AsyncClient, reported: ChatDriver
) -> None:
    page = (await as_viewer.get("/staff/contratos/revision?number=DEMO-01/2024")).text

    assert "Jardines Demo del Centro" in page
    assert "Porcentaje de fallas por obligación" in page
    assert "<svg" in page  # the chart, drawn on the server


async def test_an_unknown_contract_is_a_404(as_viewer: httpx.AsyncClient) -> None:
    answer = await as_viewer.get("/staff/contratos/revision?number=NO-EXISTE")

    assert answer.status_code == 404


async def test_staff_mark_a_discrepancy_notified_with_a_note(
    as_staff: httpx.AsyncClient, reported: ChatDriver, api_runtime: Runtime
) -> None:
    discrepancy = await _only_discrepancy(api_runtime)
    csrf = await page_csrf(as_staff, f"/staff/discrepancias/{discrepancy.id}")

    answer = await as_staff.post(
        f"/staff/discrepancias/{discrepancy.id}/estado",
        data={"csrf_token": csrf, "status": "notified", "note": "Oficio 12/2026"},
    )

    assert answer.status_code == 303
    async with unit_of_work(api_runtime.sessions) as session:
        events = (await session.execute(select(DiscrepancyEvent))).scalars().all()
    assert [(e.to_status, e.actor, e.note) for e in events][-1] == (
        "notified",
        "staff",
        "Oficio 12/2026",
    )


async def test_a_step_the_lifecycle_forbids_is_a_409(
    as_staff: httpx.AsyncClient, reported: ChatDriver, api_runtime: Runtime
) -> None:
    discrepancy = await _only_discrepancy(api_runtime)
    csrf = await page_csrf(as_staff, f"/staff/discrepancias/{discrepancy.id}")

    answer = await as_staff.post(
        f"/staff/discrepancias/{discrepancy.id}/estado",
        data={"csrf_token": csrf, "status": "open"},
    )

    assert answer.status_code == 409


async def test_the_discrepancy_page_shows_its_evidence_and_map(
    as_viewer: httpx.AsyncClient, reported: ChatDriver, api_runtime: Runtime
) -> None:
    discrepancy = await _only_discrepancy(api_runtime)

    page = (await as_viewer.get(f"/staff/discrepancias/{discrepancy.id}")).text

    assert "Respuestas de los guardianes" in page
    assert "<svg" in page


async def test_the_evidence_pdf_downloads(
    as_viewer: httpx.AsyncClient, reported: ChatDriver, api_runtime: Runtime
) -> None:
    discrepancy = await _only_discrepancy(api_runtime)

    answer = await as_viewer.get(f"/staff/discrepancias/{discrepancy.id}/evidencia.pdf")

    assert answer.status_code == 200
    assert answer.content.startswith(b"%PDF")
    assert "attachment" in answer.headers["content-disposition"]


async def test_sending_to_the_directorate_needs_email_configured(
    as_staff: httpx.AsyncClient, reported: ChatDriver, api_runtime: Runtime
) -> None:
    discrepancy = await _only_discrepancy(api_runtime)
    csrf = await page_csrf(as_staff, f"/staff/discrepancias/{discrepancy.id}")

    answer = await as_staff.post(
        f"/staff/discrepancias/{discrepancy.id}/enviar", data={"csrf_token": csrf}
    )

    assert answer.status_code == 409


async def test_the_audience_count_is_the_colonias_active_guardians(
    as_staff: httpx.AsyncClient, world: World
) -> None:
    csrf = await page_csrf(as_staff, "/staff/avisos")

    answer = await as_staff.post(
        "/staff/avisos/audiencia", data={"csrf_token": csrf, "colonia_id": str(world.centro)}
    )

    assert answer.json() == {"count": 2}  # Ana and Beto


async def test_a_broadcast_to_one_colonia_is_written_and_its_progress_shown(
    as_staff: httpx.AsyncClient, world: World, api_runtime: Runtime
) -> None:
    csrf = await page_csrf(as_staff, "/staff/avisos")

    answer = await as_staff.post(
        "/staff/avisos",
        data={"csrf_token": csrf, "colonia_id": str(world.centro), "text": "Junta el sábado"},
    )
    progress = await as_staff.get(f"{answer.headers['location']}/progreso")

    assert answer.status_code == 303
    async with unit_of_work(api_runtime.sessions) as session:
        broadcast = (await session.execute(select(Broadcast))).scalars().one()
    assert (broadcast.colonia_id, broadcast.text) == (world.centro, "Junta el sábado")
    assert broadcast.created_by == "token:" + broadcast.created_by.split(":")[1] + ":staff"
    assert progress.json()["total"] == 2


async def test_an_empty_broadcast_is_refused(as_staff: httpx.AsyncClient, world: World) -> None:
    csrf = await page_csrf(as_staff, "/staff/avisos")

    answer = await as_staff.post("/staff/avisos", data={"csrf_token": csrf, "text": "   "})

    assert answer.status_code == 422


async def _upload(client: httpx.AsyncClient, kind: str, name: str, csv: str) -> httpx.Response:
    """Post a CSV through the imports page, as its form does."""
    csrf = await page_csrf(client, "/staff/importaciones")
    return await client.post(
        "/staff/importaciones",
        data={"csrf_token": csrf, "kind": kind},
        files={"file": (name, csv.encode(), "text/csv")},
    )


async def test_an_upload_shows_its_import_report(as_staff: httpx.AsyncClient, world: World) -> None:
    csv = "colonia,service,date,count\nCentro,garbage_collection,2024-07,3\n"

    answer = await _upload(as_staff, "complaints", "quejas.csv", csv)

    assert answer.status_code == 200
    assert 'id="import-report"' in answer.text


async def test_a_bad_status_file_imports_nothing_and_lists_its_rows(
    as_staff: httpx.AsyncClient, world: World
) -> None:
    csv = (
        "clave,servicio,inicio,fin,estado\n"
        "NO-EXISTE,green_space_maintenance,2026-11-01,2026-11-30,realizado\n"
    )

    answer = await _upload(as_staff, "status", "estado.csv", csv)

    assert answer.status_code == 422
    assert 'id="import-failure"' in answer.text


async def test_the_colonia_page_offers_the_briefing_pdf(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    page = (await as_viewer.get(f"/staff/colonias/{world.centro}")).text
    pdf = await as_viewer.get(f"/staff/colonias/{world.centro}/briefing.pdf")

    assert "Beto" in page and "líder" in page
    assert pdf.content.startswith(b"%PDF")


async def test_the_dashboard_is_in_spanish_first(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    page = (await as_viewer.get("/staff")).text

    assert '<html lang="es">' in page
    assert ">Resumen</h1>" in page
    assert 'href="/staff?lang=en"' in page


async def test_lang_en_switches_the_page_to_english(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    page = (await as_viewer.get("/staff/discrepancias?status=open&lang=en")).text

    assert '<html lang="en">' in page
    assert ">Discrepancies</h1>" in page
    assert 'href="/staff/discrepancias?status=open&amp;lang=es"' in page


async def test_the_chosen_language_stays_on_the_next_pages(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    await as_viewer.get("/staff?lang=en")

    page = (await as_viewer.get("/staff/colonias")).text

    assert '<html lang="en">' in page


async def test_the_login_form_switches_language_too(client: httpx.AsyncClient) -> None:
    page = (await client.get("/staff/login?lang=en")).text

    assert "Staff token" in page

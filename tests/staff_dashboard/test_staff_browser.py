"""Staff use the dashboard in real headless Chromium: log in, the map, a contract, a
discrepancy marked notified, a broadcast to one colonia with its audience shown first.

One server and one browser serve the whole module (seeded once: the sample data, a staff
token, two guardians of Centro, and a guardian's card reporting a park unmowed); each test
gets a fresh browser context, so it logs in itself. Screenshots go to var/screenshots/.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy import select

from guardianes.app import create_app
from guardianes.config import Settings
from guardianes.domain.enums import StaffTokenRole
from guardianes.runtime.bootstrap import build_runtime, load_demo_data_once
from guardianes.services import staff_tokens
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Colonia, Guardian
from tests.chat_driver import ChatDriver
from tests.conftest import IN_CI, REPO_ROOT, settings_in
from tests.evidence.conftest import fill_park_card, register
from tests.web.conftest import CHROMIUM, CHROMIUM_ARGS, serve

pytestmark = pytest.mark.browser

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PARK = "DEMO-AV-0003"  # its only status row is about irrigation: unmowed is "not reported"
# Every visible form control must be named for assistive technology.
UNLABELLED_JS = """() => [...document.querySelectorAll('input, select, textarea, button')]
  .filter(e => e.type !== 'hidden' && e.offsetParent !== null)
  .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
               && !(e.tagName === 'BUTTON' && e.textContent.trim()))
  .map(e => e.outerHTML)"""


async def _seed(settings: Settings) -> str:
    """Sample data, a staff token (returned), two guardians of Centro, one unmowed park."""
    runtime = await build_runtime(settings)
    try:
        await load_demo_data_once(runtime)
        async with unit_of_work(runtime.sessions) as session:
            _, token = await staff_tokens.create_token(
                session, name="Sindicatura", role=StaffTokenRole.STAFF
            )
            centro = (
                await session.execute(select(Colonia.id).where(Colonia.name == "Centro"))
            ).scalar_one()
            for name in ("Ana", "Beto"):
                session.add(
                    Guardian(
                        channel="telegram",
                        channel_user_id=f"tg-{name}",
                        address=f"tg-{name}",
                        display_name=name,
                        colonia_id=centro,
                        locale="es",
                        consent_at=datetime(2026, 11, 1, tzinfo=UTC),
                        privacy_notice_version="test",
                    )
                )
        park = next(s for s in runtime.gazetteer._spaces if s.code == PARK)  # type: ignore[attr-defined]
        chat = ChatDriver(runtime, user_id="lucia")
        await register(chat, "Lucía")
        await fill_park_card(chat, park, **{"pasto está podado": "No"})
        return token
    finally:
        await runtime.close()


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, staff token) of the seeded app served on loopback."""
    folder = tmp_path_factory.mktemp("dashboard")
    settings = settings_in(
        folder,
        map_tiles_url="",  # no tile server in tests: polygons on the plain background
    )
    # Its own thread: Playwright's sync API may already run an event loop in this one.
    with ThreadPoolExecutor(max_workers=1) as pool:
        token = pool.submit(asyncio.run, _seed(settings)).result()
    with serve(create_app(settings, demo=True), settings) as server:
        yield server.url, token


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Debian Chromium (required under CI=true)."""
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail(f"{CHROMIUM} is required under CI=true (make browser installs it)")
        pytest.skip(f"{CHROMIUM} not installed")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def page(browser: Browser, dashboard: tuple[str, str]) -> Iterator[Page]:
    """A desktop page of a fresh context, logged in as staff by typing the token."""
    base, token = dashboard
    context = browser.new_context(viewport=DESKTOP, locale="es-MX", base_url=base)  # type: ignore[arg-type]
    context.set_default_timeout(20_000)
    opened = context.new_page()
    outside: list[str] = []
    opened.on(
        "request",
        lambda r: outside.append(r.url) if not r.url.startswith((base, "data:")) else None,
    )
    opened.goto("/staff/login")
    opened.get_by_label("Token de personal").fill(token)
    opened.get_by_role("button", name="Entrar").click()
    expect(opened.get_by_role("heading", name="Resumen")).to_be_visible()
    try:
        yield opened
        assert outside == [], "the dashboard must not reach outside hosts"
    finally:
        context.close()


def _shot(page: Page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"staff-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")
    return path


def _nav(page: Page, name: str) -> None:
    page.get_by_role("navigation", name="Secciones del panel").get_by_role(
        "link", name=name, exact=True
    ).click()


def _assert_labelled(page: Page) -> None:
    assert page.evaluate(UNLABELLED_JS) == []


def test_login_works_with_the_keyboard_alone(browser: Browser, dashboard: tuple[str, str]) -> None:
    base, token = dashboard
    context = browser.new_context(viewport=DESKTOP, locale="es-MX", base_url=base)  # type: ignore[arg-type]
    keyboard_page = context.new_page()
    try:
        keyboard_page.goto("/staff/login")
        expect(keyboard_page.get_by_label("Token de personal")).to_be_focused()
        keyboard_page.keyboard.type(token)
        keyboard_page.keyboard.press("Enter")
        expect(keyboard_page.get_by_role("heading", name="Resumen")).to_be_visible()
        keyboard_page.keyboard.press("Tab")
        skip = keyboard_page.get_by_role("link", name="Saltar al contenido")
        expect(skip).to_be_focused()
        keyboard_page.keyboard.press("Enter")
        expect(keyboard_page.locator("main")).to_be_focused()
    finally:
        context.close()


def test_the_overview_shows_the_programme_at_a_glance(page: Page) -> None:
    expect(page.get_by_text("tarjetas esta semana")).to_be_visible()
    expect(page.get_by_text("guardianes activos")).to_be_visible()
    expect(page.get_by_role("navigation", name="Secciones del panel")).to_be_visible()
    _assert_labelled(page)
    _shot(page, "overview")


def test_the_map_draws_the_spaces_colored_by_status(page: Page) -> None:
    _nav(page, "Mapa")
    map_box = page.get_by_role("region", name="Mapa de espacios públicos")
    expect(map_box).to_have_attribute("data-loaded", re.compile(r"^[1-9]\d*$"))
    drawn = int(map_box.get_attribute("data-loaded") or 0)
    expect(page.get_by_role("status")).to_have_text(f"{drawn} espacios en el mapa")
    page.get_by_label("Servicio").select_option("garbage_collection")
    page.get_by_role("button", name="Filtrar").click()
    expect(map_box).not_to_have_attribute("data-loaded", str(drawn))
    assert 0 < int(map_box.get_attribute("data-loaded") or 0) < drawn
    _assert_labelled(page)
    _shot(page, "map")


def test_a_contract_page_shows_coverage_risk_and_failures(page: Page) -> None:
    _nav(page, "Contratos")
    page.get_by_role("link", name="DEMO-01/2024").first.click()
    expect(page.get_by_role("heading", name="Contrato DEMO-01/2024")).to_be_visible()
    expect(page.get_by_text("Jardines Demo del Centro").first).to_be_visible()
    expect(page.get_by_role("heading", name="Indicadores de riesgo (IMCO)")).to_be_visible()
    expect(page.locator("figure.chart svg")).to_be_visible()
    _shot(page, "contract")


def test_staff_mark_a_discrepancy_notified(page: Page) -> None:
    _nav(page, "Discrepancias")
    page.locator("table a").first.click()
    expect(page.get_by_role("heading", name=re.compile(r"^Discrepancia #\d+"))).to_be_visible()
    page.get_by_label("Nuevo estado").select_option("notified")
    page.get_by_label("Nota (se les dice a los guardianes)").fill("Oficio SC/123/2026")
    _assert_labelled(page)
    page.get_by_role("button", name="Guardar el estado").click()
    expect(page.get_by_role("status")).to_contain_text("Estado guardado")
    expect(page.locator("#current-status")).to_have_text("notificada")
    expect(page.get_by_text("Oficio SC/123/2026")).to_be_visible()
    _shot(page, "discrepancy")


def test_a_broadcast_to_one_colonia_shows_its_audience_before_sending(page: Page) -> None:
    _nav(page, "Avisos")
    audience = page.locator("#audience")
    expect(audience).to_have_attribute("data-count", re.compile(r"^\d+$"))
    page.get_by_label("Colonia").select_option(label="Centro")
    expect(audience).to_have_text("Llegará a 2 guardianes activos.")
    page.get_by_label("Mensaje").fill("Junta de guardianes el sábado a las 10 en el parque.")
    _assert_labelled(page)
    _shot(page, "broadcast-composer")
    page.get_by_role("button", name="Enviar el aviso").click()
    expect(page.get_by_role("heading", name=re.compile(r"^Aviso #\d+"))).to_be_visible()
    expect(page.get_by_label("Avance del envío")).to_be_visible()
    expect(page.locator("#progress-text")).to_have_text(re.compile(r"^\d+ / 2$"))
    _shot(page, "broadcast-progress")


@pytest.mark.parametrize(
    ("link", "shot"),
    [
        ("Colonias", "colonias"),
        ("Capacitación", "training"),
        ("Guardianes", "guardians"),
        ("Visitas", "visits"),
        ("Importar", "imports"),
    ],
)
def test_every_other_page_has_labelled_controls(page: Page, link: str, shot: str) -> None:
    _nav(page, link)
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    _assert_labelled(page)
    _shot(page, shot)


def test_the_english_switch_turns_the_dashboard_to_english(page: Page) -> None:
    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.get_by_role("navigation", name="Dashboard sections").get_by_role(
        "link", name="Discrepancies", exact=True
    ).click()
    expect(page.get_by_role("heading", name="Discrepancies", level=1)).to_be_visible()
    _assert_labelled(page)
    _shot(page, "english")
    page.get_by_role("link", name="Español").click()
    expect(page.get_by_role("heading", name="Discrepancias", level=1)).to_be_visible()

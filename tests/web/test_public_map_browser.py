"""The public map in real headless Chromium on the real Chihuahua layers.

Tiles cannot load here (no internet in tests): the map must fall back to its plain
background and still show every space. Screenshots go to var/screenshots/ (gitignored).
"""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import REPO_ROOT
from tests.web.conftest import MAP_TELEGRAM_BOT, LiveServer

SCREENSHOTS = REPO_ROOT / "var" / "screenshots"
CONTRACT = "O.M.-38/2020-D"
COMPANY = "Constructora Pewis"


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.screenshot(path=str(path), full_page=True)
    print(f"screenshot: {path}")


def _spaces_in(server: LiveServer) -> int:
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True) as connection:
        return int(connection.execute("SELECT COUNT(*) FROM public_spaces").fetchone()[0])


def _a_park_of_the_contract(server: LiveServer) -> tuple[int, str]:
    with sqlite3.connect(f"file:{server.database}?mode=ro", uri=True) as connection:
        row = connection.execute(
            "SELECT s.id, s.name FROM public_spaces s JOIN layers l ON l.id = s.layer_id "
            "WHERE l.contract_number = ? ORDER BY s.id LIMIT 1",
            (CONTRACT,),
        ).fetchone()
    return int(row[0]), str(row[1])


def _open_map(page: Page, server: LiveServer, path: str = "/mapa") -> None:
    page.goto(server.url + path)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")


@pytest.mark.browser
def test_the_map_shows_every_real_space_on_a_plain_background_when_tiles_fail(
    map_phone: Page, chihuahua_server: LiveServer
) -> None:
    page = map_phone
    _open_map(page, chihuahua_server)
    expect(page.locator("html")).to_have_attribute("lang", "es")
    drawn = int(page.locator("body").get_attribute("data-features") or 0)
    assert drawn == _spaces_in(chihuahua_server) > 400
    expect(page.locator("#map")).to_have_class(re.compile(r"\bplain\b"))
    expect(page.locator("#status")).to_contain_text("fondo liso")
    _shot(page, "map-phone.png")


@pytest.mark.browser
def test_a_click_on_a_park_of_the_contract_shows_constructora_pewis_and_report_links(
    map_phone: Page, chihuahua_server: LiveServer
) -> None:
    page = map_phone
    space_id, name = _a_park_of_the_contract(chihuahua_server)
    _open_map(page, chihuahua_server)
    page.evaluate(
        "id => { const m = window.guardianesMap; const f = m.features().find(x => x.id === id);"
        " m.map.fitBounds(L.geoJSON(f).getBounds(), {maxZoom: 17, animate: false}); }",
        space_id,
    )
    page.wait_for_function("() => window.guardianesMap.settled()")
    point = page.evaluate("id => window.guardianesMap.pointOf(id)", space_id)
    page.mouse.click(point["x"], point["y"])
    panel = page.locator("#panel")
    expect(panel.locator("h2")).to_have_text(name)
    expect(panel).to_contain_text(COMPANY)
    expect(panel).to_contain_text(CONTRACT)
    expect(panel).to_contain_text("Obligaciones")
    telegram = panel.get_by_role("link", name="Reportar en Telegram")
    expect(telegram).to_have_attribute(
        "href", f"https://t.me/{MAP_TELEGRAM_BOT}?start=space_{space_id}"
    )
    whatsapp = panel.get_by_role("link", name="Reportar en WhatsApp")
    href = whatsapp.get_attribute("href") or ""
    assert href.startswith("https://wa.me/526141234567?text=")
    assert f"space_{space_id}" in parse_qs(urlparse(href).query)["text"][0]
    assert page.url.endswith(f"/mapa/espacios/{space_id}")
    _shot(page, "map-phone-park.png")


@pytest.mark.browser
def test_search_by_company_works_with_the_keyboard_alone(
    map_desktop: Page, chihuahua_server: LiveServer
) -> None:
    page = map_desktop
    _open_map(page, chihuahua_server)
    page.keyboard.press("Tab")  # the skip link comes first
    expect(page.locator(".skip")).to_be_focused()
    page.locator("#search").focus()
    page.keyboard.type("pewis")
    page.keyboard.press("Enter")
    first = page.locator("#results button").first
    expect(first).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#panel")).to_contain_text(COMPANY)
    expect(page.locator("#panel")).to_be_focused()
    _shot(page, "map-desktop-search.png")


@pytest.mark.browser
def test_where_am_i_centres_the_map_on_the_browser_location(
    map_phone: Page, chihuahua_server: LiveServer
) -> None:
    page = map_phone
    _open_map(page, chihuahua_server)
    page.get_by_role("button", name="¿Dónde estoy?").click()
    expect(page.locator("#status")).to_have_text("Este punto azul es donde estás.")
    center = page.evaluate("() => window.guardianesMap.map.getCenter()")
    assert abs(center["lat"] - 28.6353) < 0.001 and abs(center["lng"] + 106.0889) < 0.001


@pytest.mark.browser
def test_the_shareable_page_of_one_space_reads_in_english_too(
    map_phone: Page, chihuahua_server: LiveServer
) -> None:
    page = map_phone
    space_id, name = _a_park_of_the_contract(chihuahua_server)
    _open_map(page, chihuahua_server, f"/mapa/espacios/{space_id}?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#panel h2")).to_have_text(name)
    expect(page.locator("#panel")).to_contain_text("Report on Telegram")
    expect(page.locator("#panel")).to_contain_text(COMPANY)
    _shot(page, "map-phone-space-en.png")


# Every control has a name a screen reader can say, images have alt text, the page has a
# language, one main landmark and one h1; checked in the browser's own accessibility view.
A11Y_PROBLEMS_JS = """() => {
  const problems = [];
  const named = el => (el.getAttribute('aria-label') || el.textContent || el.title ||
    (el.id && document.querySelector(`label[for="${el.id}"]`)?.textContent) || '').trim();
  for (const el of document.querySelectorAll('a[href], button, input, select, textarea')) {
    if (el.closest('[hidden]')) continue;
    if (!named(el)) problems.push('unnamed ' + el.outerHTML.slice(0, 80));
  }
  for (const img of document.querySelectorAll('img')) {
    if (!img.hasAttribute('alt')) problems.push('img without alt ' + img.src);
  }
  if (!document.documentElement.lang) problems.push('no lang');
  if (document.querySelectorAll('main').length !== 1) problems.push('main landmarks');
  if (document.querySelectorAll('h1').length !== 1) problems.push('h1 count');
  if (!document.querySelector('#map[aria-label]')) problems.push('map without label');
  return problems;
}"""


@pytest.mark.browser
def test_every_control_of_the_map_has_a_label(
    map_desktop: Page, chihuahua_server: LiveServer
) -> None:
    page = map_desktop
    space_id, _ = _a_park_of_the_contract(chihuahua_server)
    _open_map(page, chihuahua_server, f"/mapa/espacios/{space_id}")
    assert page.evaluate(A11Y_PROBLEMS_JS) == []
    _shot(page, "map-desktop-space.png")

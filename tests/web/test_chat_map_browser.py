"""In real Chromium: the web chat's location picker has the public map's base map.

Leaflet served by the app, tiles from GUARDIANES_MAP_TILES_URL with their attribution and,
when tiles cannot load (always here: no internet in tests), the same plain background.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import REPO_ROOT
from tests.web.conftest import UNREACHABLE_TILES, LiveServer

SCREENSHOT = REPO_ROOT / "var" / "screenshots" / "chat-location-map.png"
PARK = "Parque Demo Lerdo"


def _press(page: Page, label: str) -> None:
    button = page.locator("li.bubble.bot .choices button:enabled", has_text=label).last
    expect(button).to_be_visible()
    button.click()


def _open_location_question(page: Page, server: LiveServer) -> None:
    page.goto(f"{server.url}/chat")
    _press(page, "Español")
    _press(page, "Sí, acepto")
    expect(page.locator("li.bubble.bot").last).to_contain_text("¿Cómo te llamas?")
    page.locator("#text").fill("Ana Prueba")
    page.locator("#send").click()
    expect(page.locator("#location-panel")).to_be_visible()


@pytest.mark.browser
def test_the_location_picker_draws_the_spaces_on_the_plain_background_when_tiles_fail(
    phone_page: Page, live_server: LiveServer
) -> None:
    page = phone_page
    outside: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((live_server.url, "data:")) else outside.append(r.url),
    )
    _open_location_question(page, live_server)
    picker = page.locator("#map")
    expect(picker).to_have_class(re.compile(r"\bleaflet-container\b"))
    expect(picker).to_have_class(re.compile(r"\bplain\b"))
    expect(picker.locator(".leaflet-control-attribution")).to_contain_text("OpenStreetMap")
    expect(picker.locator("path.space", has=page.locator("title", has_text=PARK))).to_be_visible()
    tile_host = UNREACHABLE_TILES.split("/{z}")[0]
    assert all(url.startswith(tile_host) for url in outside), outside
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT))


@pytest.mark.browser
def test_a_tap_on_the_picker_chooses_that_point(phone_page: Page, live_server: LiveServer) -> None:
    page = phone_page
    _open_location_question(page, live_server)
    park = page.locator("#map path.space", has=page.locator("title", has_text=PARK)).first
    expect(park).to_be_visible()
    box = park.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    expect(page.locator("#coords")).to_have_value(re.compile(r"^28\.63\d*, -106\.08\d*$"))
    expect(page.locator("#map .marker")).to_be_attached()
    page.get_by_role("button", name="Acercar").click()
    expect(page.locator("#map .marker")).to_be_attached()

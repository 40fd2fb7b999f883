"""The chat page: Spanish by default, English on request, own assets (and map tiles), a cookie."""

from __future__ import annotations

import re

import httpx

from guardianes.bot.webchat.routes import COOKIE_NAME


async def test_the_page_is_in_spanish_by_default(client: httpx.AsyncClient) -> None:
    response = await client.get("/chat")
    assert response.status_code == 200
    assert '<html lang="es">' in response.text
    assert "Enviar ubicación" in response.text


async def test_the_page_is_in_english_with_lang_en(client: httpx.AsyncClient) -> None:
    response = await client.get("/chat", params={"lang": "en"})
    assert '<html lang="en">' in response.text
    assert "Send location" in response.text


async def test_the_page_gives_the_browser_a_chat_cookie(client: httpx.AsyncClient) -> None:
    response = await client.get("/chat")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{COOKIE_NAME}=")
    assert "httponly" in cookie.lower()
    assert "samesite=lax" in cookie.lower()


async def test_the_page_keeps_an_existing_chat_cookie(client: httpx.AsyncClient) -> None:
    await client.get("/chat")
    again = await client.get("/chat")
    assert "set-cookie" not in again.headers


async def test_the_page_loads_nothing_from_other_hosts_but_the_map_tiles(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/chat")
    # The location picker's base map: the tile URL and its attribution, as on /mapa.
    page = re.sub(r' data-(tiles|attribution)="[^"]*"', "", response.text)
    assert "http://" not in page.replace('xmlns="http://www.w3.org', "")
    assert "https://" not in page
    policy = response.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "img-src 'self' blob: data: https://tile.openstreetmap.org;" in policy


async def test_the_location_picker_uses_the_configured_tiles(client: httpx.AsyncClient) -> None:
    page = (await client.get("/chat")).text
    assert 'data-tiles="https://tile.openstreetmap.org/{z}/{x}/{y}.png"' in page
    assert 'src="/static/leaflet/leaflet.js"' in page
    assert 'src="/mapa/static/basemap.js' in page


async def test_the_script_and_style_are_served(client: httpx.AsyncClient) -> None:
    script = await client.get("/chat/static/chat.js")
    style = await client.get("/chat/static/chat.css")
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert style.status_code == 200


async def test_only_listed_static_files_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/chat/static/..%2Fchat.py")
    assert response.status_code == 404


async def test_spaces_geojson_lists_the_sample_spaces(client: httpx.AsyncClient) -> None:
    response = await client.get("/chat/api/spaces.geojson")
    assert response.status_code == 200
    collection = response.json()
    names = {f["properties"]["name"] for f in collection["features"]}
    assert "Parque Demo Lerdo" in names
    assert all(f["geometry"]["type"] for f in collection["features"])

"""The public map's HTTP side: no login, GeoJSON with ETag, one space, Leaflet served locally."""

from __future__ import annotations

import httpx

from guardianes.locales import translator
from guardianes.services.public_map import band_of, report_links, simplify, small_as_point


async def test_the_map_page_needs_no_login_and_loads_leaflet_from_the_app(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/mapa")
    assert page.status_code == 200
    assert '<html lang="es">' in page.text
    assert "/static/leaflet/leaflet.js" in page.text
    assert "unpkg" not in page.text and "cdn" not in page.text.lower()
    script = await client.get("/static/leaflet/leaflet.js")
    assert script.status_code == 200 and b"Leaflet" in script.content[:400]
    assert (await client.get("/static/leaflet/images/marker-icon.png")).status_code == 200


async def test_only_leaflets_own_files_are_served(client: httpx.AsyncClient) -> None:
    assert (await client.get("/static/leaflet/../__init__.py")).status_code == 404
    assert (await client.get("/static/leaflet/leaflet-src.js.map")).status_code == 404


async def test_the_page_allows_images_from_the_tile_server_only(client: httpx.AsyncClient) -> None:
    policy = (await client.get("/mapa")).headers["content-security-policy"]
    assert "img-src 'self' data: https://tile.openstreetmap.org" in policy
    assert "script-src 'self'" in policy


async def test_the_english_switch_gives_the_page_in_english(client: httpx.AsyncClient) -> None:
    page = await client.get("/mapa?lang=en")
    assert '<html lang="en">' in page.text and "Watch your city" in page.text


async def test_geojson_has_every_space_with_its_status_and_no_personal_data(
    client: httpx.AsyncClient,
) -> None:
    answer = await client.get("/mapa/api/espacios.geojson")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    features = answer.json()["features"]
    assert features
    props = features[0]["properties"]
    assert props["latest_card_status"] in {"no_cards", "ok", "failure"}
    assert {"name", "service", "responsible", "point"} <= set(props)
    assert "latest_card" not in props  # the form id is staff detail, not needed here


async def test_an_unchanged_geojson_is_answered_304_to_its_etag(client: httpx.AsyncClient) -> None:
    first = await client.get("/mapa/api/espacios.geojson?zoom=14")
    etag = first.headers["etag"]
    again = await client.get("/mapa/api/espacios.geojson?zoom=14", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag


async def test_each_zoom_band_has_its_own_geometry_and_etag(client: httpx.AsyncClient) -> None:
    low = await client.get("/mapa/api/espacios.geojson?zoom=10")
    high = await client.get("/mapa/api/espacios.geojson?zoom=18")
    assert low.headers["etag"] != high.headers["etag"]
    assert len(low.content) <= len(high.content)


async def test_a_bad_zoom_or_space_is_a_4xx_with_a_reason(client: httpx.AsyncClient) -> None:
    assert (await client.get("/mapa/api/espacios.geojson?zoom=99")).status_code == 422
    missing = await client.get("/mapa/api/espacios/999999")
    assert missing.status_code == 404 and missing.json()["detail"] == "No existe ese espacio."
    assert (await client.get("/mapa/espacios/0")).status_code == 422


async def test_one_space_tells_who_answers_and_what_they_must_do(
    client: httpx.AsyncClient,
) -> None:
    first = (await client.get("/mapa/api/espacios.geojson")).json()["features"][0]
    space = (await client.get(f"/mapa/api/espacios/{first['id']}")).json()
    assert space["name"] == first["properties"]["name"]
    assert space["obligations"]
    assert space["latest_status_label"]
    page = await client.get(f"/mapa/espacios/{first['id']}")
    assert page.status_code == 200 and space["name"] in page.text


def test_report_links_open_the_bot_with_the_space_chosen() -> None:
    telegram, whatsapp = report_links(
        12,
        "Parque Lerdo",
        telegram_bot="@GuardianesBot",
        whatsapp_number="+52 614 1",
        t=translator("es"),
    )
    assert telegram == "https://t.me/GuardianesBot?start=space_12"
    assert (
        whatsapp == "https://wa.me/526141?text=Quiero%20reportar%20Parque%20Lerdo%20%28space_12%29"
    )
    assert report_links(1, "x", telegram_bot=None, whatsapp_number=None, t=translator("es")) == (
        None,
        None,
    )


def test_simplification_keeps_a_valid_smaller_polygon() -> None:
    ring = [[-106.0 + 0.00001 * i, 28.6 + (0.000001 if i % 2 else 0)] for i in range(200)]
    ring += [[-106.0, 28.61], ring[0]]
    simpler = simplify({"type": "Polygon", "coordinates": [ring]}, 0.0002)
    assert len(simpler["coordinates"][0]) < 20
    assert band_of(10) == "low" and band_of(14) == "mid" and band_of(18) == "high"


async def test_the_geojson_is_sent_compressed_to_a_browser_that_accepts_gzip(
    client: httpx.AsyncClient,
) -> None:
    plain = await client.get("/mapa/api/espacios.geojson", headers={"Accept-Encoding": "identity"})
    packed = await client.get("/mapa/api/espacios.geojson", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["etag"] == plain.headers["etag"]
    assert packed.json() == plain.json()  # httpx decompresses it
    assert int(packed.headers["content-length"]) < len(plain.content)


def test_coordinates_keep_five_decimals() -> None:
    ring = [[-106.0123456, 28.6123456], [-106.0, 28.6123456], [-106.0, 28.6], [-106.0123456, 28.6]]
    simpler = simplify({"type": "Polygon", "coordinates": [[*ring, ring[0]]]}, 0.00001)
    assert all(round(value, 5) == value for point in simpler["coordinates"][0] for value in point)


def test_a_space_too_small_for_the_low_zoom_comes_as_its_inside_point() -> None:
    park = {  # about 50 m across
        "type": "Polygon",
        "coordinates": [[[-106.0, 28.6], [-106.0005, 28.6], [-106.0005, 28.6004], [-106.0, 28.6]]],
    }
    dot = small_as_point(park, "low")
    assert dot is not None and dot["type"] == "Point"
    assert small_as_point(park, "mid") is None


def test_a_space_big_enough_keeps_its_shape_at_low_zoom() -> None:
    route = {  # about 1 km across
        "type": "Polygon",
        "coordinates": [[[-106.0, 28.6], [-106.01, 28.6], [-106.01, 28.61], [-106.0, 28.6]]],
    }
    assert small_as_point(route, "low") is None

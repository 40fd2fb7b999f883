"""Two cities in one deployment: Chihuahua's real data beside Cuauhtémoc's colonias and a
generated layer of green spaces; each guardian sees only their own city, and staff ask
"who is responsible here?" anywhere."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from shapely.geometry import shape
from sqlalchemy import select

from guardianes.app import create_app
from guardianes.config import Settings
from guardianes.domain.enums import StaffTokenRole
from guardianes.geo.normalize import normalize_name
from guardianes.importers import service
from guardianes.importers.colonias import ColoniaRecord, ColoniasFile
from guardianes.importers.layers import LayerSpec
from guardianes.locales import translator
from guardianes.services import staff_tokens
from guardianes.services.runtime import Runtime, reload_gazetteer
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Colonia, Guardian, Layer, PublicSpace
from guardianes.storage.repositories.cities import ensure_city
from tests.api.conftest import BASE, bearer
from tests.chat_driver import ChatDriver

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
CHIHUAHUA_DIR = DATA / "chihuahua"
CUAUHTEMOC_COLONIAS = DATA / "other-cities" / "cdmx_cuauhtemoc_colonias.geojson"
GREEN_COLONIAS = ("ROMA NORTE", "CONDESA", "JUÁREZ")  # a generated park in each
ALCALDIA = "Alcaldía Cuauhtémoc"
ES = translator("es")

pytestmark = pytest.mark.skipif(
    not (CHIHUAHUA_DIR / "layers.csv").exists() or not CUAUHTEMOC_COLONIAS.exists(),
    reason="the shared real data is not beside the worktree",
)


def cuauhtemoc_colonias() -> ColoniasFile:
    """The Cuauhtémoc GeoJSON as colonia records (nom_asen names each colonia).

    Read here until `import colonias FILE.geojson` reads GeoJSON itself."""
    data = json.loads(CUAUHTEMOC_COLONIAS.read_text(encoding="utf-8"))
    records = tuple(
        ColoniaRecord(
            name=feature["properties"]["nom_asen"],
            normalized_name=normalize_name(feature["properties"]["nom_asen"]),
            geometry=shape(feature["geometry"]),
            source=f"feature {number}",
        )
        for number, feature in enumerate(data["features"], start=1)
    )
    return ColoniasFile(path=CUAUHTEMOC_COLONIAS, records=records, problems=())


def green_spaces_kml(folder: Path, colonias: ColoniasFile) -> tuple[Path, dict[str, tuple]]:
    """A KML with a small square park inside each of GREEN_COLONIAS; returns its path and
    each park's (lat, lon) centre by colonia."""
    by_name = {r.normalized_name: r for r in colonias.records}
    placemarks, centres = [], {}
    for number, colonia in enumerate(GREEN_COLONIAS, start=1):
        record = by_name[normalize_name(colonia)]
        assert record.geometry is not None
        centre = record.geometry.representative_point()
        lon, lat, d = centre.x, centre.y, 0.0004
        ring = [(lon - d, lat - d), (lon + d, lat - d), (lon + d, lat + d), (lon - d, lat + d)]
        ring.append(ring[0])
        coordinates = " ".join(f"{x:.7f},{y:.7f},0" for x, y in ring)
        placemarks.append(
            f"<Placemark><name>Jardín {colonia.title()}</name>"
            f"<ExtendedData><Data name='CVE'><value>CUA-{number:02d}</value></Data></ExtendedData>"
            f"<Polygon><outerBoundaryIs><LinearRing><coordinates>{coordinates}"
            f"</coordinates></LinearRing></outerBoundaryIs></Polygon></Placemark>"
        )
        centres[colonia] = (lat, lon)
    path = folder / "areas_verdes_cuauhtemoc.kml"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<kml xmlns="http://www.opengis.net/kml/2.2"><Document><name>Áreas verdes</name>'
        + "".join(placemarks)
        + "</Document></kml>",
        encoding="utf-8",
    )
    return path, centres


@dataclass(frozen=True)
class TwoCities:
    """The running app with both cities loaded, and places to point at."""

    app: FastAPI
    runtime: Runtime
    chihuahua_id: int
    cuauhtemoc_id: int
    chihuahua_park: PublicSpace
    chihuahua_colonia: str
    cuauhtemoc_parks: dict[str, tuple]


@pytest.fixture
async def two_cities(settings: Settings, tmp_path: Path) -> AsyncIterator[TwoCities]:
    """Chihuahua (real contracts and layers) and Cuauhtémoc (real colonias, generated parks)."""
    app = create_app(settings, demo=False)
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        colonias = cuauhtemoc_colonias()
        kml, parks = green_spaces_kml(tmp_path, colonias)
        async with unit_of_work(runtime.sessions) as session:
            chihuahua = await ensure_city(session, "Chihuahua")
            await service.import_contracts(
                session, CHIHUAHUA_DIR / "contratos_municipio_2018_2020.csv", city_id=chihuahua.id
            )
            await service.import_layers_csv(
                session, CHIHUAHUA_DIR / "layers.csv", city_id=chihuahua.id
            )
            cuauhtemoc = await ensure_city(session, "Cuauhtémoc")
            await service.import_colonia_records(session, colonias, city_id=cuauhtemoc.id)
            await service.import_kml_layer(
                session,
                LayerSpec(path=kml, service="green_space_maintenance", responsible=ALCALDIA),
                city_id=cuauhtemoc.id,
            )
            park = await session.scalar(
                select(PublicSpace)
                .join(Layer, PublicSpace.layer_id == Layer.id)
                .where(Layer.city_id == chihuahua.id, Layer.file_name.like("parques_partida13%"))
                .order_by(PublicSpace.id)
            )
            assert park is not None
            # A Chihuahua colonia whose name Cuauhtémoc has not.
            theirs = {r.normalized_name for r in colonias.records}
            colonia = next(
                c.name
                for c in await session.scalars(
                    select(Colonia)
                    .where(Colonia.city_id == chihuahua.id)
                    .order_by(Colonia.normalized_name)
                )
                if c.normalized_name not in theirs
            )
            ids = (chihuahua.id, cuauhtemoc.id)
        await reload_gazetteer(runtime)
        yield TwoCities(app, runtime, *ids, park, colonia, parks)


async def register(chat: ChatDriver, name: str) -> None:
    """Greeting, language, consent and name: up to the city question."""
    await chat.text("hola")
    await chat.press("Español")
    await chat.press("Sí, acepto")
    await chat.text(name)


async def who_is_responsible(chat: ChatDriver, lat: float, lon: float) -> str:
    """Ask the chat who answers for the place at a point."""
    await chat.press("responsable")
    return chat.all_text(await chat.location(lat, lon))


async def guardian(runtime: Runtime, user_id: str) -> Guardian:
    async with runtime.sessions() as session:
        row = await session.scalar(select(Guardian).where(Guardian.channel_user_id == user_id))
    assert row is not None
    return row


async def test_the_greeting_names_both_cities_and_newcomers_are_asked_theirs(two_cities):
    chat = ChatDriver(two_cities.runtime, user_id="ana")
    greeting = chat.all_text(await chat.text("hola"))
    assert "Chihuahua / Cuauhtémoc" in greeting
    await chat.press("Español")
    await chat.press("Sí, acepto")
    await chat.text("Ana")
    question = chat.last_question()
    assert question.text == ES("cities.ask")
    assert [c.label for c in question.choices] == ["Chihuahua", "Cuauhtémoc"]


async def test_a_location_inside_cuauhtemoc_settles_the_city_and_the_colonia(two_cities):
    chat = ChatDriver(two_cities.runtime, user_id="beto")
    await register(chat, "Beto")
    lat, lon = two_cities.cuauhtemoc_parks["ROMA NORTE"]
    await chat.location(lat, lon)
    await chat.press("Roma Norte")
    row = await guardian(two_cities.runtime, "beto")
    assert row.city_id == two_cities.cuauhtemoc_id
    assert "Cuauhtémoc" in chat.all_text()


async def test_each_guardian_sees_only_their_own_citys_spaces(two_cities):
    ana = ChatDriver(two_cities.runtime, user_id="ana")
    await register(ana, "Ana")
    await ana.press("Chihuahua")
    await ana.text(two_cities.chihuahua_colonia)
    beto = ChatDriver(two_cities.runtime, user_id="beto")
    await register(beto, "Beto")
    await beto.press("Cuauhtémoc")
    await beto.text("Condesa")  # typed exactly: chosen at once
    park = two_cities.chihuahua_park
    roma = two_cities.cuauhtemoc_parks["ROMA NORTE"]

    assert park.name in await who_is_responsible(ana, park.centroid_lat, park.centroid_lon)
    assert ES("resp.nothing_near") in await who_is_responsible(ana, *roma)
    beto_answer = await who_is_responsible(beto, *roma)
    assert "Jardín Roma Norte" in beto_answer and ALCALDIA in beto_answer
    assert ES("resp.nothing_near") in await who_is_responsible(
        beto, park.centroid_lat, park.centroid_lon
    )


async def test_colonia_names_are_matched_within_the_guardians_city_only(two_cities):
    chat = ChatDriver(two_cities.runtime, user_id="carla")
    await register(chat, "Carla")
    await chat.press("Cuauhtémoc")
    await chat.text(two_cities.chihuahua_colonia)
    proposed = [c.label for c in chat.last_question().choices]
    assert two_cities.chihuahua_colonia not in proposed  # not found, or look-alikes of Cuauhtémoc
    await chat.text("Juárez")
    row = await guardian(two_cities.runtime, "carla")
    async with two_cities.runtime.sessions() as session:
        colonia = await session.get(Colonia, row.colonia_id)
    assert colonia is not None and colonia.city_id == two_cities.cuauhtemoc_id
    assert row.city_id == two_cities.cuauhtemoc_id


async def test_staff_get_the_chats_answer_at_any_point_of_either_city(two_cities):
    async with unit_of_work(two_cities.runtime.sessions) as session:
        _, token = await staff_tokens.create_token(
            session, name="viewer", role=StaffTokenRole.VIEWER
        )
    transport = httpx.ASGITransport(app=two_cities.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as http:
        http.headers.update(bearer(token))
        lat, lon = two_cities.cuauhtemoc_parks["CONDESA"]
        there = (await http.get(f"{BASE}/spaces/at", params={"lat": lat, "lon": lon})).json()
        park = two_cities.chihuahua_park
        here = (
            await http.get(
                f"{BASE}/spaces/at", params={"lat": park.centroid_lat, "lon": park.centroid_lon}
            )
        ).json()
        nowhere = await http.get(f"{BASE}/spaces/at", params={"lat": 0, "lon": 0})
        unknown = await http.get(
            f"{BASE}/spaces/at", params={"lat": lat, "lon": lon, "city": "Atlantis"}
        )

    assert there["city"]["name"] == "Cuauhtémoc"
    assert there["colonia"] == "CONDESA"
    assert there["spaces"][0]["name"] == "Jardín Condesa"
    assert there["spaces"][0]["responsible"][0]["name"] == ALCALDIA
    assert here["city"]["name"] == "Chihuahua"
    assert here["spaces"][0]["space_id"] == park.id
    # Inside a park there is also the garbage route area around it, with its own party.
    services = {p["service"] for s in here["spaces"] for p in s["responsible"]}
    assert services == {"green_space_maintenance", "garbage_collection"}
    assert nowhere.status_code == 200 and nowhere.json()["spaces"] == []
    assert unknown.status_code == 404


async def test_two_cities_may_both_have_a_colonia_called_centro(two_cities):
    async with unit_of_work(two_cities.runtime.sessions) as session:
        centro = ColoniasFile(
            path=Path("centro.csv"),
            records=(ColoniaRecord("Centro", "CENTRO", None, "line 2"),),
            problems=(),
        )
        for city_id in (two_cities.chihuahua_id, two_cities.cuauhtemoc_id):
            await service.import_colonia_records(session, centro, city_id=city_id)
    async with two_cities.runtime.sessions() as session:
        rows = (
            await session.scalars(
                select(Colonia.city_id).where(Colonia.normalized_name == "CENTRO")
            )
        ).all()
    assert sorted(rows) == sorted([two_cities.chihuahua_id, two_cities.cuauhtemoc_id])

"""POST /api/v1/imports with other cities' formats: all or nothing, problems listed."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.api.conftest import BASE
from tests.api.evidence_support import as_staff
from tests.importers.conftest import OTHER_CITIES, parks_kml

__all__ = ["as_staff"]


async def test_geojson_colonias_upload_creates_them(as_staff: httpx.AsyncClient) -> None:
    path = OTHER_CITIES / "cdmx_cuauhtemoc_colonias.geojson"
    files = {"file": (path.name, path.read_bytes(), "application/geo+json")}
    answer = await as_staff.post(
        f"{BASE}/imports", data={"kind": "colonias", "name_field": "nom_asen"}, files=files
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    # The seeded sample city has a Centro too: per-city names are issue 15b's part.
    assert (body["created"] + body["updated"] + body["unchanged"], body["problems"]) == (33, [])


async def test_map_with_a_bad_placemark_is_refused_with_every_problem(
    as_staff: httpx.AsyncClient,
) -> None:
    kml = parks_kml().replace(
        "</Document>",
        "<Placemark><name>Roto</name><Point><coordinates>x,y</coordinates></Point></Placemark>"
        "</Document>",
    )
    files = {"file": ("rotos.kml", kml.encode(), "application/vnd.google-earth.kml+xml")}
    data = {"kind": "kml", "service": "green_space_maintenance"}
    refused = await as_staff.post(f"{BASE}/imports", data=data, files=files)
    assert refused.status_code == 422
    assert [p["where"] for p in refused.json()["detail"]["problems"]] == ["placemark 3 'Roto'"]
    partial = await as_staff.post(
        f"{BASE}/imports", data={**data, "skip_invalid": "true"}, files=files
    )
    assert (partial.status_code, partial.json()["created"]) == (201, 2)


async def test_unknown_service_upload_is_refused_with_the_valid_codes(
    as_staff: httpx.AsyncClient,
) -> None:
    files = {"file": ("p.kml", parks_kml().encode(), "application/xml")}
    refused = await as_staff.post(
        f"{BASE}/imports", data={"kind": "kml", "service": "parkes"}, files=files
    )
    assert refused.status_code == 422 and "valid: garbage_collection" in refused.text


async def test_ocds_release_upload_creates_its_contract(as_staff: httpx.AsyncClient) -> None:
    path = OTHER_CITIES / "ocds-cdmx" / "OCDS-87SD3T-SEFIN-DRM-A-001-2016-03.json"
    files = {"file": (path.name, path.read_bytes(), "application/json")}
    answer = await as_staff.post(f"{BASE}/imports", data={"kind": "ocds"}, files=files)
    assert answer.status_code == 201, answer.text
    contracts = (await as_staff.get(f"{BASE}/contracts?limit=200")).json()["items"]
    mine = next(c for c in contracts if c["ocid"] == "OCDS-87SD3T-SEFIN-DRM-A-001-2016")
    assert (mine["contract_number"], mine["flag_direct_award"]) == ("A-013/2016", True)


def test_shared_data_is_where_the_tests_read_it() -> None:
    assert Path(OTHER_CITIES / "ocds-cdmx").is_dir()

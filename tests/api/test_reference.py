"""Reference data and collected records: colonias, spaces (GeoJSON), contracts, submissions."""

from __future__ import annotations

import httpx
import pytest

from tests.api.conftest import BASE, World


def _ids(response: httpx.Response) -> list[int]:
    return [item["id"] for item in response.json()["items"]]


# ---------------------------------------------------------------- OpenAPI


async def test_the_openapi_document_lists_the_staff_api_with_bearer_security(
    client: httpx.AsyncClient,
) -> None:
    document = (await client.get("/openapi.json")).json()
    assert f"{BASE}/spaces.geojson" in document["paths"]
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"


async def test_the_interactive_docs_are_served(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")
    assert response.status_code == 200
    assert "swagger-ui" in response.text


# ---------------------------------------------------------------- pagination and validation


@pytest.mark.parametrize("limit", [0, 501])
async def test_a_page_size_out_of_bounds_is_refused(
    as_viewer: httpx.AsyncClient, limit: int
) -> None:
    response = await as_viewer.get(f"{BASE}/colonias", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


async def test_an_offset_past_the_end_gives_an_empty_page_and_the_total(
    as_viewer: httpx.AsyncClient,
) -> None:
    page = (await as_viewer.get(f"{BASE}/colonias", params={"offset": 100})).json()
    assert (page["items"], page["total"]) == ([], 3)


@pytest.mark.parametrize(
    "url",
    [
        f"{BASE}/guardians/not-a-number",
        f"{BASE}/guardians/{2**70}",
        f"{BASE}/spaces?colonia_id=-1",
        f"{BASE}/colonias?offset={2**70}",
        f"{BASE}/submissions?completed_from=yesterday",
    ],
)
async def test_malformed_ids_numbers_and_dates_are_a_422_not_a_server_error(
    as_viewer: httpx.AsyncClient, url: str
) -> None:
    response = await as_viewer.get(url)
    assert response.status_code == 422
    assert response.json()["detail"][0]["msg"]


# ---------------------------------------------------------------- colonias, spaces, contracts


async def test_colonias_are_listed_by_name(as_viewer: httpx.AsyncClient) -> None:
    page = (await as_viewer.get(f"{BASE}/colonias")).json()
    assert [c["name"] for c in page["items"]] == ["Centro", "Obrera", "Santa Rosa"]


async def test_spaces_geojson_is_a_feature_collection_of_the_spaces(
    as_viewer: httpx.AsyncClient,
) -> None:
    response = await as_viewer.get(f"{BASE}/spaces.geojson", params={"limit": 2})
    assert response.headers["content-type"] == "application/geo+json"
    collection = response.json()
    assert collection["type"] == "FeatureCollection"
    assert (len(collection["features"]), collection["limit"]) == (2, 2)
    assert collection["total"] > 2
    feature = collection["features"][0]
    assert feature["type"] == "Feature"
    assert feature["geometry"]["type"] in {"Polygon", "MultiPolygon", "Point"}
    assert feature["properties"]["id"] == feature["id"]


async def test_spaces_are_filtered_by_colonia(as_viewer: httpx.AsyncClient, world: World) -> None:
    page = (await as_viewer.get(f"{BASE}/spaces", params={"colonia_id": world.centro})).json()
    assert page["total"] > 0
    assert {s["colonia_id"] for s in page["items"]} == {world.centro}


async def test_a_contract_shows_its_company_and_risk_indicators(
    as_viewer: httpx.AsyncClient,
) -> None:
    page = await as_viewer.get(f"{BASE}/contracts", params={"contract_number": "DEMO-01/2024"})
    contract = page.json()["items"][0]
    assert contract["risk_favoritism"] == 10.5
    company = (await as_viewer.get(f"{BASE}/companies/{contract['company_id']}")).json()
    assert company["rfc"] == "JDC240101AB1"


async def test_a_missing_company_is_a_404_that_says_what_is_missing(
    as_viewer: httpx.AsyncClient,
) -> None:
    response = await as_viewer.get(f"{BASE}/companies/987654")
    assert (response.status_code, response.json()["detail"]) == (404, "company not found")


# ---------------------------------------------------------------- submissions and quizzes


async def test_submissions_are_filtered_by_completion_date_range(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(
        f"{BASE}/submissions",
        params={"completed_from": "2024-06-01T00:00:00Z", "completed_to": "2024-07-01T00:00:00Z"},
    )
    assert _ids(response) == [world.june_submission]


async def test_a_date_without_offset_is_local_time(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    # The May card was completed at 15:00 UTC, 09:00 in Chihuahua (UTC-6).
    before = await as_viewer.get(
        f"{BASE}/submissions", params={"completed_to": "2024-05-10T09:00:00"}
    )
    after = await as_viewer.get(
        f"{BASE}/submissions", params={"completed_to": "2024-05-10T09:00:01"}
    )
    assert (_ids(before), _ids(after)) == ([], [world.may_submission])


async def test_a_reversed_date_range_is_refused_with_the_reason(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(
        f"{BASE}/submissions",
        params={"completed_from": "2024-07-01T00:00:00Z", "completed_to": "2024-06-01T00:00:00Z"},
    )
    assert response.status_code == 422
    assert response.json()["detail"] == "completed_from must be before completed_to"


@pytest.mark.parametrize("key", ["colonia_id", "space_id", "contract_id", "card"])
async def test_submissions_are_filtered_by_place_contract_and_card(
    as_viewer: httpx.AsyncClient, world: World, key: str
) -> None:
    value = {
        "colonia_id": world.centro,
        "space_id": world.space,
        "contract_id": world.contract,
        "card": "test_parks",
    }[key]
    response = await as_viewer.get(f"{BASE}/submissions", params={key: value})
    assert _ids(response) == [world.may_submission]


async def test_a_submission_names_its_card_and_links_its_photo(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    submission = (await as_viewer.get(f"{BASE}/submissions/{world.may_submission}")).json()
    assert submission["form_id"] == "test_parks"
    assert submission["media"][0]["url"] == (
        f"{BASE}/submissions/{world.may_submission}/media/{world.photo}"
    )


async def test_a_photo_is_served_to_staff_with_its_type(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(f"{BASE}/submissions/{world.may_submission}/media/{world.photo}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "private, no-store"
    assert response.content == world.photo_bytes


async def test_a_photo_is_refused_without_a_token(client: httpx.AsyncClient, world: World) -> None:
    response = await client.get(f"{BASE}/submissions/{world.may_submission}/media/{world.photo}")
    assert response.status_code == 401
    assert response.content != world.photo_bytes


async def test_a_photo_is_not_found_under_another_submission(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(
        f"{BASE}/submissions/{world.june_submission}/media/{world.photo}"
    )
    assert (response.status_code, response.json()["detail"]) == (404, "photo not found")


async def test_quiz_attempts_are_filtered_by_phase(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    page = (await as_viewer.get(f"{BASE}/quiz-attempts", params={"phase": "post"})).json()
    assert [(q["phase"], q["score"]) for q in page["items"]] == [("post", 4)]

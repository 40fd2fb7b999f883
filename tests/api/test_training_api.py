"""Training endpoints on SQLite and PostgreSQL: learning gains (JSON, CSV), complaint
channels, and the count of problems reported to the municipality."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest
from sqlalchemy import select

from guardianes.config import Settings
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Colonia, Guardian, QuizAttempt
from guardianes.storage.models_training import MunicipalReport
from tests.api.conftest import BASE

QUIZ = "cuestionario_capacitacion"
NOV = datetime(2026, 11, 10, 12, tzinfo=UTC)
DEC = datetime(2026, 12, 10, 12, tzinfo=UTC)


@pytest.fixture
def api_settings(any_database_settings: Settings) -> Settings:
    """This module's app runs once on each backend."""
    return any_database_settings


@dataclass(frozen=True)
class Class:
    centro: int
    santa_rosa: int


def _guardian(name: str, colonia_id: int) -> Guardian:
    return Guardian(
        channel="webchat",
        channel_user_id=name,
        address=name,
        display_name=name,
        colonia_id=colonia_id,
        locale="es",
        consent_at=NOV,
        privacy_notice_version="test",
    )


def _attempt(guardian: Guardian, phase: str, score: int, when: datetime) -> QuizAttempt:
    return QuizAttempt(
        guardian_id=guardian.id,
        form_id=QUIZ,
        form_version="2026.11.2",
        phase=phase,
        answers={"p01": "b" if score > 7 else "a"},
        score=score,
        max_score=14,
        started_at=when,
        completed_at=when,
    )


@pytest.fixture
async def trained(api_runtime: Runtime) -> Class:
    """Centro: Ana 7 -> 14 and Beto only a pre; Santa Rosa: Carla 0 -> 7 (post in December)."""
    async with unit_of_work(api_runtime.sessions) as session:
        names = {c.name: c.id for c in (await session.execute(select(Colonia))).scalars()}
        ana, beto, carla = (
            _guardian("ana", names["Centro"]),
            _guardian("beto", names["Centro"]),
            _guardian("carla", names["Santa Rosa"]),
        )
        session.add_all([ana, beto, carla])
        await session.flush()
        session.add_all(
            [
                _attempt(ana, "pre", 7, NOV),
                _attempt(ana, "post", 14, NOV),
                _attempt(beto, "pre", 3, NOV),
                _attempt(carla, "pre", 0, NOV),
                _attempt(carla, "post", 7, DEC),
                MunicipalReport(
                    guardian_id=ana.id,
                    service_code="street_lighting",
                    colonia_id=names["Centro"],
                    reported_at=NOV,
                ),
                MunicipalReport(
                    guardian_id=beto.id,
                    service_code="street_lighting",
                    colonia_id=names["Centro"],
                    reported_at=NOV,
                ),
                MunicipalReport(
                    guardian_id=carla.id,
                    service_code="garbage_collection",
                    colonia_id=names["Santa Rosa"],
                    reported_at=DEC,
                ),
            ]
        )
    return Class(centro=names["Centro"], santa_rosa=names["Santa Rosa"])


async def test_learning_gains_of_the_course_quiz(as_viewer: httpx.AsyncClient, trained: Class):
    body = (await as_viewer.get(f"{BASE}/reports/learning-gains")).json()
    assert body["form_id"] == QUIZ
    assert (body["paired"], body["only_pre"], body["only_post"]) == (2, 1, 0)
    assert body["mean_pre"] == pytest.approx(25.0)  # (50 + 0) / 2
    assert body["mean_post"] == pytest.approx(75.0)  # (100 + 50) / 2
    assert body["hake_gain"] == pytest.approx(50 / 75)
    assert body["mean_individual_gain"] == pytest.approx(0.75)  # (1.0 + 0.5) / 2
    p01 = next(q for q in body["questions"] if q["key"] == "p01")
    assert (p01["pre_attempts"], p01["post_attempts"], p01["post_share"]) == (3, 2, 0.5)


async def test_learning_gains_filtered_by_colonia(as_viewer: httpx.AsyncClient, trained: Class):
    body = (
        await as_viewer.get(f"{BASE}/reports/learning-gains", params={"colonia_id": trained.centro})
    ).json()
    assert (body["paired"], body["only_pre"]) == (1, 1)
    assert [g["status"] for g in body["guardians"]] == ["paired", "only_pre"]


async def test_a_period_keeps_pairs_whole(as_viewer: httpx.AsyncClient, trained: Class):
    body = (
        await as_viewer.get(
            f"{BASE}/reports/learning-gains",
            params={"date_from": "2026-12-01T00:00:00", "date_to": "2027-01-01T00:00:00"},
        )
    ).json()
    (carla,) = body["guardians"]
    assert (carla["status"], carla["normalized_gain"]) == ("paired", 0.5)


async def test_an_unknown_colonia_is_a_404(as_viewer: httpx.AsyncClient, trained: Class):
    response = await as_viewer.get(f"{BASE}/reports/learning-gains", params={"colonia_id": 987654})
    assert response.status_code == 404


async def test_a_reversed_period_is_refused(as_viewer: httpx.AsyncClient, trained: Class):
    response = await as_viewer.get(
        f"{BASE}/reports/learning-gains",
        params={"date_from": "2027-01-01T00:00:00", "date_to": "2026-01-01T00:00:00"},
    )
    assert response.status_code == 422


async def test_learning_gains_as_csv(as_viewer: httpx.AsyncClient, trained: Class):
    response = await as_viewer.get(f"{BASE}/reports/learning-gains.csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [r["status"] for r in rows] == ["paired", "only_pre", "paired"]
    assert rows[0]["normalized_gain"] == "1"
    summary = await as_viewer.get(f"{BASE}/reports/learning-gains.csv", params={"table": "summary"})
    assert "only_pre,1" in summary.text.splitlines()
    topics = await as_viewer.get(f"{BASE}/reports/learning-gains.csv", params={"table": "topics"})
    assert topics.text.splitlines()[0].startswith("key,topic,pre_attempts,pre_share")


async def test_complaint_channels_are_listed_per_service(as_viewer: httpx.AsyncClient):
    channels = (
        await as_viewer.get(f"{BASE}/complaint-channels", params={"service": "street_lighting"})
    ).json()
    services = {c["service_code"] for c in channels}
    assert services == {"street_lighting", None}
    assert not any(c["confirmed"] for c in channels)  # sample data, to be confirmed by staff


async def test_reported_to_the_municipality_counted_by_colonia_and_service(
    as_viewer: httpx.AsyncClient, trained: Class
):
    counts = (await as_viewer.get(f"{BASE}/reports/reported-to-municipality")).json()
    assert [(c["colonia_name"], c["service_code"], c["count"]) for c in counts] == [
        ("Centro", "street_lighting", 2),
        ("Santa Rosa", "garbage_collection", 1),
    ]
    only_dec = (
        await as_viewer.get(
            f"{BASE}/reports/reported-to-municipality", params={"date_from": "2026-12-01T00:00:00"}
        )
    ).json()
    assert [c["count"] for c in only_dec] == [1]

"""Before a visit (colonia briefing), complaints before/after, and the contract review."""

from __future__ import annotations

from datetime import UTC, date, datetime

import httpx
from sqlalchemy import select

from guardianes.domain.enums import FormKind
from guardianes.domain.timezone import zone
from guardianes.services.reports.briefing import briefing_message, build_briefing
from guardianes.services.reports.complaints_change import DataVerdict, complaints_before_after
from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Broadcast, CardDefinition, ComplaintCount, Submission
from tests.api.conftest import BASE, Tokens, World, bearer
from tests.reports.conftest import pdf_text, seed_discrepancy

ZONE = zone("America/Chihuahua")
JUNE_2024 = datetime(2024, 6, 15, 18, tzinfo=UTC)


async def test_the_briefing_counts_complaints_per_service_over_the_last_months(
    api_runtime: Runtime, world: World
) -> None:
    async with unit_of_work(api_runtime.sessions) as session:
        briefing = await build_briefing(
            session, world.centro, months=6, now=JUNE_2024, timezone=ZONE
        )
    assert [(c.service_code, c.count) for c in briefing.complaints] == [
        ("garbage_collection", 23),
        ("green_space_maintenance", 4),
    ]
    assert briefing.window_start == date(2023, 12, 1)
    assert briefing.window_end == date(2024, 5, 1)


async def test_the_briefing_message_reads_like_the_programmes_own(
    api_runtime: Runtime, world: World
) -> None:
    async with unit_of_work(api_runtime.sessions) as session:
        one_month = await build_briefing(
            session, world.centro, months=1, now=datetime(2024, 5, 15, tzinfo=UTC), timezone=ZONE
        )
        six = await build_briefing(session, world.centro, months=6, now=JUNE_2024, timezone=ZONE)
    assert briefing_message(one_month).startswith(
        "Tu colonia presentó 14 quejas de recolección de basura en el último mes."
    )
    assert briefing_message(six).startswith(
        "Tu colonia presentó 23 quejas de recolección de basura y 4 quejas de mantenimiento "
        "de áreas verdes en los últimos 6 meses."
    )


async def test_the_briefing_lists_open_discrepancies_and_who_answers_for_each_space(
    api_runtime: Runtime, world: World
) -> None:
    await seed_discrepancy(api_runtime, world)
    async with unit_of_work(api_runtime.sessions) as session:
        briefing = await build_briefing(
            session, world.centro, months=6, now=JUNE_2024, timezone=ZONE
        )
    assert len(briefing.discrepancies) == 1
    assert briefing.spaces, "Centro has sample spaces"
    assert all(s.responsible for s in briefing.spaces)
    assert "Hay 1 falla reportada por guardianes que sigue sin resolverse." in briefing_message(
        briefing
    )


async def test_the_briefing_is_served_as_pdf_and_html(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    pdf = await as_viewer.get(f"{BASE}/colonias/{world.centro}/briefing.pdf", params={"months": 6})
    assert pdf.status_code == 200
    assert "Antes de la visita: colonia Centro" in pdf_text(pdf.content)
    html = await as_viewer.get(f"{BASE}/colonias/{world.centro}/briefing.html")
    assert "Espacios públicos y quién responde por cada uno" in html.text
    assert (await as_viewer.get(f"{BASE}/colonias/987654/briefing.pdf")).status_code == 404


async def test_staff_send_the_briefing_message_to_the_colonias_guardians(
    client: httpx.AsyncClient, api_runtime: Runtime, tokens: Tokens, world: World
) -> None:
    response = await client.post(
        f"{BASE}/colonias/{world.centro}/briefing/send",
        headers=bearer(tokens.staff),
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["recipients"] == 2  # Ana and Beto live in Centro
    async with unit_of_work(api_runtime.sessions) as session:
        broadcast = await session.get(Broadcast, body["broadcast_id"])
        assert broadcast is not None
        assert broadcast.colonia_id == world.centro
        assert broadcast.text == body["message"]
        assert body["message"].startswith("Tu colonia")


# ---------------------------------------------------------------- before / after


async def _add_complaints(
    runtime: Runtime, colonia: int, service: str, month: date, n: int
) -> None:
    async with unit_of_work(runtime.sessions) as session:
        session.add(
            ComplaintCount(
                colonia_id=colonia,
                service_code=service,
                period_start=month,
                granularity="month",
                count=n,
            )
        )


async def _before_after(runtime: Runtime, months: int = 1) -> dict[tuple[int, str], object]:
    async with unit_of_work(runtime.sessions) as session:
        rows = await complaints_before_after(
            session,
            months=months,
            timezone=ZONE,
            now=datetime(2024, 9, 1, tzinfo=UTC),
            min_total=10,
        )
    return {(r.colonia_id, r.service_code): r for r in rows}


async def test_before_and_after_compare_the_months_around_the_first_card(
    api_runtime: Runtime, world: World
) -> None:
    await _add_complaints(api_runtime, world.centro, "garbage_collection", date(2024, 6, 1), 3)
    row = (await _before_after(api_runtime))[(world.centro, "garbage_collection")]
    assert row.before == 14 and row.after == 3  # type: ignore[attr-defined]
    assert row.difference == -11  # type: ignore[attr-defined]
    assert row.percent_change == -78.6  # type: ignore[attr-defined]
    assert row.enough_data is True  # type: ignore[attr-defined]


async def test_a_window_the_complaint_data_does_not_cover_says_nothing(
    api_runtime: Runtime, world: World
) -> None:
    rows = await _before_after(api_runtime)
    assert rows[(world.centro, "garbage_collection")].verdict is DataVerdict.NO_COMPLAINT_DATA_AFTER  # type: ignore[attr-defined]
    assert (
        rows[(world.centro, "green_space_maintenance")].verdict  # type: ignore[attr-defined]
        is DataVerdict.NO_COMPLAINT_DATA_BEFORE
    )


async def test_few_complaints_or_no_cards_say_nothing(api_runtime: Runtime, world: World) -> None:
    await _add_complaints(api_runtime, world.obrera, "garbage_collection", date(2024, 6, 1), 2)
    await _add_complaints(api_runtime, world.santa_rosa, "garbage_collection", date(2024, 7, 1), 1)
    rows = await _before_after(api_runtime)
    assert rows[(world.obrera, "garbage_collection")].verdict is DataVerdict.NO_CARDS  # type: ignore[attr-defined]
    santa_rosa = rows[(world.santa_rosa, "garbage_collection")]
    assert (santa_rosa.before, santa_rosa.after) == (6, 1)  # type: ignore[attr-defined]
    assert santa_rosa.verdict is DataVerdict.TOO_FEW_COMPLAINTS  # type: ignore[attr-defined]


async def test_an_after_window_still_running_says_nothing(
    api_runtime: Runtime, world: World
) -> None:
    async with unit_of_work(api_runtime.sessions) as session:
        rows = await complaints_before_after(
            session, months=6, timezone=ZONE, now=JUNE_2024, min_total=10
        )
    assert {r.verdict for r in rows if r.first_card_at} == {DataVerdict.AFTER_WINDOW_OPEN}


async def test_the_before_after_report_is_served_with_its_verdicts(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(
        f"{BASE}/reports/complaints-before-after",
        params={"months": 3, "colonia_id": world.centro, "service": "garbage_collection"},
    )
    assert response.status_code == 200
    [row] = response.json()
    assert row["colonia"] == "Centro"
    assert row["months"] == 3
    assert row["verdict"] in {v.value for v in DataVerdict}
    bad = await as_viewer.get(f"{BASE}/reports/complaints-before-after", params={"months": 0})
    assert bad.status_code == 422


# ---------------------------------------------------------------- contract review


async def test_the_contract_review_shows_coverage_failures_and_the_companys_record(
    as_viewer: httpx.AsyncClient, api_runtime: Runtime, world: World
) -> None:
    async with unit_of_work(api_runtime.sessions) as session:
        card = CardDefinition(
            form_id="tarjeta_parques", version="t", kind=FormKind.CARD, title="Parques"
        )
        session.add(card)
        await session.flush()
        for poda in ("no", "si"):
            session.add(
                Submission(
                    guardian_id=world.ana,
                    card_definition_id=card.id,
                    channel="webchat",
                    answers={"poda": poda, "riego": "bien"},
                    public_space_id=world.space,
                    colonia_id=world.centro,
                    started_at=datetime(2024, 5, 12, 15, tzinfo=UTC),
                    completed_at=datetime(2024, 5, 12, 15, tzinfo=UTC),
                )
            )
    seeded = await seed_discrepancy(api_runtime, world)
    response = await as_viewer.get(
        f"{BASE}/contracts/{world.contract}/review",
        params={"start": "2024-05-01", "end": "2024-05-31"},
    )
    assert response.status_code == 200, response.text
    review = response.json()
    assert review["company"].startswith("Jardines Demo del Centro")
    assert world.space in [s["id"] for s in review["spaces"]]
    assert review["covered_spaces"] == 1
    assert review["coverage"] == round(1 / len(review["spaces"]), 3)
    rates = {r["obligation"]: r for r in review["obligations"]}
    assert rates["mowing"] == {
        "obligation": "mowing",
        "checks": 2,
        "failures": 1,
        "failure_rate": 0.5,
    }
    assert rates["irrigation"]["failures"] == 0
    assert [d["id"] for d in review["open_discrepancies"]] == [seeded.discrepancy]
    numbers = {c["contract_number"]: c for c in review["company_contracts"]}
    assert set(numbers) == {"DEMO-01/2024", "DEMO-03/2024"}
    assert numbers["DEMO-01/2024"]["risk"]["direct_award"] is False
    assert review["company_direct_awards"] == 0


async def test_a_review_of_an_unknown_contract_is_404(as_viewer: httpx.AsyncClient) -> None:
    assert (await as_viewer.get(f"{BASE}/contracts/987654/review")).status_code == 404


async def test_direct_awards_are_flagged_in_the_review(
    as_viewer: httpx.AsyncClient, api_runtime: Runtime
) -> None:
    async with unit_of_work(api_runtime.sessions) as session:
        from guardianes.storage.models import Contract

        direct = (
            await session.scalars(select(Contract).where(Contract.procedure_type == "AD"))
        ).first()
        assert direct is not None
    review = (await as_viewer.get(f"{BASE}/contracts/{direct.id}/review")).json()
    assert review["contract"]["risk"]["direct_award"] is True
    assert review["company_direct_awards"] >= 1
    assert review["contract"]["risk"]["shell_company"] == 50


async def test_a_contract_is_reviewed_by_its_number_whatever_the_punctuation(
    as_viewer: httpx.AsyncClient, world: World
) -> None:
    response = await as_viewer.get(
        f"{BASE}/reports/contract-review", params={"number": "demo 01/2024"}
    )
    assert response.status_code == 200, response.text
    review = response.json()
    assert review["contract_number"] == "DEMO-01/2024"
    assert review["contract"]["id"] == world.contract
    missing = await as_viewer.get(f"{BASE}/reports/contract-review", params={"number": "X-1"})
    assert missing.status_code == 404

"""Discrepancies on the real Chihuahua data, with cards sent through the real chat pipeline."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from guardianes.conversations.messages import Command, InboundKind, PromptKind
from guardianes.geo.index import IndexedSpace
from guardianes.services import evidence
from guardianes.services.evidence_imports import import_status
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Company, Guardian, Submission
from guardianes.storage.models_evidence import (
    Discrepancy,
    DiscrepancyEvent,
    DiscrepancyEvidence,
    GuardianConfirmation,
)
from tests.chat_driver import ChatDriver
from tests.evidence.conftest import (
    PEWIS,
    PEWIS_CONTRACT,
    ChihuahuaCity,
    fill_park_card,
    jpeg,
    register,
    scene,
    stored_photo,
    this_month,
)

UNMOWED = {"pasto está podado": "No"}


def status_file(folder: Path, *rows: str) -> Path:
    """A status CSV with the given data rows."""
    path = folder / "estado.csv"
    header = "space_code,service,period_start,period_end,status,obligation,source,note"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


async def guardian_reports(city: ChihuahuaCity, user: str, space, **answers: str) -> ChatDriver:
    """A new guardian registers and sends the park card for a space."""
    chat = ChatDriver(city.runtime, user_id=user)
    await register(chat, user)
    await fill_park_card(chat, space, **answers)
    return chat


async def contradict_mowing(
    city: ChihuahuaCity, park: IndexedSpace, folder: Path
) -> tuple[date, date]:
    """The contractor reports the park mowed this month; three guardians say it is not."""
    start, end = this_month()
    path = status_file(
        folder, f"{park.code},green_space_maintenance,{start},{end},done,mowing,contractor,"
    )
    async with unit_of_work(city.runtime.sessions) as session:
        await import_status(session, path, settings=city.runtime.settings)
    for user in ("ana", "beto", "carla"):
        await guardian_reports(city, user, park, **UNMOWED)
    return start, end


async def discrepancies(city: ChihuahuaCity) -> list[Discrepancy]:
    async with city.runtime.sessions() as session:
        return list((await session.scalars(select(Discrepancy))).all())


async def evidence_rows(city: ChihuahuaCity) -> list[DiscrepancyEvidence]:
    async with city.runtime.sessions() as session:
        return list((await session.scalars(select(DiscrepancyEvidence))).all())


async def test_three_guardians_contradict_a_done_status_in_one_strong_discrepancy_against_pewis(
    city: ChihuahuaCity, tmp_path: Path
) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[0]
    start, end = await contradict_mowing(city, park, tmp_path)

    (found,) = await discrepancies(city)
    assert found.kind == "reported_done"
    assert found.obligation == "mowing"
    assert found.reported_status == "done"
    assert (found.period_start, found.period_end) == (start, end)
    assert found.responsible_name == PEWIS
    assert found.contract_number == PEWIS_CONTRACT
    assert (found.guardian_count, found.evidence_count, found.strength) == (3, 3, "strong")
    async with city.runtime.sessions() as session:
        company = await session.get(Company, found.company_id)
    assert company is not None and "PEWIS" in company.normalized_name


async def test_a_failure_no_status_row_covers_is_a_not_reported_discrepancy(
    city: ChihuahuaCity,
) -> None:
    park = city.municipal_parks()[0]
    await guardian_reports(city, "dora", park, **UNMOWED)

    (found,) = await discrepancies(city)
    assert found.kind == "not_reported"
    assert (found.period_start, found.period_end) == this_month()
    assert found.responsible_type == "municipality"
    assert (found.guardian_count, found.strength) == (1, "weak")


async def test_a_park_found_fine_makes_no_discrepancy(city: ChihuahuaCity) -> None:
    await guardian_reports(city, "eva", city.spaces_of(PEWIS_CONTRACT)[1])
    assert await discrepancies(city) == []


async def test_the_same_guardian_twice_is_one_piece_of_evidence(city: ChihuahuaCity) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[2]
    chat = await guardian_reports(city, "fede", park, **UNMOWED)
    await fill_park_card(chat, park, **UNMOWED)

    (found,) = await discrepancies(city)
    rows = await evidence_rows(city)
    assert len(rows) == 2
    assert sorted(row.is_repeat for row in rows) == [False, True]
    assert (found.guardian_count, found.evidence_count, found.strength) == (1, 1, "weak")


async def test_resolved_then_a_guardian_answers_no_reopens_it(city: ChihuahuaCity) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[3]
    chat = await guardian_reports(city, "gabi", park, **UNMOWED)
    (found,) = await discrepancies(city)
    async with unit_of_work(city.runtime.sessions) as session:
        await evidence.change_status(
            session, found.id, "resolved", actor="sindicatura", note="Se podó el 20 de noviembre."
        )
    notice = (await chat.new_replies())[-1]
    assert "Se podó el 20 de noviembre." in notice.text
    assert "¿Ya quedó?" in notice.text

    replies = await chat.press("No, sigue igual")

    (reopened,) = await discrepancies(city)
    assert reopened.status == "open"
    async with city.runtime.sessions() as session:
        guardian = (await session.scalars(select(Guardian))).one()
        events = (
            await session.scalars(select(DiscrepancyEvent).order_by(DiscrepancyEvent.id))
        ).all()
        (question,) = (await session.scalars(select(GuardianConfirmation))).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (None, "open"),
        ("open", "resolved"),
        ("resolved", "open"),
    ]
    assert events[-1].actor == f"guardian:{guardian.id}"
    assert question.answer == "no"
    assert "Reabrimos" in chat.all_text(replies)


async def test_the_answer_to_ya_quedo_does_not_break_a_card_in_progress(
    city: ChihuahuaCity,
) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[4]
    chat = await guardian_reports(city, "hugo", park, **UNMOWED)
    (found,) = await discrepancies(city)
    async with unit_of_work(city.runtime.sessions) as session:
        await evidence.change_status(session, found.id, "resolved", actor="sindicatura")
    question = (await chat.new_replies())[-1]
    yes = next(c.payload for c in question.choices if "Sí" in c.label)
    await chat.command(Command.MENU)
    await chat.press("tarjeta")
    await chat.press("parques")
    point = park.geometry.representative_point()
    await chat.location(point.y, point.x)
    await chat.press("Sí, es ese")
    asked = chat.last_question().text

    replies = await chat.send(InboundKind.CHOICE, payload=yes)

    assert "Gracias por confirmarlo" in chat.all_text(replies)
    assert replies[-1].text == asked  # the card's question again, answers kept
    async with city.runtime.sessions() as session:
        (answered,) = (await session.scalars(select(GuardianConfirmation))).all()
    assert answered.answer == "yes"
    await chat.press("Sí")  # the card goes on from where it was
    assert "riego" in chat.last_question().text


async def test_a_no_with_a_new_photo_keeps_the_photo_on_the_answer(city: ChihuahuaCity) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[14]
    chat = await guardian_reports(city, "ines", park, **UNMOWED)
    (found,) = await discrepancies(city)
    async with unit_of_work(city.runtime.sessions) as session:
        await evidence.change_status(session, found.id, "resolved", actor="sindicatura")
    await chat.new_replies()
    asked = await chat.press("No, sigue igual")
    assert asked[-1].kind is PromptKind.PHOTO and asked[-1].skip_label == "Sin foto"
    photo = await stored_photo(city.runtime, jpeg(scene(21)))

    replies = await chat.photos(photo)

    assert "Recibimos tu foto" in chat.all_text(replies)
    async with city.runtime.sessions() as session:
        (answer,) = (await session.scalars(select(GuardianConfirmation))).all()
    assert (answer.answer, answer.media_sha256) == ("no", photo.sha256)


async def test_after_a_no_any_other_message_goes_on_as_usual(city: ChihuahuaCity) -> None:
    park = city.spaces_of(PEWIS_CONTRACT)[15]
    chat = await guardian_reports(city, "jose", park, **UNMOWED)
    (found,) = await discrepancies(city)
    async with unit_of_work(city.runtime.sessions) as session:
        await evidence.change_status(session, found.id, "resolved", actor="sindicatura")
    await chat.new_replies()
    await chat.press("No, sigue igual")

    replies = await chat.press("Sin foto")
    replies += await chat.command(Command.MENU)

    assert "sin foto" in chat.all_text(replies).casefold()
    assert chat.last_question().text == "¿Qué quieres hacer?"


async def test_a_card_is_kept_even_if_computing_its_evidence_fails(
    city: ChihuahuaCity, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("evidence bug")

    monkeypatch.setattr(evidence, "refresh_for_submission", broken)
    chat = await guardian_reports(city, "kiko", city.spaces_of(PEWIS_CONTRACT)[16], **UNMOWED)

    assert "Guardamos tu tarjeta" in chat.all_text()
    async with city.runtime.sessions() as session:
        assert len((await session.scalars(select(Submission))).all()) == 1
    assert await discrepancies(city) == []


async def test_outside_the_repeat_window_the_same_guardian_counts_again(
    city: ChihuahuaCity,
) -> None:
    city.runtime.settings = city.runtime.settings.model_copy(update={"repeat_window_hours": 0})
    park = city.spaces_of(PEWIS_CONTRACT)[17]
    chat = await guardian_reports(city, "lola", park, **UNMOWED)
    await fill_park_card(chat, park, **UNMOWED)

    (found,) = await discrepancies(city)
    assert [row.is_repeat for row in await evidence_rows(city)] == [False, False]
    assert (found.guardian_count, found.evidence_count) == (1, 2)

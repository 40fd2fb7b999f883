"""The staff flow in the engine: broadcast, visit notice (place, date, description), status."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime

import pytest

from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import (
    EngineContext,
    GuardianProfile,
    StaffAction,
    StaffActionKind,
)
from guardianes.conversations.dates import parse_local_datetime
from guardianes.conversations.messages import Command
from guardianes.domain.enums import Role
from guardianes.domain.timezone import zone
from tests.conversations.conftest import Chat, FakeGazetteer

FRIDAY = date(2026, 11, 20)  # the conftest's NOW, 10:30 local
CHIHUAHUA = zone("America/Chihuahua")  # UTC-6 all year since 2022


@pytest.fixture
def staff_chat(shipped: FormCatalog, gazetteer: FakeGazetteer, staff: GuardianProfile) -> Chat:
    chat = Chat(catalog=shipped, gazetteer=gazetteer, guardian=staff)
    chat.command(Command.MENU)
    return chat


def open_visit(chat: Chat) -> None:
    """From the menu to the visit's date question, in Santa Rosa at the park."""
    chat.press("Aviso a una colonia")
    chat.press("Aviso de visita")
    chat.text("Santa Rosa")
    chat.text("Parque Santa Rosa, junto a los juegos")


def staff_actions(chat: Chat) -> list[StaffAction]:
    return [e for step in chat.steps for e in step.effects if isinstance(e, StaffAction)]


# ---- reading dates ----


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("25/12/2026 10:00", datetime(2026, 12, 25, 10, 0)),
        ("25-12-26 10 am", datetime(2026, 12, 25, 10, 0)),
        ("2026-12-25T10:00", datetime(2026, 12, 25, 10, 0)),
        ("10:00 25/12/2026", datetime(2026, 12, 25, 10, 0)),
        ("25.12.2026 10.30", datetime(2026, 12, 25, 10, 30)),
        ("25 de diciembre de 2026 a las 10:30", datetime(2026, 12, 25, 10, 30)),
        ("25 dic 6 de la tarde", datetime(2026, 12, 25, 18, 0)),
        ("December 25, 2026 10:30 pm", datetime(2026, 12, 25, 22, 30)),
        ("12/25/2026 9am", datetime(2026, 12, 25, 9, 0)),  # only month-first makes sense
        ("mañana a las 5 de la tarde", datetime(2026, 11, 21, 17, 0)),
        ("tomorrow 9 a.m.", datetime(2026, 11, 21, 9, 0)),
        ("el sábado 10:00", datetime(2026, 11, 21, 10, 0)),
        ("viernes 10:00", datetime(2026, 11, 27, 10, 0)),  # said on a Friday: next week
        ("hoy 18:00", datetime(2026, 11, 20, 18, 0)),
        ("5/1 al mediodía", datetime(2027, 1, 5, 12, 0)),  # no year: the next 5 January
    ],
)
def test_common_spanish_and_english_dates_are_read(typed: str, expected: datetime) -> None:
    assert parse_local_datetime(typed, FRIDAY) == expected


@pytest.mark.parametrize(
    "typed",
    ["pronto", "25/12/2026", "mañana", "10:00", "31/02/2027 10:00", "25/12/2026 25:00", "1/2/3 4"],
)
def test_no_exact_date_and_time_is_read_as_none(typed: str) -> None:
    assert parse_local_datetime(typed, FRIDAY) is None


# ---- entering and leaving ----


def test_staff_see_the_staff_entry_and_its_three_actions(staff_chat: Chat) -> None:
    assert "Aviso a una colonia" in [c.label for c in staff_chat.last.choices]
    step = staff_chat.press("Aviso a una colonia")
    labels = [c.label for c in step.prompts[-1].choices]
    assert labels == [
        "Mensaje a una colonia",
        "Aviso de visita",
        "Estado de mis avisos",
        "Volver al menú",
    ]


@pytest.mark.parametrize("role", [Role.GUARDIAN, Role.LEAD])
def test_a_guardian_or_lead_asking_for_staff_tools_is_refused_and_asked_again(
    shipped: FormCatalog, gazetteer: FakeGazetteer, guardian: GuardianProfile, role: Role
) -> None:
    chat = Chat(catalog=shipped, gazetteer=gazetteer, guardian=replace(guardian, role=role))
    chat.command(Command.MENU)
    assert "Aviso a una colonia" not in [c.label for c in chat.last.choices]
    chat.press("Mis datos")
    question = chat.last.text
    step = chat.text("/staff")
    assert "solo para el personal" in step.prompts[0].text
    assert step.prompts[-1].text == question  # the question they were answering
    assert step.effects == []
    step = chat.text("personal")  # the word works like the command
    assert "solo para el personal" in step.prompts[0].text


def test_a_plain_guardian_in_a_card_is_refused_and_keeps_their_card(chat: Chat) -> None:
    chat.start_form("tarjeta_parques")
    question = chat.last.text
    step = chat.command(Command.STAFF)
    assert "solo para el personal" in step.prompts[0].text
    assert step.prompts[-1].text == question
    assert chat.state is not None and chat.state["step"] == "form"


def test_status_asks_the_caller_for_the_counts_and_shows_the_staff_question_again(
    staff_chat: Chat,
) -> None:
    staff_chat.press("Aviso a una colonia")
    step = staff_chat.press("Estado de mis avisos")
    assert step.effects == [
        StaffAction(action=StaffActionKind.STATUS, colonia_id=None, text="", details={})
    ]
    assert step.prompts[-1].text == "¿Qué quieres enviar?"
    step = staff_chat.text("estado")  # typed label prefix works too
    assert [e.action for e in step.effects] == [StaffActionKind.STATUS]


def test_the_status_command_answers_staff_and_keeps_their_card(staff_chat: Chat) -> None:
    staff_chat.start_form("tarjeta_parques")
    question = staff_chat.last.text
    step = staff_chat.text("/estado")
    assert [e.action for e in step.effects] == [StaffActionKind.STATUS]
    assert step.prompts[-1].text == question
    assert staff_chat.state is not None and staff_chat.state["step"] == "form"


def test_the_status_command_refuses_a_plain_guardian(chat: Chat) -> None:
    chat.command(Command.MENU)
    step = chat.command(Command.STATUS)
    assert "solo para el personal" in step.prompts[0].text
    assert step.effects == []


# ---- broadcast ----


def test_a_broadcast_asks_the_text_counts_the_audience_and_sends_on_confirmation(
    staff_chat: Chat,
) -> None:
    staff_chat.press("Aviso a una colonia")
    staff_chat.press("Mensaje a una colonia")
    step = staff_chat.text("Santa Rosa")
    assert step.prompts[-1].text.startswith("Escribe el mensaje")
    step = staff_chat.text("Mañana hay jornada de limpieza")
    assert step.effects == [
        StaffAction(
            action=StaffActionKind.AUDIENCE,
            colonia_id=4,
            text="Mañana hay jornada de limpieza",
            details={"colonia_name": "Santa Rosa"},
        )
    ]
    assert step.prompts[0].text == "Para: Santa Rosa\n\nMañana hay jornada de limpieza"
    assert step.prompts[-1].text == "¿Lo enviamos?"
    step = staff_chat.press("Enviar")
    (action,) = step.effects
    assert (action.action, action.colonia_id, action.text) == (
        StaffActionKind.BROADCAST,
        4,
        "Mañana hay jornada de limpieza",
    )
    assert action.details["requested_by"] == 1
    assert step.prompts[-1].text == "¿Qué quieres hacer?"


def test_cancel_at_the_confirmation_sends_nothing(staff_chat: Chat) -> None:
    staff_chat.press("Aviso a una colonia")
    staff_chat.press("Mensaje a una colonia")
    staff_chat.text("Centro")
    staff_chat.text("Hola vecinos")
    step = staff_chat.press("Cancelar")
    assert "No se envió nada" in step.prompts[0].text
    assert step.effects == []
    assert [a.action for a in staff_actions(staff_chat)] == [StaffActionKind.AUDIENCE]


def test_back_from_the_broadcast_text_asks_the_colonia_again(staff_chat: Chat) -> None:
    staff_chat.press("Aviso a una colonia")
    staff_chat.press("Mensaje a una colonia")
    staff_chat.text("Centro")
    step = staff_chat.command(Command.BACK)
    assert staff_chat.state is not None and staff_chat.state["step"] == "colonia"
    step = staff_chat.command(Command.BACK)
    assert step.prompts[-1].text == "¿Qué quieres enviar?"
    step = staff_chat.command(Command.BACK)
    assert step.prompts[-1].text == "¿Qué quieres hacer?"


# ---- visit ----


def test_a_visit_collects_place_date_and_description_before_confirming(staff_chat: Chat) -> None:
    open_visit(staff_chat)
    assert staff_chat.last.text.startswith("¿Qué día y a qué hora?")
    step = staff_chat.text("25/12/2026 10:00")
    assert step.prompts[-1].text.startswith("Escribe una breve descripción")
    step = staff_chat.text("Revisaremos la poda y el riego")
    assert step.prompts[0].text == (
        "Para: Santa Rosa\nLugar: Parque Santa Rosa, junto a los juegos\n"
        "Cuándo: 25/12/2026 10:00\n\nRevisaremos la poda y el riego"
    )
    step = staff_chat.press("Enviar")
    (action,) = step.effects
    assert action.action is StaffActionKind.VISIT
    assert action.colonia_id == 4
    assert action.details["place"] == "Parque Santa Rosa, junto a los juegos"
    assert action.details["starts_at"] == "2026-12-25T10:00:00"
    assert action.details["description"] == "Revisaremos la poda y el riego"


def test_an_unreadable_date_is_asked_again_kindly(staff_chat: Chat) -> None:
    open_visit(staff_chat)
    step = staff_chat.text("la próxima semana")
    assert step.prompts[0].text.startswith("No entendí la fecha y hora")
    assert step.prompts[-1].text.startswith("¿Qué día y a qué hora?")
    assert step.effects == []
    assert staff_chat.state is not None and staff_chat.state["step"] == "staff.when"


def test_a_past_date_is_refused(staff_chat: Chat) -> None:
    open_visit(staff_chat)
    step = staff_chat.text("hoy 9:00")  # NOW is 10:30
    assert step.prompts[0].text == "El 20/11/2026 09:00 ya pasó. Escribe una fecha y hora futuras."
    assert staff_chat.state is not None and staff_chat.state["step"] == "staff.when"
    staff_chat.text("hoy 11:00")
    assert staff_chat.state["step"] == "staff.text"


def test_an_english_speaking_staff_member_is_asked_again_in_english(
    shipped: FormCatalog, gazetteer: FakeGazetteer, staff: GuardianProfile
) -> None:
    chat = Chat(catalog=shipped, gazetteer=gazetteer, guardian=replace(staff, locale="en"))
    chat.command(Command.STAFF)
    chat.press("Visit notice")
    chat.text("Centro")
    chat.text("Plaza de Armas")
    step = chat.text("someday")
    assert step.prompts[0].text.startswith("I could not read that date and time")
    step = chat.text("December 24, 2026 6 pm")
    assert step.prompts[-1].text.startswith("Type a short description")


@dataclass
class ZonedChat(Chat):
    """A chat whose engine knows the programme's zone, as the service gives it."""

    def ctx(self) -> EngineContext:
        return replace(super().ctx(), timezone=CHIHUAHUA)


def _visit_at_17_utc(chat: Chat) -> Chat:
    """The staff member opens a visit notice at 17:00 UTC on 20 November 2026."""
    chat.now = datetime(2026, 11, 20, 17, 0, tzinfo=UTC)
    chat.command(Command.MENU)
    open_visit(chat)
    return chat


def test_past_dates_are_judged_in_the_programme_time_zone(
    shipped: FormCatalog, gazetteer: FakeGazetteer, staff: GuardianProfile
) -> None:
    # 17:00 UTC is 11:00 in Chihuahua.
    chat = _visit_at_17_utc(ZonedChat(catalog=shipped, gazetteer=gazetteer, guardian=staff))
    step = chat.text("hoy 10:45")
    assert "ya pasó" in step.prompts[0].text
    chat.text("hoy 11:15")
    assert chat.state is not None and chat.state["step"] == "staff.text"


def test_without_a_zone_only_times_past_everywhere_are_refused(
    shipped: FormCatalog, gazetteer: FakeGazetteer, staff: GuardianProfile
) -> None:
    # 17:00 UTC; 16:00 is still ahead in Chihuahua, so the engine must not refuse it.
    chat = _visit_at_17_utc(Chat(catalog=shipped, gazetteer=gazetteer, guardian=staff))
    step = chat.text("19/11/2026 10:00")
    assert "ya pasó" in step.prompts[0].text
    chat.text("hoy 16:00")
    assert chat.state is not None and chat.state["step"] == "staff.text"


def test_back_walks_the_visit_steps_in_reverse(staff_chat: Chat) -> None:
    open_visit(staff_chat)
    staff_chat.text("25/12/2026 10:00")
    staff_chat.text("Revisión")
    steps = []
    for _ in range(5):
        staff_chat.command(Command.BACK)
        assert staff_chat.state is not None
        steps.append(staff_chat.state["step"])
    assert steps == ["staff.text", "staff.when", "staff.place", "colonia", "staff.action"]
    assert [a.action for a in staff_actions(staff_chat)] == [StaffActionKind.AUDIENCE]


def test_cancel_in_the_middle_of_a_visit_drops_it(staff_chat: Chat) -> None:
    open_visit(staff_chat)
    step = staff_chat.text("cancelar")
    assert step.prompts[0].text == "Listo, lo cancelamos."
    assert step.prompts[-1].text == "¿Qué quieres hacer?"
    staff_chat.text("25/12/2026 10:00")  # now just an unknown menu reply
    assert staff_actions(staff_chat) == []

"""The menu and its flows: cards with space matching, responsible party, quiz, data, staff."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from guardianes.conversations.context import (
    SaveQuizAttempt,
    SaveSubmission,
    StaffAction,
    UpdateGuardian,
)
from guardianes.conversations.messages import Command, InboundKind, PromptKind
from guardianes.domain.enums import QuizPhase

from .conftest import FAR_POINT, PARK_POINT, Chat, photo


def test_a_registered_guardian_without_state_gets_the_menu(chat):
    step = chat.text("hola")
    labels = [c.label for c in step.prompts[-1].choices]
    assert labels[:3] == ["Llenar una tarjeta", "¿Quién es responsable?", "Cuestionario"]
    assert "Aviso a una colonia" not in labels


def test_a_menu_button_pressed_after_the_state_was_lost_still_works(chat):
    chat.text("hola")
    menu_step = chat.steps[-1]
    chat.state = None
    step = chat.press("Llenar", menu_step)
    assert "tarjeta" in step.prompts[-1].text


def test_unknown_text_in_the_menu_repeats_it(chat):
    chat.text("hola")
    step = chat.text("quiero pizza")
    assert "No entendí" in step.prompts[0].text


def test_the_cards_list_shows_every_installed_card(chat):
    chat.text("hola")
    step = chat.press("Llenar")
    assert [c.label for c in step.prompts[-1].choices] == [
        "Tarjeta de alumbrado público",
        "Tarjeta de recolección de basura",
        "Tarjeta de parques y áreas verdes",
        "Volver al menú",
    ]


def test_park_card_asks_location_first_then_confirms_the_matched_space(chat, gazetteer):
    step = chat.start_form("tarjeta_parques")
    assert step.prompts[-1].kind is PromptKind.LOCATION
    step = chat.location(PARK_POINT)
    assert gazetteer.queries[-1] == (PARK_POINT, "green_space_maintenance")
    assert "Parque Lerdo (PQ-001)" in step.prompts[-1].text
    step = chat.press("Sí, es ese")
    assert step.prompts[-1].text == "¿El pasto está podado?"


def fill_park_card(chat):
    chat.start_form("tarjeta_parques")
    chat.location(PARK_POINT)
    chat.press("Sí, es ese")
    chat.press("No")  # poda
    chat.press("Mal")  # riego
    chat.press("Mucha")  # basura
    chat.press("Sí")  # árboles
    chat.text("3")
    chat.press("Bien")  # juegos: no damage question
    chat.press("Regular")  # equipo deportivo
    chat.press("Mal")  # bancas
    chat.press("Bien")  # alumbrado
    chat.text("0")  # luminarias apagadas
    chat.photos(photo(1), photo(2))
    chat.press("Listo")
    chat.press("2")  # calificación
    return chat.text("Hay vidrios en el arenero")


def test_a_finished_park_card_stores_the_confirmed_space_and_score_fields(chat):
    step = fill_park_card(chat)
    (submission,) = step.effects
    assert isinstance(submission, SaveSubmission)
    assert submission.space_id == 42
    assert submission.location == PARK_POINT
    assert submission.answers["problemas"] == 5
    assert submission.answers["calificacion"] == "2"
    assert len(submission.photos) == 2
    assert "Guardamos tu tarjeta" in step.prompts[0].text


def test_rejecting_the_matched_space_asks_the_location_again(chat):
    chat.start_form("tarjeta_parques")
    chat.location(PARK_POINT)
    step = chat.press("No, otra ubicación")
    assert step.prompts[-1].kind is PromptKind.LOCATION


def test_a_location_with_no_space_nearby_is_kept_without_a_space(chat):
    chat.start_form("tarjeta_parques")
    step = chat.location(FAR_POINT)
    assert "No encontré un espacio" in step.prompts[0].text
    assert chat.state["form"]["space"] is None


def test_back_from_the_space_confirmation_returns_to_the_location(chat):
    chat.start_form("tarjeta_parques")
    chat.location(PARK_POINT)
    step = chat.command(Command.BACK)
    assert step.prompts[-1].kind is PromptKind.LOCATION


def test_who_is_responsible_names_company_contract_and_obligations(chat):
    chat.text("hola")
    chat.press("¿Quién es responsable?")
    step = chat.location(PARK_POINT)
    reply = step.prompts[0].text
    assert "Parque Lerdo (PQ-001)" in reply
    assert "Jardines del Norte SA de CV (empresa contratista)" in reply
    assert "MCH-OP-2026-014" in reply
    assert "Poda cada 15 días" in reply
    assert "Dirección de Alumbrado Público (dependencia municipal)" in reply
    assert chat.last.text == "¿Qué quieres hacer?"


def test_who_is_responsible_far_from_everything_replies_kindly(chat):
    chat.text("hola")
    chat.press("¿Quién es responsable?")
    step = chat.location(FAR_POINT)
    assert "No encontré un espacio público" in step.prompts[0].text


def answer_quiz(chat, right: bool):
    quiz = chat.catalog.quizzes()[0]
    step = chat.steps[-1]
    for question in quiz.questions:
        if not question.scored:
            continue
        picks = [i for i, c in enumerate(question.choices) if c.correct is right]
        if question.type.value == "select_multiple":
            step = chat.text(",".join(str(i + 1) for i in picks))
        else:
            step = chat.text(str(picks[0] + 1))
    return step


def test_quiz_before_training_is_the_pre_test_and_is_scored(chat):
    chat.text("hola")
    chat.press("Cuestionario")
    step = answer_quiz(chat, right=True)
    (attempt,) = step.effects
    assert isinstance(attempt, SaveQuizAttempt)
    assert attempt.phase is QuizPhase.PRE
    assert attempt.score == attempt.max_score == 14
    assert attempt.answers["respondidas"] == 14
    assert "14 de 14" in step.prompts[0].text


def test_wrong_answers_score_zero(chat):
    chat.text("hola")
    chat.press("Cuestionario")
    (attempt,) = answer_quiz(chat, right=False).effects
    assert attempt.score == 0 and attempt.max_score == 14


def test_quiz_on_or_after_the_training_date_is_the_post_test(chat):
    chat.guardian = replace(chat.guardian, training_date=date(2026, 11, 20))
    chat.text("hola")
    chat.press("Cuestionario")
    (attempt,) = answer_quiz(chat, right=True).effects
    assert attempt.phase is QuizPhase.POST


def test_each_quiz_phase_is_taken_once(chat):
    chat.guardian = replace(chat.guardian, quiz_phases_done=frozenset({QuizPhase.PRE}))
    chat.text("hola")
    step = chat.press("Cuestionario")
    assert "Ya contestaste el cuestionario de entrada" in step.prompts[0].text
    assert "form" not in chat.state


def test_my_data_shows_the_profile_and_changes_the_language(chat):
    chat.text("hola")
    step = chat.press("Mis datos")
    assert "Nombre: Ana" in step.prompts[0].text and "Colonia: Centro" in step.prompts[0].text
    chat.press("Cambiar idioma")
    step = chat.press("English")
    assert step.effects == [UpdateGuardian(locale="en")]
    assert step.prompts[-1].text == "What would you like to do?"


def test_my_data_changes_the_colonia_with_fuzzy_matching(chat):
    chat.text("hola")
    chat.press("Mis datos")
    chat.press("Cambiar colonia")
    step = chat.text("Santa Rosa")
    assert step.effects == [UpdateGuardian(colonia_id=4)]


def test_a_plain_guardian_asking_for_staff_tools_is_refused(chat):
    chat.text("hola")
    step = chat.command(Command.STAFF)
    assert "solo para el personal" in step.prompts[0].text
    assert step.effects == []


def test_staff_send_a_visit_notice_to_a_colonia(shipped, gazetteer, staff):
    chat = Chat(catalog=shipped, gazetteer=gazetteer, guardian=staff)
    step = chat.text("hola")
    assert "Aviso a una colonia" in [c.label for c in step.prompts[-1].choices]
    chat.press("Aviso a una colonia")
    chat.press("Aviso de visita")
    chat.text("cerro cruz")
    chat.press("Cerro de la Cruz")
    chat.text("Parque de la Cruz")
    chat.text("el sábado 10:00")
    step = chat.text("Revisión de la poda")
    assert "Para: Cerro de la Cruz" in step.prompts[0].text
    step = chat.press("Enviar")
    (action,) = step.effects
    assert isinstance(action, StaffAction)
    assert (action.action, action.colonia_id) == ("visit", 3)
    assert action.text == "Revisión de la poda"
    assert action.details["place"] == "Parque de la Cruz"


def test_staff_command_opens_the_staff_flow_for_staff(shipped, gazetteer, staff):
    chat = Chat(catalog=shipped, gazetteer=gazetteer, guardian=staff)
    step = chat.text("/staff")
    assert [c.label for c in step.prompts[-1].choices][:2] == [
        "Mensaje a una colonia",
        "Aviso de visita",
    ]


def test_staff_can_cancel_a_broadcast_before_sending(shipped, gazetteer, staff):
    chat = Chat(catalog=shipped, gazetteer=gazetteer, guardian=staff)
    chat.command(Command.STAFF)
    chat.press("Mensaje a una colonia")
    chat.text("Centro")
    chat.text("Hola vecinos")
    step = chat.press("Cancelar")
    assert step.effects == []


def test_unsupported_messages_in_the_menu_get_a_polite_reply(chat):
    chat.text("hola")
    step = chat.send(InboundKind.UNSUPPORTED)
    assert "No puedo leer" in step.prompts[0].text
    assert step.prompts[-1].text == "¿Qué quieres hacer?"

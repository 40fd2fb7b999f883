"""The training path in the engine: pre quiz, lessons one screen at a time, post quiz with the
gain and the reasons; where to complain, from the menu and after a failing card."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import (
    ComplaintChannelRef,
    CourseProgress,
    EngineContext,
    QuizPhase,
    QuizScore,
    RecordMunicipalReport,
    SaveCourseProgress,
    SaveQuizAttempt,
    SaveSubmission,
)
from guardianes.conversations.course import DEFAULT_COURSE_DIR, load_course
from guardianes.conversations.flows.quiz import normalized_gain
from guardianes.conversations.messages import Command, GeoPoint

from .conftest import PARK_POINT, Chat, photo

CHANNELS = (
    ComplaintChannelRef(kind="phone", name="Alumbrado", contact="072", service="street_lighting"),
    ComplaintChannelRef(
        kind="office", name="Sindicatura", contact="Calle Victoria 14", confirmed=True
    ),
)


class CourseChat(Chat):
    """A chat whose context also carries the complaint channels."""

    def ctx(self) -> EngineContext:
        return replace(super().ctx(), complaint_channels=CHANNELS)


@pytest.fixture(scope="module")
def with_course(shipped: FormCatalog) -> FormCatalog:
    return replace(shipped, course=load_course(DEFAULT_COURSE_DIR))


@pytest.fixture
def learner(with_course, gazetteer, guardian) -> CourseChat:
    return CourseChat(catalog=with_course, gazetteer=gazetteer, guardian=guardian)


def answer_quiz(chat: Chat, right: int):
    """Answer the quiz: the first `right` scored questions right, the others wrong."""
    quiz = chat.catalog.get("cuestionario_capacitacion")
    step = chat.steps[-1]
    scored = [q for q in quiz.questions if q.scored]
    for number, question in enumerate(scored):
        correct = number < right
        picks = [i for i, c in enumerate(question.choices) if c.correct is correct]
        if question.type.value == "select_multiple":
            step = chat.text(",".join(str(i + 1) for i in picks))
        else:
            step = chat.text(str(picks[0] + 1))
    return step


def menu_labels(chat: Chat) -> list[str]:
    return [c.label for c in chat.last.choices]


def progress_effects(chat: Chat) -> list[SaveCourseProgress]:
    return [e for step in chat.steps for e in step.effects if isinstance(e, SaveCourseProgress)]


def test_registration_ends_with_an_invitation_to_the_course_and_the_menu(with_course, gazetteer):
    newcomer = Chat(catalog=with_course, gazetteer=gazetteer, guardian=None)
    newcomer.text("hola")
    newcomer.press("Español")
    newcomer.press("Sí, acepto")
    newcomer.text("Ana")
    step = newcomer.text("Centro")
    assert "Te invitamos al «Curso de Guardianes Ciudadanos»" in newcomer.texts()
    assert "Curso: empezar" in [c.label for c in step.prompts[-1].choices]


def test_the_menu_offers_the_course_and_where_to_complain(learner):
    learner.text("hola")
    assert menu_labels(learner)[:4] == [
        "Llenar una tarjeta",
        "¿Quién es responsable?",
        "Curso: empezar",
        "¿Dónde me quejo?",
    ]


def test_the_menu_in_english(learner):
    learner.guardian = replace(learner.guardian, locale="en")
    learner.text("hello")
    labels = menu_labels(learner)
    assert "Course: start" in labels and "Where do I complain?" in labels


def test_the_pre_quiz_leads_straight_into_the_first_lesson(learner):
    learner.text("hola")
    learner.press("Curso: empezar")
    step = answer_quiz(learner, right=7)
    attempt = next(e for e in step.effects if isinstance(e, SaveQuizAttempt))
    assert attempt.phase is QuizPhase.PRE and attempt.score == 7
    assert "Acertaste 7 de 14" in learner.texts()
    assert learner.last.text.startswith("Lección 1 de 6 · ¿Qué hace la Sindicatura? (1/3)")
    assert [c.label for c in learner.last.choices] == ["Siguiente", "Repetir", "Más tarde"]
    assert progress_effects(learner)[-1] == SaveCourseProgress(
        course_id="chihuahua",
        lesson_id="sindicatura",
        lessons_done=(),
        completed=False,
        at=learner.now,
    )


def test_next_walks_the_screens_then_the_next_lesson(learner):
    learner.guardian = replace(learner.guardian, quiz_phases_done=frozenset({QuizPhase.PRE}))
    learner.text("hola")
    learner.press("Curso")
    assert learner.last.text.startswith("Lección 1 de 6")
    learner.press("Siguiente")
    assert "(2/3)" in learner.last.text
    learner.press("Siguiente")
    step = learner.press("Siguiente")
    assert learner.last.text.startswith("Lección 2 de 6 · Cómo se organiza el gobierno municipal")
    (saved,) = [e for e in step.effects if isinstance(e, SaveCourseProgress)]
    assert saved.lesson_id == "gobierno-municipal" and saved.lessons_done == ("sindicatura",)


def test_repeat_goes_back_to_the_first_screen_of_the_lesson(learner):
    learner.guardian = replace(learner.guardian, quiz_phases_done=frozenset({QuizPhase.PRE}))
    learner.text("hola")
    learner.press("Curso")
    learner.press("Siguiente")
    step = learner.press("Repetir")
    assert "(1/3)" in learner.last.text and step.effects == []


def test_typing_the_button_word_works_too(learner):
    learner.guardian = replace(learner.guardian, quiz_phases_done=frozenset({QuizPhase.PRE}))
    learner.text("hola")
    learner.press("Curso")
    learner.text("siguiente")
    assert "(2/3)" in learner.last.text


def test_later_keeps_the_progress_and_the_menu_shows_it(learner):
    progress = CourseProgress(
        course_id="chihuahua",
        lesson_id="como-compra",
        lessons_done=("sindicatura", "gobierno-municipal"),
    )
    learner.guardian = replace(
        learner.guardian,
        quiz_phases_done=frozenset({QuizPhase.PRE}),
        course_progress=progress,
    )
    learner.text("hola")
    assert "Continuar curso (lección 3 de 6)" in menu_labels(learner)
    learner.press("Continuar curso")
    assert learner.last.text.startswith("Lección 3 de 6 · Cómo compra el municipio")
    learner.press("Más tarde")
    assert "vas en la lección 3 de 6" in learner.texts()
    assert learner.state["step"] == "menu"


def test_the_post_quiz_opens_when_the_lessons_are_done(learner):
    course = learner.catalog.course
    last = course.lessons[-1]
    learner.guardian = replace(
        learner.guardian,
        quiz_phases_done=frozenset({QuizPhase.PRE}),
        course_progress=CourseProgress(course_id="chihuahua", lesson_id=last.id),
    )
    learner.text("hola")
    learner.press("Continuar curso")
    for _ in last.screens_in("es"):
        step = learner.press("Siguiente")
    saved = [e for e in step.effects if isinstance(e, SaveCourseProgress)]
    assert saved[-1].completed and saved[-1].lesson_id is None
    assert len(saved[-1].lessons_done) == len(course.lessons)
    assert "Ya puedes hacer el cuestionario final" in learner.texts()
    learner.press("Hacer cuestionario")
    assert "cuestionario de salida" in learner.steps[-1].prompts[0].text


def test_before_the_lessons_are_done_the_course_entry_continues_them(learner):
    learner.guardian = replace(learner.guardian, quiz_phases_done=frozenset({QuizPhase.PRE}))
    learner.text("hola")
    assert "Curso: lecciones" in menu_labels(learner)
    learner.press("Curso: lecciones")
    assert learner.state["step"] == "course.lesson"


def test_the_training_date_opens_the_post_quiz_without_the_lessons(learner):
    learner.guardian = replace(
        learner.guardian,
        quiz_phases_done=frozenset({QuizPhase.PRE}),
        training_date=date(2026, 11, 20),
    )
    learner.text("hola")
    assert "Cuestionario final" in menu_labels(learner)
    learner.press("Cuestionario final")
    assert learner.state["form"]["phase"] == "post"


def test_after_the_post_quiz_the_guardian_sees_the_gain_and_every_answer_with_its_reason(learner):
    learner.guardian = replace(
        learner.guardian,
        quiz_phases_done=frozenset({QuizPhase.PRE}),
        course_progress=CourseProgress(course_id="chihuahua", lesson_id=None, completed=True),
        pre_quiz=QuizScore(score=7, max_score=14),
    )
    learner.text("hola")
    learner.press("Cuestionario final")
    step = answer_quiz(learner, right=12)
    attempt = next(e for e in step.effects if isinstance(e, SaveQuizAttempt))
    assert attempt.phase is QuizPhase.POST and attempt.score == 12
    texts = learner.texts()
    assert "acertaste 7 de 14; ahora, 12 de 14 (+5)" in texts
    # g = (12/14 - 7/14) / (1 - 7/14) = 5/7 = 71%
    assert "Aprendiste el 71% de lo que te faltaba saber." in texts
    assert "✓ 1. ¿Quién encabeza el gobierno del municipio?" in texts
    assert "✗ 14. ¿Qué es la contraloría social?" in texts
    assert "La contraloría social es la vigilancia ciudadana" in texts
    assert "Respuesta correcta: Que la ciudadanía vigile" in texts
    assert learner.state["step"] == "menu"


def test_feedback_messages_stay_short_enough_for_every_channel(learner):
    learner.guardian = replace(learner.guardian, training_date=date(2026, 11, 1))
    learner.text("hola")
    learner.press("Cuestionario final")
    answer_quiz(learner, right=0)
    assert all(len(p.text) <= 2000 for p in learner.steps[-1].prompts)
    assert "No tenemos un cuestionario de entrada tuyo" in learner.texts()


def test_a_guardian_who_took_both_quizzes_can_review_the_lessons(learner):
    learner.guardian = replace(
        learner.guardian, quiz_phases_done=frozenset({QuizPhase.PRE, QuizPhase.POST})
    )
    learner.text("hola")
    learner.press("Curso: mis resultados")
    step = learner.press("Repasar lecciones")
    assert learner.last.text.startswith("Lección 1 de 6") and step.effects == []


def test_normalized_gain_is_undefined_when_the_pre_score_was_already_the_maximum():
    assert normalized_gain(0.5, 0.75, 1.0) == pytest.approx(0.5)
    assert normalized_gain(1.0, 1.0, 1.0) is None


# ---- where to complain ----


def test_where_do_i_complain_lists_the_service_channels_and_the_general_ones(learner):
    learner.text("hola")
    learner.press("¿Dónde me quejo?")
    learner.press("Alumbrado público")
    texts = learner.texts()
    assert "Teléfono – Alumbrado: 072" in texts
    assert "(dato por confirmar por la Sindicatura)" in texts
    assert "Oficina – Sindicatura: Calle Victoria 14" in texts
    step = learner.press("Ya lo reporté")
    (report,) = step.effects
    assert report == RecordMunicipalReport(service="street_lighting", reported_at=learner.now)


def test_a_park_card_that_reports_a_failure_asks_whether_it_was_reported(learner):
    learner.start_form("tarjeta_parques")
    learner.location(PARK_POINT)
    learner.press("Sí, es ese")
    learner.press("No")  # poda: a failure
    for label in ("Bien", "Nada", "No", "Bien", "Bien", "Bien", "Bien"):
        learner.press(label)
    learner.text("0")
    learner.photos(photo(1))
    learner.press("Listo")
    learner.press("4")
    step = learner.text("sin comentarios")
    saved = next(e for e in step.effects if isinstance(e, SaveSubmission))
    assert "¿Ya lo reportaste al municipio? Aquí puedes hacerlo:" in learner.texts()
    step = learner.press("Ya lo reporté")
    (report,) = step.effects
    assert report.service == "green_space_maintenance"
    assert report.form_id == "tarjeta_parques"
    assert report.submission_completed_at == saved.completed_at


def test_not_yet_goes_back_to_the_menu_without_recording(learner):
    learner.text("hola")
    learner.press("¿Dónde me quejo?")
    learner.press("Otro servicio")
    step = learner.press("Todavía no")
    assert step.effects == [] and learner.state["step"] == "menu"


def test_a_card_without_failures_goes_back_to_the_menu(learner):
    learner.start_form("tarjeta_basura")
    learner.location(GeoPoint(28.6355, -106.089))  # the street
    learner.text("1")  # lunes (a typed number answers a multiple choice at once)
    learner.press("Sí")  # the truck came
    learner.press("Hoy")
    learner.press("No")  # no dump
    learner.press("Listo")  # no photos
    learner.command(Command.SKIP)  # no comment
    assert "¿Ya lo reportaste" not in learner.texts()
    assert learner.state["step"] == "menu"


def test_lessons_in_english(learner):
    learner.guardian = replace(
        learner.guardian, locale="en", quiz_phases_done=frozenset({QuizPhase.PRE})
    )
    learner.text("hello")
    learner.press("Course: lessons")
    assert learner.last.text.startswith("Lesson 1 of 6 · What does the Syndic's office do? (1/3)")
    assert [c.label for c in learner.last.choices] == ["Next", "Repeat", "Later"]


def test_a_lesson_staff_removed_meanwhile_sends_the_guardian_to_the_menu(learner):
    learner.guardian = replace(learner.guardian, quiz_phases_done=frozenset({QuizPhase.PRE}))
    learner.text("hola")
    learner.press("Curso")
    learner.state["data"]["lesson"] = "borrada"
    learner.text("siguiente")
    assert "El curso cambió" in learner.texts() and learner.state["step"] == "menu"

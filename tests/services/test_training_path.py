"""The training path through the real pipeline and database: pre quiz, lessons, post quiz,
paired scores and their learning gain; a course interrupted and resumed after a restart;
"ya lo reporté" recorded; the course-idle reminder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from guardianes.config import Settings
from guardianes.conversations.course import DEFAULT_COURSE_DIR, load_course
from guardianes.domain.timezone import zone
from guardianes.runtime.bootstrap import build_runtime
from guardianes.scheduler.reminders import ReminderScheduler
from guardianes.services import reminders as reminders_service
from guardianes.services import training
from guardianes.services.reminders import ReminderSpec
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import Guardian, OutboxMessage, QuizAttempt, Submission
from guardianes.storage.models_training import CourseProgressRow, MunicipalReport
from tests.chat_driver import ChatDriver
from tests.services.conftest import register

COURSE = load_course(DEFAULT_COURSE_DIR)


async def answer_quiz(chat: ChatDriver, right: int) -> None:
    """Answer the shipped quiz: the first `right` scored questions right, the rest wrong."""
    quiz = chat.runtime.catalog.get(COURSE.quiz_form_id)
    assert quiz is not None
    for number, question in enumerate(q for q in quiz.questions if q.scored):
        picks = [i + 1 for i, c in enumerate(question.choices) if c.correct is (number < right)]
        if question.type.value == "select_multiple":
            await chat.text(",".join(str(p) for p in picks))
        else:
            await chat.text(str(picks[0]))


async def read_all_lessons(chat: ChatDriver) -> None:
    screens = sum(len(lesson.screens_in("es")) for lesson in COURSE.lessons)
    for _ in range(screens):
        await chat.press("Siguiente")


async def test_a_guardians_full_path_pairs_pre_and_post_and_gives_the_normalized_gain(
    chat: ChatDriver,
) -> None:
    await register(chat)
    await chat.press("Curso: empezar")
    await answer_quiz(chat, right=7)
    assert chat.last_question().text.startswith("Lección 1 de 6")
    await read_all_lessons(chat)
    assert "Ya puedes hacer el cuestionario final" in chat.last_question().text
    await chat.press("Hacer cuestionario")
    replies = await _answer_and_collect(chat, right=12)
    assert "acertaste 7 de 14; ahora, 12 de 14 (+5)" in chat.all_text(replies)
    assert "Aprendiste el 71% de lo que te faltaba saber." in chat.all_text(replies)

    async with chat.runtime.sessions() as session:
        attempts = (await session.execute(select(QuizAttempt))).scalars().all()
        progress = (await session.execute(select(CourseProgressRow))).scalar_one()
        report = await training.learning_gains(
            session, chat.runtime.catalog, form_id=COURSE.quiz_form_id
        )
    assert sorted((a.phase, a.score, a.max_score) for a in attempts) == [
        ("post", 12, 14),
        ("pre", 7, 14),
    ]
    assert progress.completed_at is not None and progress.lesson_id is None
    assert (report.paired, report.only_pre, report.only_post) == (1, 0, 0)
    (row,) = report.guardians
    assert row.pre_percent == pytest.approx(50.0)
    assert row.post_percent == pytest.approx(1200 / 14)
    assert row.normalized_gain == pytest.approx(5 / 7)
    assert report.hake_gain == pytest.approx(5 / 7)


async def _answer_and_collect(chat: ChatDriver, right: int) -> list:
    start = len(chat.replies)
    await answer_quiz(chat, right)
    return chat.replies[start:]


async def test_an_interrupted_course_resumes_at_the_same_lesson_after_a_restart(
    chat: ChatDriver, settings: Settings
) -> None:
    await register(chat)
    await chat.press("Curso: empezar")
    await answer_quiz(chat, right=5)
    first_two = sum(len(lesson.screens_in("es")) for lesson in COURSE.lessons[:2])
    for _ in range(first_two):
        await chat.press("Siguiente")
    assert chat.last_question().text.startswith("Lección 3 de 6")
    await chat.press("Siguiente")  # halfway through lesson 3
    await chat.press("Más tarde")
    await chat.runtime.close()

    restarted = await build_runtime(settings)
    try:
        resumed = ChatDriver(restarted, seen_outbox_id=chat.seen_outbox_id)
        await resumed.text("hola")
        labels = [c.label for c in resumed.last_question().choices]
        assert "Continuar curso (lección 3 de 6)" in labels
        await resumed.press("Continuar curso")
        assert resumed.last_question().text.startswith(
            "Lección 3 de 6 · Cómo compra el municipio: LP, IR y AD (1/4)"
        )
    finally:
        await restarted.close()


async def test_ya_lo_reporte_after_a_failing_card_is_recorded_with_the_card(
    chat: ChatDriver,
) -> None:
    await register(chat)
    await chat.press("Llenar una tarjeta")
    await chat.press("alumbrado")
    await chat.location(28.6355, -106.089)  # no lighting layer in the sample data
    await chat.text("Calle Victoria")
    await chat.text("3")  # lamps out: a failure
    await chat.text("0")
    await chat.press("No")  # not reported yet
    await chat.press("Listo")  # no photos
    replies = await chat.press("Omitir")  # no comment
    text = chat.all_text(replies)
    assert "¿Ya lo reportaste al municipio? Aquí puedes hacerlo:" in text
    assert "Atención ciudadana del municipio (alumbrado): 072" in text
    assert "(dato por confirmar por la Sindicatura)" in text
    await chat.press("Ya lo reporté")

    async with chat.runtime.sessions() as session:
        report = (await session.execute(select(MunicipalReport))).scalar_one()
        submission = (await session.execute(select(Submission))).scalar_one()
        guardian = (await session.execute(select(Guardian))).scalar_one()
        counts = await training.municipal_report_counts(session)
    assert report.submission_id == submission.id
    assert report.service_code == "street_lighting"
    assert report.colonia_id == guardian.colonia_id is not None
    assert [(c.colonia_name, c.service_code, c.count) for c in counts] == [
        ("Centro", "street_lighting", 1)
    ]


async def test_guardians_idle_halfway_through_the_course_are_nudged_once(
    chat: ChatDriver,
) -> None:
    await register(chat)
    await chat.press("Curso: empezar")
    await answer_quiz(chat, right=5)
    await chat.press("Más tarde")
    runtime = chat.runtime
    set_up = datetime.now(UTC)
    async with unit_of_work(runtime.sessions) as session:
        await session.execute(
            update(CourseProgressRow).values(last_activity_at=set_up - timedelta(days=4))
        )
        reminder = await reminders_service.create_reminder(
            session,
            ReminderSpec(
                name="curso pendiente",
                cron={"hour": 18, "minute": 0},
                message_key=training.COURSE_IDLE_MESSAGE_KEY,
            ),
            timezone=zone(runtime.settings.timezone),
            now=set_up,
        )
    assert reminder.next_run_at is not None
    fire = reminder.next_run_at + timedelta(minutes=1)  # daily at 18:00 local
    scheduler = ReminderScheduler(runtime)
    first = await scheduler.tick(fire)
    second = await scheduler.tick(fire + timedelta(days=1))
    assert (first.sent, second.sent) == (1, 0)  # one nudge per pause, not one a day
    async with runtime.sessions() as session:
        rows = (
            await session.execute(select(OutboxMessage).where(OutboxMessage.kind == "reminder"))
        ).scalars()
        (message,) = list(rows)
    assert "te quedaste a la mitad del curso" in message.payload["text"]


async def test_a_guardian_who_finished_the_lessons_is_not_nudged(chat: ChatDriver) -> None:
    await register(chat)
    runtime = chat.runtime
    now = datetime.now(UTC)
    async with unit_of_work(runtime.sessions) as session:
        guardian = (await session.execute(select(Guardian))).scalar_one()
        session.add(
            CourseProgressRow(
                guardian_id=guardian.id,
                course_id=COURSE.course_id,
                lesson_id=None,
                lessons_done=[],
                started_at=now - timedelta(days=9),
                last_activity_at=now - timedelta(days=9),
                completed_at=now - timedelta(days=9),
            )
        )
        await session.flush()
        reminder = await reminders_service.create_reminder(
            session,
            ReminderSpec(
                name="curso", cron={"hour": 18}, message_key=training.COURSE_IDLE_MESSAGE_KEY
            ),
            timezone=zone(runtime.settings.timezone),
            now=now,
        )
        recipients = await training.course_idle_recipients(session, reminder, now=now, idle_days=3)
    assert recipients == []


async def test_a_refused_course_leaves_the_bot_running_without_lessons(
    settings: Settings, tmp_path, caplog: pytest.LogCaptureFixture
) -> None:
    broken = tmp_path / "curso"
    broken.mkdir()
    (broken / "course.toml").write_text('id = "x"\n', encoding="utf-8")
    runtime = await build_runtime(settings.model_copy(update={"course_dir": broken}))
    try:
        assert runtime.catalog.course is None
        assert runtime.catalog.quizzes()
    finally:
        await runtime.close()
    assert "course refused: course.toml: quiz (the form id of the pre/post quiz) is required" in (
        caplog.text
    )

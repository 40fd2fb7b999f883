"""Quizzes: the pre/post quiz of the course (or the programme's first quiz) and the
feedback after the post quiz: score, normalized gain, and the right answers explained."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from guardianes.conversations.context import QuizPhase, SaveQuizAttempt
from guardianes.conversations.flows import cards, course, menu
from guardianes.conversations.form_logic import answer_is_right
from guardianes.conversations.turn import Turn
from guardianes.conversations.xlsform import Form

MAX_FEEDBACK_CHARS = 1500  # one chat message of answers; WhatsApp and Telegram take more
PERCENT = 100


def quiz_phase(turn: Turn) -> QuizPhase:
    """Before the guardian's training date it is the pre-test; from that day on, the post-test."""
    guardian = turn.ctx.guardian
    training = guardian.training_date if guardian else None
    if training is None or turn.ctx.now.date() < training:
        return QuizPhase.PRE
    return QuizPhase.POST


def start_quiz(turn: Turn) -> None:
    """Without a course: the quiz of the current phase, once per guardian and phase."""
    phase = quiz_phase(turn)
    guardian = turn.ctx.guardian
    if guardian is not None and phase in guardian.quiz_phases_done:
        turn.say(turn.t(f"quiz.already_done.{phase.value}"))
        menu.show_menu(turn)
        return
    quizzes = turn.catalog.quizzes()
    if not quizzes:
        turn.say(turn.t("quiz.none"))
        menu.show_menu(turn)
        return
    # One pre/post pair per guardian: the programme's quiz is the first one installed.
    _begin(turn, quizzes[0], phase)


def start_course_quiz(turn: Turn, form_id: str, phase: QuizPhase) -> None:
    """The course's quiz in the given phase."""
    form = turn.catalog.get(form_id)
    assert form is not None  # course.course_of checked it
    _begin(turn, form, phase)


def _begin(turn: Turn, form: Form, phase: QuizPhase) -> None:
    turn.say(turn.t(f"quiz.intro.{phase.value}"))
    cards.start(turn, form, phase)


def after_attempt(turn: Turn, attempt: SaveQuizAttempt) -> bool:
    """Feedback after the post quiz; the lessons after the course's pre quiz (True)."""
    current = course.course_of(turn)
    form = turn.catalog.get(attempt.form_id)
    if attempt.phase is QuizPhase.POST and form is not None:
        _feedback(turn, form, attempt)
    elif current is not None and current.quiz_form_id == attempt.form_id and current.lessons:
        turn.say(turn.t("training.lessons_start", lessons=len(current.lessons)))
        course.show_lesson(turn, current, 0, 0)
        return True
    return False


def normalized_gain(pre: float, post: float, maximum: float) -> float | None:
    """Hake's normalized gain (post - pre) / (max - pre); None when pre is already the max."""
    if maximum - pre <= 0:
        return None
    return (post - pre) / (maximum - pre)


def _feedback(turn: Turn, form: Form, attempt: SaveQuizAttempt) -> None:
    guardian = turn.ctx.guardian
    pre = guardian.pre_quiz if guardian else None
    post, total = attempt.score, attempt.max_score
    if pre is None or pre.max_score <= 0 or total <= 0:
        turn.say(turn.t("training.gain_no_pre", post=post, total=total))
    else:
        turn.say(
            turn.t(
                "training.gain",
                pre=pre.score,
                pre_total=pre.max_score,
                post=post,
                total=total,
                difference=f"{post - pre.score:+d}",
            )
        )
        gain = normalized_gain(pre.score / pre.max_score, post / total, 1.0)
        if gain is None:
            turn.say(turn.t("training.gain_was_max"))
        elif gain > 0:
            turn.say(turn.t("training.gain_normalized", percent=round(gain * PERCENT)))
    lines = _answer_lines(turn, form, attempt.answers)
    if lines:
        for chunk in _chunks([turn.t("training.answers_title"), *lines]):
            turn.say(chunk)


def _answer_lines(turn: Turn, form: Form, answers: dict[str, Any]) -> list[str]:
    lines: list[str] = []
    number = 0
    for question in form.questions:
        if not question.scored:
            continue
        number += 1
        right = answer_is_right(question, answers.get(question.name))
        correct = [
            form.text(c.labels, turn.locale) or c.name for c in question.choices if c.correct
        ]
        reason = form.text(question.explanations, turn.locale)
        line = turn.t(
            "training.answer_right" if right else "training.answer_wrong",
            number=number,
            question=form.text(question.labels, turn.locale) or question.name,
            answer="; ".join(correct),
        )
        if reason:
            line += "\n" + reason
        lines.append(line)
    return lines


def _chunks(lines: Sequence[str]) -> list[str]:
    chunks: list[str] = []
    current = ""
    for line in lines:
        candidate = f"{current}\n\n{line}" if current else line
        if current and len(candidate) > MAX_FEEDBACK_CHARS:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current:
        chunks.append(current)
    return chunks

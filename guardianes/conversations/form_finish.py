"""Finishing a form: the submission or quiz attempt to save, and the closing message."""

from __future__ import annotations

from datetime import datetime

from guardianes.conversations.context import QuizPhase, SaveQuizAttempt, SaveSubmission
from guardianes.conversations.form_logic import final_answers, score_quiz
from guardianes.conversations.messages import GeoPoint, StoredMedia
from guardianes.conversations.turn import Turn
from guardianes.conversations.xlsform import Form, FormKind, QuestionType

_MEDIA_TYPES = frozenset({QuestionType.IMAGE, QuestionType.AUDIO})  # answered with stored files


def finish(turn: Turn, form: Form) -> None:
    """Save the finished form (the caller decides what follows)."""
    fs = turn.state.form
    assert fs is not None
    today = turn.ctx.now.date()
    answers = final_answers(form, fs.answers, today)
    started_at = datetime.fromisoformat(fs.started_at)
    turn.state.form = None
    if form.kind is FormKind.QUIZ:
        score, total = score_quiz(form, answers, today)
        phase = QuizPhase(fs.phase or QuizPhase.PRE)
        turn.effects.append(
            SaveQuizAttempt(
                form_id=form.form_id,
                form_version=form.version,
                phase=phase,
                answers=answers,
                score=score,
                max_score=total,
                started_at=started_at,
                completed_at=turn.ctx.now,
            )
        )
        course = turn.catalog.course
        in_course = course is not None and course.quiz_form_id == form.form_id
        prefix = "training.quiz_finished" if in_course else "quiz.finished"
        turn.say(turn.t(f"{prefix}.{phase.value}", score=score, total=total))
        return
    photos: list[StoredMedia] = []
    location = None
    for question in form.questions:
        value = answers.get(question.name)
        if question.type in _MEDIA_TYPES and isinstance(value, list):
            media = [StoredMedia(**item) for item in value]
            photos.extend(media)
            answers[question.name] = [m.path for m in media]
        elif question.type is QuestionType.GEOPOINT and isinstance(value, dict):
            point = GeoPoint(latitude=value["latitude"], longitude=value["longitude"])
            if location is None or question.name == form.space_question:
                location = point
    space = fs.space
    turn.effects.append(
        SaveSubmission(
            form_id=form.form_id,
            form_version=form.version,
            answers=answers,
            location=location,
            space_id=space.id if space else None,
            photos=tuple(photos),
            started_at=started_at,
            completed_at=turn.ctx.now,
        )
    )
    turn.say(turn.t("form.saved", title=form.localized_title(turn.locale)))

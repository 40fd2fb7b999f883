"""The training path in chat: pre quiz, lessons one screen at a time, post quiz, feedback.

```mermaid
stateDiagram-v2
    colonia.pick --> menu: registered, invited to the course (its menu entry starts it)
    menu --> form: pre quiz
    form --> course.lesson: pre quiz saved
    course.lesson --> course.lesson: next / repeat (SaveCourseProgress)
    course.lesson --> menu: later (progress kept)
    course.lesson --> course.post_offer: last screen (SaveCourseProgress completed)
    course.post_offer --> form: post quiz
    form --> menu: post quiz saved, gain and answers shown
```

Progress lives in storage (`SaveCourseProgress`), not only in the conversation state, so a
guardian who left halfway finds "continue course (lesson 3 of 6)" in the menu days later,
after restarts, on any channel. The post quiz opens when the lessons are done or on the
training date staff set for an in-person training.
"""

from __future__ import annotations

from guardianes.conversations.context import CourseProgress, QuizPhase, SaveCourseProgress
from guardianes.conversations.course import Course
from guardianes.conversations.flows import common, menu, quiz
from guardianes.conversations.state import FlowStep
from guardianes.conversations.turn import Route, Turn


class Step(FlowStep):
    """The lessons, the offer of the post quiz, the review of a finished course."""

    LESSON = "course.lesson"
    POST_OFFER = "course.post_offer"
    REVIEW = "course.review"


def course_of(turn: Turn) -> Course | None:
    """The installed course, when its quiz is installed too."""
    course = turn.catalog.course
    if course is None or turn.catalog.get(course.quiz_form_id) is None:
        return None
    return course


def _progress(turn: Turn, course: Course) -> CourseProgress:
    guardian = turn.ctx.guardian
    stored = guardian.course_progress if guardian else None
    if stored is None or stored.course_id != course.course_id:
        return CourseProgress(course_id=course.course_id, lesson_id=None)
    return stored


def _training_passed(turn: Turn) -> bool:
    guardian = turn.ctx.guardian
    training = guardian.training_date if guardian else None
    return training is not None and turn.ctx.now.date() >= training


def stage(turn: Turn, course: Course) -> str:
    """Where the guardian is: "pre", "lessons", "post" (unlocked) or "done"."""
    guardian = turn.ctx.guardian
    done = guardian.quiz_phases_done if guardian else frozenset()
    if QuizPhase.POST in done:
        return "done"
    if QuizPhase.PRE not in done and not _training_passed(turn):
        return "pre"
    if _progress(turn, course).completed or _training_passed(turn):
        return "post"
    return "lessons"


def _current_index(turn: Turn, course: Course) -> int:
    return course.index_of(_progress(turn, course).lesson_id) or 0


def menu_label(turn: Turn) -> str:
    """The menu entry of the course, with progress: "Continue course (lesson 3 of 6)"."""
    course = course_of(turn)
    if course is None:
        return turn.t("menu.quiz")
    where = stage(turn, course)
    if where == "lessons" and _progress(turn, course).lesson_id is not None:
        return turn.t(
            "training.menu.continue",
            number=_current_index(turn, course) + 1,
            total=len(course.lessons),
        )
    return turn.t(f"training.menu.{where}")


# ---- entry points ----


def offer_after_registration(turn: Turn) -> bool:
    """Right after registration: invite to the course, whose first step is the pre quiz.

    The invitation comes with the menu, whose course entry starts it: a guardian who would
    rather fill a card first is not held up by a question.
    """
    course = course_of(turn)
    if course is None:
        return False
    turn.say(
        turn.t(
            "training.offer",
            course=course.title(turn.locale),
            entry=turn.t("training.menu.pre"),
        )
    )
    menu.show_menu(turn)
    return True


def start(turn: Turn) -> None:
    """The menu's course entry: the next thing to do on the path."""
    course = course_of(turn)
    if course is None:
        quiz.start_quiz(turn)
        return
    where = stage(turn, course)
    if where == "pre":
        turn.say(turn.t("training.intro", lessons=len(course.lessons)))
        quiz.start_course_quiz(turn, course.quiz_form_id, QuizPhase.PRE)
    elif where == "lessons":
        show_lesson(turn, course, _current_index(turn, course), 0)
    elif where == "post":
        quiz.start_course_quiz(turn, course.quiz_form_id, QuizPhase.POST)
    else:
        _offer_review(turn, course)


def _offer_review(turn: Turn, course: Course) -> None:
    turn.goto(Step.REVIEW)
    turn.ask(
        scope=f"course.review:{course.course_id}",
        text=turn.t("training.all_done"),
        options=[("review", turn.t("training.review")), ("menu", turn.t("menu.back"))],
    )


def on_review(turn: Turn) -> None:
    """Read the lessons again (progress stays as it is), or back to the menu."""
    course = course_of(turn)
    key = turn.choice_or_typed()
    if course is not None and key == "review":
        show_lesson(turn, course, 0, 0, review=True)
    else:
        menu.show_menu(turn)


# ---- lessons ----


def _save_progress(turn: Turn, course: Course, index: int | None) -> None:
    """Record the lesson now in progress (None: every lesson done)."""
    lessons = course.lessons
    done = tuple(lesson.id for lesson in (lessons if index is None else lessons[:index]))
    turn.effects.append(
        SaveCourseProgress(
            course_id=course.course_id,
            lesson_id=None if index is None else lessons[index].id,
            lessons_done=done,
            completed=index is None,
            at=turn.ctx.now,
        )
    )


def show_lesson(
    turn: Turn, course: Course, index: int, screen: int, *, review: bool = False, save: bool = True
) -> None:
    """One screen of a lesson with "next", "repeat" and "later".

    Entering a lesson records it as the one in progress, except when reviewing a finished
    course or showing again a lesson already recorded (`save=False`).
    """
    lesson = course.lessons[index]
    screens = lesson.screens_in(turn.locale)
    if screen == 0 and save and not review:
        _save_progress(turn, course, index)
    turn.goto(Step.LESSON)
    turn.data.lesson, turn.data.screen, turn.data.review = lesson.id, screen, review
    header = turn.t(
        "training.lesson_header",
        number=index + 1,
        total=len(course.lessons),
        title=lesson.title(turn.locale),
    )
    if len(screens) > 1:
        header += " " + turn.t("training.screen_of", screen=screen + 1, screens=len(screens))
    turn.ask(
        scope=f"course:{course.course_id}:{lesson.id}:{screen}",
        text=f"{header}\n\n{screens[screen]}",
        options=[
            ("next", turn.t("training.next")),
            ("repeat", turn.t("training.repeat")),
            ("later", turn.t("training.later")),
        ],
    )


def _lesson_position(turn: Turn, course: Course) -> tuple[int, int] | None:
    index = course.index_of(str(turn.data.lesson))
    if index is None:
        return None  # staff removed the lesson since: the menu knows where to go on
    screens = course.lessons[index].screens_in(turn.locale)
    return index, min(turn.data.screen, len(screens) - 1)


def on_lesson(turn: Turn) -> None:
    """Next screen or lesson, the lesson again from its start, or later (back to the menu)."""
    course = course_of(turn)
    position = _lesson_position(turn, course) if course is not None else None
    if course is None or position is None:
        turn.say(turn.t("training.course_changed"))
        menu.show_menu(turn)
        return
    index, screen = position
    review = turn.data.review
    key = turn.choice_or_typed()
    if key == "next":
        if screen + 1 < len(course.lessons[index].screens_in(turn.locale)):
            show_lesson(turn, course, index, screen + 1, review=review)
        elif index + 1 < len(course.lessons):
            show_lesson(turn, course, index + 1, 0, review=review)
        else:
            _lessons_finished(turn, course, review=review)
    elif key == "repeat":
        show_lesson(turn, course, index, 0, review=review, save=False)
    elif key == "later":
        turn.say(turn.t("training.see_you", number=index + 1, total=len(course.lessons)))
        menu.show_menu(turn)
    else:
        turn.say(turn.t("training.expect_lesson_button"))
        show_lesson(turn, course, index, screen, review=review, save=False)


def _lessons_finished(turn: Turn, course: Course, *, review: bool) -> None:
    if review:
        turn.say(turn.t("training.review_done"))
        menu.show_menu(turn)
        return
    _save_progress(turn, course, None)
    guardian = turn.ctx.guardian
    if guardian is not None and QuizPhase.POST in guardian.quiz_phases_done:
        menu.show_menu(turn)
        return
    _offer_post(turn, course)


def _offer_post(turn: Turn, course: Course) -> None:
    turn.goto(Step.POST_OFFER)
    turn.ask(
        scope=f"course.post:{course.course_id}",
        text=turn.t("training.lessons_done"),
        options=[("post", turn.t("training.take_post")), ("later", turn.t("training.later"))],
    )


def on_post_offer(turn: Turn) -> None:
    """Take the post quiz now, or later from the menu."""
    course = course_of(turn)
    key = turn.choice_or_typed()
    if course is not None and key == "post":
        quiz.start_course_quiz(turn, course.quiz_form_id, QuizPhase.POST)
    elif key == "later" or course is None:
        turn.say(turn.t("training.find_in_menu"))
        menu.show_menu(turn)
    else:
        common.retry(turn)


def _reask_lesson(turn: Turn) -> None:
    course = course_of(turn)
    position = _lesson_position(turn, course) if course is not None else None
    if course is None or position is None:
        menu.show_menu(turn)
        return
    show_lesson(turn, course, *position, review=turn.data.review, save=False)


def _reask_post_offer(turn: Turn) -> None:
    course = course_of(turn)
    if course is None:
        menu.show_menu(turn)
        return
    _offer_post(turn, course)


def _reask_review(turn: Turn) -> None:
    course = course_of(turn)
    if course is None:
        menu.show_menu(turn)
    else:
        _offer_review(turn, course)


ROUTES = {
    Step.LESSON: Route(_reask_lesson, on_lesson),
    Step.POST_OFFER: Route(_reask_post_offer, on_post_offer),
    Step.REVIEW: Route(_reask_review, on_review),
}

"""Training: course progress and "ya lo reporté" from chat, complaint channels for the engine,
the course-idle reminder audience, and the learning-gains report.

Learning gains (Hake 1998) are computed on percentages, so attempts of quiz versions with a
different number of questions still compare:
- per guardian with both a pre and a post attempt of a quiz: gain = post% - pre%, and the
  normalized gain g = (post% - pre%) / (100 - pre%). g is undefined when pre% is already
  100: such guardians count in every mean except the mean of individual g, and are counted
  in `g_undefined`;
- for the group: mean pre%, mean post%, mean gain, Hake's average normalized gain from the
  class averages <g> = (<post%> - <pre%>) / (100 - <pre%>), and the mean of individual g;
- per question and per topic: the share right among all pre attempts and among all post
  attempts (unpaired ones included, with the number of attempts);
- guardians with only a pre or only a post attempt are counted (`only_pre`, `only_post`) and
  listed in the CSV, never silently dropped.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import fmean

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.context import (
    ComplaintChannelRef,
    CourseProgress,
    QuizScore,
    RecordMunicipalReport,
    SaveCourseProgress,
)
from guardianes.conversations.form_logic import answer_is_right
from guardianes.conversations.xlsform import Question
from guardianes.domain.enums import QuizPhase
from guardianes.services.references import check_references
from guardianes.storage.models import Guardian, Reminder
from guardianes.storage.models_training import MunicipalReport
from guardianes.storage.repositories import training as repo
from guardianes.storage.repositories.training import AttemptRow, ReportCount

COURSE_IDLE_MESSAGE_KEY = "reminders.course_idle"
PERCENT = 100.0
NO_TOPIC = "general"

# ---------------------------------------------------------------- chat side


async def save_course_progress(
    session: AsyncSession, guardian: Guardian, effect: SaveCourseProgress
) -> None:
    """Persist where the guardian is in the course."""
    await repo.save_progress(
        session,
        guardian_id=guardian.id,
        course_id=effect.course_id,
        lesson_id=effect.lesson_id,
        lessons_done=effect.lessons_done,
        completed=effect.completed,
        at=effect.at,
    )


async def record_municipal_report(
    session: AsyncSession, guardian: Guardian, effect: RecordMunicipalReport
) -> MunicipalReport:
    """Record a "ya lo reporté", linked to the card that showed the failure when there is one."""
    submission_id = None
    if effect.form_id is not None and effect.submission_completed_at is not None:
        submission_id = await repo.find_submission_id(
            session,
            guardian_id=guardian.id,
            form_id=effect.form_id,
            completed_at=effect.submission_completed_at,
        )
    return await repo.add_municipal_report(
        session,
        MunicipalReport(
            guardian_id=guardian.id,
            submission_id=submission_id,
            service_code=effect.service,
            colonia_id=guardian.colonia_id,
            reported_at=effect.reported_at,
        ),
    )


async def training_profile(
    session: AsyncSession, guardian_id: int, catalog: FormCatalog
) -> tuple[frozenset[QuizPhase], CourseProgress | None, QuizScore | None]:
    """The quiz phases a guardian completed, their course progress and their pre-quiz score."""
    course = catalog.course
    quizzes = catalog.quizzes()
    quiz_id = (
        course.quiz_form_id if course is not None else (quizzes[0].form_id if quizzes else None)
    )
    progress = None
    if course is not None:
        row = await repo.get_progress(session, guardian_id, course.course_id)
        if row is not None:
            progress = CourseProgress(
                course_id=row.course_id,
                lesson_id=row.lesson_id,
                lessons_done=tuple(str(x) for x in row.lessons_done or []),
                completed=row.completed_at is not None,
            )
    # One read gives both the phases done (any quiz) and the pre-quiz score.
    attempts = await repo.attempt_scores(session, guardian_id)
    phases = frozenset(QuizPhase(attempt.phase) for attempt in attempts)
    pre = next(
        (
            QuizScore(score=attempt.score, max_score=attempt.max_score)
            for attempt in attempts
            if attempt.form_id == quiz_id and attempt.phase == QuizPhase.PRE
        ),
        None,
    )
    return phases, progress, pre


async def complaint_channel_refs(
    session: AsyncSession, *, city_id: int | None = None
) -> tuple[ComplaintChannelRef, ...]:
    """The active complaint channels of a city (None: every city's) as the engine sees them."""
    return tuple(
        ComplaintChannelRef(
            kind=row.kind,
            name=row.name,
            contact=row.contact,
            service=row.service_code,
            hours=row.hours,
            notes=row.notes,
            confirmed=row.confirmed,
        )
        for row in await repo.list_complaint_channels(session, city_id=city_id)
    )


async def course_idle_recipients(
    session: AsyncSession, reminder: Reminder, *, now: datetime, idle_days: int
) -> list[int]:
    """Who gets a "course in progress, idle N days" reminder at `now`."""
    return await repo.idle_course_guardians(
        session,
        reminder_id=reminder.id,
        colonia_id=reminder.colonia_id,
        guardian_id=reminder.guardian_id,
        idle_before=now - timedelta(days=idle_days),
    )


# ---------------------------------------------------------------- learning gains


@dataclass(frozen=True, slots=True)
class GuardianGain:
    """One guardian's attempts of one quiz; `status` is paired, only_pre or only_post."""

    guardian_id: int
    colonia_id: int | None
    form_id: str
    status: str
    pre_score: int | None
    pre_max: int | None
    post_score: int | None
    post_max: int | None
    pre_percent: float | None
    post_percent: float | None
    gain: float | None  # percentage points
    normalized_gain: float | None  # None when unpaired or pre was 100%


@dataclass(frozen=True, slots=True)
class ShareCorrect:
    """Share of right answers to a question (or topic) before and after."""

    key: str  # question name or topic
    topic: str | None
    label: str | None
    pre_attempts: int
    pre_right: int
    post_attempts: int
    post_right: int

    @property
    def pre_share(self) -> float | None:
        """Right answers among pre attempts (0-1)."""
        return self.pre_right / self.pre_attempts if self.pre_attempts else None

    @property
    def post_share(self) -> float | None:
        """Right answers among post attempts (0-1)."""
        return self.post_right / self.post_attempts if self.post_attempts else None


@dataclass(frozen=True, slots=True)
class LearningGains:
    """The whole report."""

    paired: int
    only_pre: int
    only_post: int
    g_undefined: int  # paired guardians whose pre was already 100%
    mean_pre: float | None
    mean_post: float | None
    mean_gain: float | None
    hake_gain: float | None  # from class averages
    mean_individual_gain: float | None
    guardians: list[GuardianGain] = field(default_factory=list)
    questions: list[ShareCorrect] = field(default_factory=list)
    topics: list[ShareCorrect] = field(default_factory=list)


def _percent(score: int, maximum: int) -> float | None:
    return PERCENT * score / maximum if maximum > 0 else None


def normalized_gain(pre_percent: float, post_percent: float) -> float | None:
    """g = (post - pre) / (100 - pre); None when pre is already 100%."""
    if pre_percent >= PERCENT:
        return None
    return (post_percent - pre_percent) / (PERCENT - pre_percent)


def _guardian_gains(attempts: list[AttemptRow]) -> list[GuardianGain]:
    by_key: dict[tuple[int, str], dict[str, AttemptRow]] = defaultdict(dict)
    for attempt in attempts:
        by_key[(attempt.guardian_id, attempt.form_id)][attempt.phase] = attempt
    rows: list[GuardianGain] = []
    for (guardian_id, form_id), phases in sorted(by_key.items()):
        pre = phases.get(QuizPhase.PRE.value)
        post = phases.get(QuizPhase.POST.value)
        pre_pct = _percent(pre.score, pre.max_score) if pre else None
        post_pct = _percent(post.score, post.max_score) if post else None
        paired = pre_pct is not None and post_pct is not None
        status = "paired" if pre and post else ("only_pre" if pre else "only_post")
        first = pre or post
        colonia = first.colonia_id if first is not None else None
        rows.append(
            GuardianGain(
                guardian_id=guardian_id,
                colonia_id=colonia,
                form_id=form_id,
                status=status,
                pre_score=pre.score if pre else None,
                pre_max=pre.max_score if pre else None,
                post_score=post.score if post else None,
                post_max=post.max_score if post else None,
                pre_percent=pre_pct,
                post_percent=post_pct,
                gain=post_pct - pre_pct
                if paired and pre_pct is not None and post_pct is not None
                else None,
                normalized_gain=normalized_gain(pre_pct, post_pct)
                if pre_pct is not None and post_pct is not None
                else None,
            )
        )
    return rows


def _shares(
    attempts: list[AttemptRow], catalog: FormCatalog
) -> tuple[list[ShareCorrect], list[ShareCorrect]]:
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    topics: dict[tuple[str, str], str | None] = {}
    labels: dict[tuple[str, str], str | None] = {}
    scored: dict[str, list[Question]] = {}
    for attempt in attempts:
        if attempt.form_id not in scored:
            form = catalog.get(attempt.form_id)
            # A quiz no longer installed: its questions can't be scored.
            scored[attempt.form_id] = [q for q in form.questions if q.scored] if form else []
            for question in scored[attempt.form_id]:
                assert form is not None
                key = (attempt.form_id, question.name)
                topics[key] = question.topic
                labels[key] = form.text(question.labels, form.default_language)
        offset = 0 if attempt.phase == QuizPhase.PRE.value else 2
        for question in scored[attempt.form_id]:
            if question.name not in attempt.answers:
                continue
            tally = counts[(attempt.form_id, question.name)]
            tally[offset] += 1
            tally[offset + 1] += int(answer_is_right(question, attempt.answers[question.name]))
    one_quiz = len({form_id for form_id, _ in counts}) == 1
    questions = [
        ShareCorrect(
            key=name if one_quiz else f"{form_id}:{name}",
            topic=topics[(form_id, name)],
            label=labels[(form_id, name)],
            pre_attempts=c[0],
            pre_right=c[1],
            post_attempts=c[2],
            post_right=c[3],
        )
        for (form_id, name), c in counts.items()
    ]
    by_topic: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for share in questions:
        totals = by_topic[share.topic or NO_TOPIC]
        totals[0] += share.pre_attempts
        totals[1] += share.pre_right
        totals[2] += share.post_attempts
        totals[3] += share.post_right
    topic_rows = [
        ShareCorrect(
            key=topic,
            topic=topic,
            label=None,
            pre_attempts=t[0],
            pre_right=t[1],
            post_attempts=t[2],
            post_right=t[3],
        )
        for topic, t in sorted(by_topic.items())
    ]
    return questions, topic_rows


def compute_learning_gains(attempts: list[AttemptRow], catalog: FormCatalog) -> LearningGains:
    """The report from attempt rows (pure, so it is checked on known numbers)."""
    guardians = _guardian_gains(attempts)
    paired = [g for g in guardians if g.status == "paired"]
    pre = [g.pre_percent for g in paired if g.pre_percent is not None]
    post = [g.post_percent for g in paired if g.post_percent is not None]
    individual = [g.normalized_gain for g in paired if g.normalized_gain is not None]
    mean_pre = fmean(pre) if pre else None
    mean_post = fmean(post) if post else None
    hake = (
        normalized_gain(mean_pre, mean_post)
        if mean_pre is not None and mean_post is not None
        else None
    )
    questions, topics = _shares(attempts, catalog)
    return LearningGains(
        paired=len(paired),
        only_pre=sum(g.status == "only_pre" for g in guardians),
        only_post=sum(g.status == "only_post" for g in guardians),
        g_undefined=len(paired) - len(individual),
        mean_pre=mean_pre,
        mean_post=mean_post,
        mean_gain=mean_post - mean_pre if mean_pre is not None and mean_post is not None else None,
        hake_gain=hake,
        mean_individual_gain=fmean(individual) if individual else None,
        guardians=guardians,
        questions=questions,
        topics=topics,
    )


async def learning_gains(
    session: AsyncSession,
    catalog: FormCatalog,
    *,
    form_id: str | None = None,
    colonia_id: int | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
) -> LearningGains:
    """The learning-gains report for the filters (see the module docstring)."""
    await check_references(session, colonia_id=colonia_id)
    attempts = await repo.attempts_for_gains(
        session, form_id=form_id, colonia_id=colonia_id, date_from=date_from, date_to=date_to
    )
    return compute_learning_gains(attempts, catalog)


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}".rstrip("0").rstrip(".")


def _optional(value: int | None) -> str:
    return "" if value is None else str(value)


def learning_gains_csv(report: LearningGains, table: str) -> str:
    """One table of the report as CSV: guardians, questions, topics or summary."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if table == "summary":
        writer.writerow(["measure", "value"])
        for name in (
            "paired",
            "only_pre",
            "only_post",
            "g_undefined",
            "mean_pre",
            "mean_post",
            "mean_gain",
            "hake_gain",
            "mean_individual_gain",
        ):
            value = getattr(report, name)
            writer.writerow([name, value if isinstance(value, int) else _number(value)])
    elif table in {"questions", "topics"}:
        writer.writerow(
            ["key", "topic", "pre_attempts", "pre_share", "post_attempts", "post_share", "label"]
        )
        for share in report.questions if table == "questions" else report.topics:
            writer.writerow(
                [
                    share.key,
                    share.topic or "",
                    share.pre_attempts,
                    _number(share.pre_share),
                    share.post_attempts,
                    _number(share.post_share),
                    share.label or "",
                ]
            )
    else:
        writer.writerow(
            [
                "guardian_id",
                "colonia_id",
                "form_id",
                "status",
                "pre_score",
                "pre_max",
                "post_score",
                "post_max",
                "pre_percent",
                "post_percent",
                "gain",
                "normalized_gain",
            ]
        )
        for row in report.guardians:
            writer.writerow(
                [
                    row.guardian_id,
                    _optional(row.colonia_id),
                    row.form_id,
                    row.status,
                    _optional(row.pre_score),
                    _optional(row.pre_max),
                    _optional(row.post_score),
                    _optional(row.post_max),
                    _number(row.pre_percent),
                    _number(row.post_percent),
                    _number(row.gain),
                    _number(row.normalized_gain),
                ]
            )
    return out.getvalue()


# ---------------------------------------------------------------- reported to the municipality


async def municipal_report_counts(
    session: AsyncSession,
    *,
    colonia_id: int | None = None,
    service_code: str | None = None,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
) -> list[ReportCount]:
    """ "Ya lo reporté" counted by colonia and service."""
    await check_references(session, colonia_id=colonia_id)
    return await repo.count_municipal_reports(
        session,
        colonia_id=colonia_id,
        service_code=service_code,
        date_from=date_from,
        date_to=date_to,
    )

"""Staff API for training: learning gains (JSON and CSV), complaint channels, and the count
of problems guardians say they reported to the municipality."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response, status
from pydantic import BaseModel, ConfigDict

from guardianes.api.auth import IdQuery, ViewerDep
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.params import local_period
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import NO_NUL
from guardianes.services import training
from guardianes.services.references import UnknownReferenceError
from guardianes.storage.repositories import training as training_repo

router = APIRouter(prefix=PREFIX, tags=["training"])
MAX_CODE = 100

FormQuery = Annotated[
    str | None,
    Query(
        max_length=MAX_CODE,
        pattern=NO_NUL,
        description="Quiz form id; default: the course's quiz (every quiz when no course).",
    ),
]
FromQuery = Annotated[
    datetime | None,
    Query(description="From this time on; without offset, local time (GUARDIANES_TIMEZONE)."),
]
ToQuery = Annotated[
    datetime | None, Query(description="Before this time (exclusive); local without offset.")
]
ServiceQuery = Annotated[
    str | None, Query(max_length=MAX_CODE, pattern=NO_NUL, description="Service type code.")
]


class GuardianGainPublic(BaseModel):
    """One guardian's pre and post attempts of a quiz."""

    model_config = ConfigDict(from_attributes=True)

    guardian_id: int
    colonia_id: int | None
    form_id: str
    status: Literal["paired", "only_pre", "only_post"]
    pre_score: int | None
    pre_max: int | None
    post_score: int | None
    post_max: int | None
    pre_percent: float | None
    post_percent: float | None
    gain: float | None
    normalized_gain: float | None


class ShareCorrectPublic(BaseModel):
    """Share of right answers to a question or topic, before (pre) and after (post)."""

    key: str
    topic: str | None
    label: str | None
    pre_attempts: int
    pre_share: float | None
    post_attempts: int
    post_share: float | None


class LearningGainsPublic(BaseModel):
    """Learning gains: scores in percent of the quiz's maximum, gains in percentage points,
    normalized gains as fractions (Hake's g: (post - pre) / (100 - pre))."""

    form_id: str | None
    paired: int
    only_pre: int
    only_post: int
    g_undefined: int
    mean_pre: float | None
    mean_post: float | None
    mean_gain: float | None
    hake_gain: float | None
    mean_individual_gain: float | None
    guardians: list[GuardianGainPublic]
    questions: list[ShareCorrectPublic]
    topics: list[ShareCorrectPublic]


class ComplaintChannelPublic(BaseModel):
    """An official complaint channel of the municipality."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    service_code: str | None
    kind: str
    name: str
    contact: str
    hours: str | None
    notes: str | None
    confirmed: bool


class ReportedCountPublic(BaseModel):
    """How many problems guardians of a colonia said they reported, for one service."""

    colonia_id: int | None
    colonia_name: str | None
    service_code: str | None
    count: int


async def _gains(
    session: SessionDep,
    runtime: RuntimeDep,
    *,
    form: str | None,
    colonia_id: int | None,
    date_from: datetime | None,
    date_to: datetime | None,
) -> tuple[str | None, training.LearningGains]:
    start, end = local_period(runtime, date_from, date_to, names=("date_from", "date_to"))
    course = runtime.catalog.course
    form_id = form or (course.quiz_form_id if course is not None else None)
    try:
        report = await training.learning_gains(
            session,
            runtime.catalog,
            form_id=form_id,
            colonia_id=colonia_id,
            date_from=start,
            date_to=end,
        )
    except UnknownReferenceError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from error
    return form_id, report


@router.get("/reports/learning-gains")
async def learning_gains(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    form: FormQuery = None,
    colonia_id: IdQuery = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
) -> LearningGainsPublic:
    """Pre/post learning gains per guardian and for the group, per question and topic.

    The period selects guardians with an attempt completed in it; both of their attempts
    are then used, so a pair is never split by the period's edge. Guardians with only one
    attempt are counted in `only_pre` / `only_post` and listed with that status.
    """
    form_id, report = await _gains(
        session, runtime, form=form, colonia_id=colonia_id, date_from=date_from, date_to=date_to
    )
    return LearningGainsPublic(
        form_id=form_id,
        paired=report.paired,
        only_pre=report.only_pre,
        only_post=report.only_post,
        g_undefined=report.g_undefined,
        mean_pre=report.mean_pre,
        mean_post=report.mean_post,
        mean_gain=report.mean_gain,
        hake_gain=report.hake_gain,
        mean_individual_gain=report.mean_individual_gain,
        guardians=[GuardianGainPublic.model_validate(g) for g in report.guardians],
        questions=[_share(s) for s in report.questions],
        topics=[_share(s) for s in report.topics],
    )


def _share(share: training.ShareCorrect) -> ShareCorrectPublic:
    return ShareCorrectPublic(
        key=share.key,
        topic=share.topic,
        label=share.label,
        pre_attempts=share.pre_attempts,
        pre_share=share.pre_share,
        post_attempts=share.post_attempts,
        post_share=share.post_share,
    )


@router.get(
    "/reports/learning-gains.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}}},
)
async def learning_gains_csv(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    form: FormQuery = None,
    colonia_id: IdQuery = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
    table: Annotated[
        Literal["guardians", "questions", "topics", "summary"],
        Query(description="Which table: one row per guardian (default), question or topic."),
    ] = "guardians",
) -> Response:
    """The learning-gains report as CSV, one table at a time."""
    _form_id, report = await _gains(
        session, runtime, form=form, colonia_id=colonia_id, date_from=date_from, date_to=date_to
    )
    return Response(
        content=training.learning_gains_csv(report, table),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="learning-gains-{table}.csv"'},
    )


@router.get("/complaint-channels")
async def list_complaint_channels(
    session: SessionDep, _: ViewerDep, service: ServiceQuery = None
) -> list[ComplaintChannelPublic]:
    """Official complaint channels (those of every service included when filtering)."""
    rows = await training_repo.list_complaint_channels(session, service_code=service)
    return [ComplaintChannelPublic.model_validate(row) for row in rows]


@router.get("/reports/reported-to-municipality")
async def reported_to_municipality(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    colonia_id: IdQuery = None,
    service: ServiceQuery = None,
    date_from: FromQuery = None,
    date_to: ToQuery = None,
) -> list[ReportedCountPublic]:
    """ "Ya lo reporté" answers counted by colonia and service."""
    start, end = local_period(runtime, date_from, date_to, names=("date_from", "date_to"))
    try:
        counts = await training.municipal_report_counts(
            session, colonia_id=colonia_id, service_code=service, date_from=start, date_to=end
        )
    except UnknownReferenceError as error:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=str(error)) from error
    return [
        ReportedCountPublic(
            colonia_id=c.colonia_id,
            colonia_name=c.colonia_name,
            service_code=c.service_code,
            count=c.count,
        )
        for c in counts
    ]

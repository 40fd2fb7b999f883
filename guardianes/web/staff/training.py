"""Training: pre and post quiz results with charts."""

from __future__ import annotations

from fastapi import APIRouter, Request, status
from fastapi.responses import HTMLResponse, Response

from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.services import training
from guardianes.services.references import UnknownReferenceError
from guardianes.storage.repositories import guardians as guardians_repo
from guardianes.web.staff import charts
from guardianes.web.staff.common import OptionalId, refusing, render, texts, viewer

router = APIRouter()


def _share(right: int, attempts: int) -> float:
    return round(100 * right / attempts, 1) if attempts else 0.0


@router.get("/capacitacion", response_class=HTMLResponse)
async def training_page(
    request: Request, runtime: RuntimeDep, session: SessionDep, colonia_id: OptionalId = None
) -> Response:
    """Pre and post quiz results: means, gains, share right per topic."""
    staff = await viewer(request)
    course = runtime.catalog.course
    with refusing((UnknownReferenceError, status.HTTP_404_NOT_FOUND, None)):
        report = await training.learning_gains(
            session,
            runtime.catalog,
            form_id=course.quiz_form_id if course is not None else None,
            colonia_id=colonia_id,
        )
    t = texts(request)
    pre, post = t("dashboard.training.pre"), t("dashboard.training.post")
    means = charts.grouped_bars(
        t("dashboard.training.means"),
        [t("dashboard.training.group")],
        {pre: [round(report.mean_pre or 0, 1)], post: [round(report.mean_post or 0, 1)]},
        maximum=100,
    )
    topics = charts.grouped_bars(
        t("dashboard.training.topics"),
        [s.label or s.key for s in report.topics],
        {
            pre: [_share(s.pre_right, s.pre_attempts) for s in report.topics],
            post: [_share(s.post_right, s.post_attempts) for s in report.topics],
        },
        maximum=100,
    )
    return render(
        request,
        "training.html",
        staff,
        report=report,
        means=means,
        topics=topics,
        colonias=await guardians_repo.list_colonias(session),
        colonia_id=colonia_id,
    )

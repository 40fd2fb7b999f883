"""Staff visits to a colonia: announced to its guardians, reminded the day before."""

from __future__ import annotations

from fastapi import APIRouter, status

from guardianes.api.auth import (
    DEFAULT_PAGE,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    StaffDep,
    ViewerDep,
    who,
)
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.errors import found, not_found, unprocessable
from guardianes.api.params import local_zone
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import Page, VisitCreate, VisitPublic, page_of
from guardianes.services import visits as visits_service
from guardianes.services.references import UnknownReferenceError
from guardianes.storage.repositories import broadcasts as broadcasts_repo

router = APIRouter(prefix=PREFIX, tags=["visits"])


@router.get("/visits")
async def list_visits(
    session: SessionDep,
    _: ViewerDep,
    colonia_id: IdQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[VisitPublic]:
    """Visits, soonest first."""
    page = await broadcasts_repo.list_visits(
        session, colonia_id=colonia_id, starts_from=None, limit=limit, offset=offset
    )
    return page_of(page, VisitPublic.model_validate, limit=limit, offset=offset)


@router.post("/visits", status_code=status.HTTP_201_CREATED)
async def create_visit(
    *, session: SessionDep, runtime: RuntimeDep, token: StaffDep, body: VisitCreate
) -> VisitPublic:
    """Announce a visit to the colonia's guardians and remind them the day before."""
    try:
        created = await visits_service.create_visit(
            session,
            colonia_id=body.colonia_id,
            place=body.place,
            starts_at=body.starts_at,
            description=body.description,
            created_by=who(token),
            timezone=local_zone(runtime),
            reminder_hour=body.reminder_hour,
        )
    except UnknownReferenceError as error:
        raise unprocessable("unknown colonia") from error
    public = VisitPublic.model_validate(created.visit)
    public.broadcast_id = created.broadcast.id
    public.reminder_id = created.reminder.id if created.reminder else None
    public.reminder_at = created.reminder_at
    return public


@router.get("/visits/{visit_id}")
async def get_visit(session: SessionDep, _: ViewerDep, visit_id: IdPath) -> VisitPublic:
    """One visit."""
    public = VisitPublic.model_validate(
        found(await broadcasts_repo.get_visit(session, visit_id), "visit")
    )
    broadcast = await broadcasts_repo.broadcast_of_visit(session, visit_id)
    public.broadcast_id = broadcast.id if broadcast else None
    return public


@router.post("/visits/{visit_id}/cancel")
async def cancel_visit(session: SessionDep, _: StaffDep, visit_id: IdPath) -> VisitPublic:
    """Cancel a visit: its reminder is switched off."""
    try:
        visit = await visits_service.cancel_visit(session, visit_id)
    except visits_service.VisitNotFoundError as error:
        raise not_found("visit") from error
    return VisitPublic.model_validate(visit)

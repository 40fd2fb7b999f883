"""Recurring reminders to a colonia's lead (or one guardian), in GUARDIANES_TIMEZONE."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, Response, status

from guardianes.api.auth import (
    DEFAULT_PAGE,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    StaffDep,
    ViewerDep,
)
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.errors import found, unprocessable
from guardianes.api.params import local_zone
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import (
    Page,
    ReminderCreate,
    ReminderPublic,
    ReminderUpdate,
    page_of,
)
from guardianes.services import reminders as reminders_service
from guardianes.services.references import UnknownReferenceError
from guardianes.storage.models import ReminderKind
from guardianes.storage.repositories import reminders as reminders_repo
from guardianes.storage.types import utcnow

router = APIRouter(prefix=PREFIX, tags=["reminders"])


@contextmanager
def _refusals() -> Iterator[None]:
    """The service's refusals as 422s: a schedule it cannot run, a colonia or guardian unknown."""
    try:
        yield
    except reminders_service.InvalidScheduleError as error:
        raise unprocessable(f"invalid schedule: {error}") from error
    except UnknownReferenceError as error:
        raise unprocessable(str(error)) from error


@router.get("/reminders")
async def list_reminders(
    *,
    session: SessionDep,
    _: ViewerDep,
    colonia_id: IdQuery = None,
    kind: ReminderKind | None = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[ReminderPublic]:
    """Reminders."""
    page = await reminders_repo.list_reminders(
        session, colonia_id=colonia_id, kind=kind, limit=limit, offset=offset
    )
    return page_of(page, ReminderPublic.model_validate, limit=limit, offset=offset)


@router.post("/reminders", status_code=status.HTTP_201_CREATED)
async def create_reminder(
    session: SessionDep, runtime: RuntimeDep, _: StaffDep, body: ReminderCreate
) -> ReminderPublic:
    """A recurring reminder to a colonia's lead (or one guardian), in GUARDIANES_TIMEZONE."""
    spec = reminders_service.ReminderSpec(**body.model_dump())
    with _refusals():
        reminder = await reminders_service.create_reminder(
            session, spec, timezone=local_zone(runtime), now=utcnow()
        )
    return ReminderPublic.model_validate(reminder)


@router.get("/reminders/{reminder_id}")
async def get_reminder(session: SessionDep, _: ViewerDep, reminder_id: IdPath) -> ReminderPublic:
    """One reminder."""
    reminder = found(await reminders_repo.get_reminder(session, reminder_id), "reminder")
    return ReminderPublic.model_validate(reminder)


@router.patch("/reminders/{reminder_id}")
async def update_reminder(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: StaffDep,
    reminder_id: IdPath,
    body: ReminderUpdate,
) -> ReminderPublic:
    """Change a reminder; a new schedule recomputes its next run."""
    reminder = found(await reminders_repo.get_reminder(session, reminder_id), "reminder")
    with _refusals():
        await reminders_service.update_reminder(
            session,
            reminder,
            body.model_dump(exclude_unset=True),
            timezone=local_zone(runtime),
            now=utcnow(),
        )
    return ReminderPublic.model_validate(reminder)


@router.delete("/reminders/{reminder_id}", status_code=status.HTTP_204_NO_CONTENT)
async def delete_reminder(session: SessionDep, _: StaffDep, reminder_id: IdPath) -> Response:
    """Delete a reminder and its history."""
    reminder = found(await reminders_repo.get_reminder(session, reminder_id), "reminder")
    await reminders_repo.delete_reminder(session, reminder)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

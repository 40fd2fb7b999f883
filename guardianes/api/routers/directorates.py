"""Directorates: the municipal units in charge of a service, and where to notify them.

Staff create and change them; admins also delete one no discrepancy names.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import BaseModel, ConfigDict, Field

from guardianes.api.auth import (
    DEFAULT_PAGE,
    AdminDep,
    IdPath,
    LimitQuery,
    OffsetQuery,
    StaffDep,
    ViewerDep,
)
from guardianes.api.deps import SessionDep
from guardianes.api.errors import conflict, found, not_found, unprocessable
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import NO_NUL, SERVICE_CODE, Orm, Page, page_of
from guardianes.services.evidence_imports import (
    DirectorateConflictError,
    DirectorateFields,
    create_directorate,
    delete_directorate,
    update_directorate,
)
from guardianes.storage.repositories import directorates as directorates_repo

router = APIRouter(prefix=PREFIX, tags=["evidence"])
# Enough to catch a name pasted into the e-mail field; the SMTP server has the last word.
EMAIL = r"^[^@\s\x00]{1,64}@[^@\s\x00]+\.[^@\s\x00]+$"
Email = Annotated[str | None, Field(max_length=300, pattern=EMAIL)]


@contextmanager
def _refusals() -> Iterator[None]:
    """The service's refusals as answers: a clash (409) or a value it cannot take (422)."""
    try:
        yield
    except DirectorateConflictError as error:
        raise conflict(str(error)) from error
    except ValueError as error:
        raise unprocessable(str(error)) from error


class DirectoratePublic(Orm):
    """A municipal unit in charge of a service."""

    id: int
    name: str
    service_code: str | None
    notification_email: str | None
    notification_address: str | None
    head_name: str | None
    head_email: str | None
    phone: str | None
    created_at: datetime
    updated_at: datetime


Name = Annotated[str, Field(min_length=1, max_length=300, pattern=NO_NUL)]
OptionalText = Annotated[str | None, Field(max_length=300, pattern=NO_NUL)]


class DirectorateCreate(BaseModel):
    """A new directorate."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    service_code: Annotated[str | None, Field(pattern=SERVICE_CODE)] = None
    notification_email: Email = None
    notification_address: Annotated[str | None, Field(max_length=1000, pattern=NO_NUL)] = None
    head_name: OptionalText = None
    head_email: Email = None
    phone: Annotated[str | None, Field(max_length=60, pattern=NO_NUL)] = None


class DirectorateUpdate(BaseModel):
    """Fields of a directorate to change (only those sent)."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    service_code: Annotated[str | None, Field(pattern=SERVICE_CODE)] = None
    notification_email: Email = None
    notification_address: Annotated[str | None, Field(max_length=1000, pattern=NO_NUL)] = None
    head_name: OptionalText = None
    head_email: Email = None
    phone: Annotated[str | None, Field(max_length=60, pattern=NO_NUL)] = None


@router.get("/directorates")
async def list_directorates(
    *,
    session: SessionDep,
    _: ViewerDep,
    service: Annotated[str | None, Query(pattern=SERVICE_CODE)] = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[DirectoratePublic]:
    """Directorates by name."""
    page = await directorates_repo.list_directorates(
        session, service_code=service, limit=limit, offset=offset
    )
    return page_of(page, DirectoratePublic.model_validate, limit=limit, offset=offset)


@router.get("/directorates/{directorate_id}")
async def get_directorate(
    session: SessionDep, _: ViewerDep, directorate_id: IdPath
) -> DirectoratePublic:
    """One directorate."""
    row = found(await directorates_repo.get(session, directorate_id), "directorate")
    return DirectoratePublic.model_validate(row)


@router.post("/directorates", status_code=status.HTTP_201_CREATED)
async def post_directorate(
    session: SessionDep, _: StaffDep, body: DirectorateCreate
) -> DirectoratePublic:
    """A new directorate; the layers of its service that have none are linked to it."""
    with _refusals():
        row = await create_directorate(session, DirectorateFields(**body.model_dump()))
    return DirectoratePublic.model_validate(row)


@router.patch("/directorates/{directorate_id}")
async def patch_directorate(
    session: SessionDep, _: StaffDep, directorate_id: IdPath, body: DirectorateUpdate
) -> DirectoratePublic:
    """Change a directorate's name, service, e-mails, head or phone."""
    changes = body.model_dump(exclude_unset=True)
    if changes.get("name", "") is None:
        raise unprocessable("name cannot be empty")
    with _refusals():
        row = await update_directorate(session, directorate_id, changes)
    if row is None:
        raise not_found("directorate")
    return DirectoratePublic.model_validate(row)


@router.delete("/directorates/{directorate_id}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_directorate(session: SessionDep, _: AdminDep, directorate_id: IdPath) -> Response:
    """Delete a directorate no discrepancy names (409 otherwise)."""
    with _refusals():
        deleted = await delete_directorate(session, directorate_id)
    if not deleted:
        raise not_found("directorate")
    return Response(status_code=status.HTTP_204_NO_CONTENT)

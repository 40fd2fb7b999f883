"""Broadcasts to guardians: send one (in the background), follow it, cancel it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from guardianes.api.auth import (
    DEFAULT_PAGE,
    IdPath,
    LimitQuery,
    OffsetQuery,
    StaffDep,
    ViewerDep,
    who,
)
from guardianes.api.deps import SessionDep
from guardianes.api.errors import found, unprocessable
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import (
    BroadcastCreate,
    BroadcastProgressPublic,
    BroadcastPublic,
    Page,
    page_of,
)
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services.references import UnknownReferenceError
from guardianes.storage.models import Broadcast, BroadcastStatus
from guardianes.storage.repositories import broadcasts as broadcasts_repo
from guardianes.storage.repositories.broadcasts import RecipientFilter

router = APIRouter(prefix=PREFIX, tags=["broadcasts"])


async def _with_progress(session: SessionDep, broadcast: Broadcast) -> BroadcastPublic:
    public = BroadcastPublic.model_validate(broadcast)
    report = await broadcasts_service.progress(session, broadcast.id)
    public.progress = BroadcastProgressPublic.of(report)
    return public


@router.get("/broadcasts")
async def list_broadcasts(
    *,
    session: SessionDep,
    _: ViewerDep,
    status_: Annotated[BroadcastStatus | None, Query(alias="status")] = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[BroadcastPublic]:
    """Broadcasts, newest first."""
    page = await broadcasts_repo.list_broadcasts(
        session, status=status_, limit=limit, offset=offset
    )
    return page_of(page, BroadcastPublic.model_validate, limit=limit, offset=offset)


@router.post("/broadcasts", status_code=status.HTTP_201_CREATED)
async def create_broadcast(
    session: SessionDep, token: StaffDep, body: BroadcastCreate
) -> BroadcastPublic:
    """Send a message to every active guardian matching the filters (sent in the background)."""
    try:
        broadcast, _count = await broadcasts_service.create_broadcast(
            session,
            text=body.text,
            recipients=RecipientFilter(
                colonia_id=body.colonia_id, role=body.role, channel=body.channel
            ),
            created_by=who(token),
        )
    except UnknownReferenceError as error:
        raise unprocessable(str(error)) from error
    return await _with_progress(session, broadcast)


@router.get("/broadcasts/{broadcast_id}")
async def get_broadcast(session: SessionDep, _: ViewerDep, broadcast_id: IdPath) -> BroadcastPublic:
    """A broadcast with its progress; once done, the final sent/failed/unreachable report."""
    broadcast = found(await broadcasts_repo.get_broadcast(session, broadcast_id), "broadcast")
    return await _with_progress(session, broadcast)


@router.post("/broadcasts/{broadcast_id}/cancel")
async def cancel_broadcast(
    session: SessionDep, _: StaffDep, broadcast_id: IdPath
) -> BroadcastPublic:
    """Stop a broadcast: recipients not yet queued get nothing."""
    broadcast = found(await broadcasts_repo.get_broadcast(session, broadcast_id), "broadcast")
    await broadcasts_service.cancel_broadcast(session, broadcast_id)
    await session.refresh(broadcast)
    return await _with_progress(session, broadcast)

"""Guardians: read them (audited), promote a lead, set a role, deactivate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Query

from guardianes.api.audit import AuditDep
from guardianes.api.auth import (
    DEFAULT_PAGE,
    AdminDep,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    StaffDep,
    ViewerDep,
)
from guardianes.api.deps import SessionDep
from guardianes.api.errors import found, not_found, unprocessable
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import GuardianPublic, GuardianRoleUpdate, Page, page_of
from guardianes.domain.enums import GuardianRole, GuardianStatus
from guardianes.services import staff_tokens
from guardianes.services.delivery import ChannelName
from guardianes.storage.repositories import staff as staff_repo

router = APIRouter(prefix=PREFIX, tags=["guardians"])


@contextmanager
def _refusals() -> Iterator[None]:
    """The service's refusals as answers: an unknown guardian, a lead without a colonia."""
    try:
        yield
    except staff_tokens.GuardianNotFoundError as error:
        raise not_found("guardian") from error
    except staff_tokens.GuardianWithoutColoniaError as error:
        raise unprocessable(
            "a lead guardian stands for a colonia and this guardian has none"
        ) from error


@router.get("/guardians")
async def list_guardians(
    *,
    session: SessionDep,
    _: ViewerDep,
    audit: AuditDep,
    colonia_id: IdQuery = None,
    role: GuardianRole | None = None,
    channel: ChannelName | None = None,
    status_: Annotated[GuardianStatus | None, Query(alias="status")] = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[GuardianPublic]:
    """Guardians, filtered by colonia, role, channel or status."""
    page = await staff_repo.list_guardians(
        session,
        colonia_id=colonia_id,
        role=role,
        channel=channel,
        status=status_,
        limit=limit,
        offset=offset,
    )
    await audit.read(g.id for g in page.items)
    return page_of(page, GuardianPublic.model_validate, limit=limit, offset=offset)


@router.get("/guardians/{guardian_id}")
async def get_guardian(
    session: SessionDep, _: ViewerDep, audit: AuditDep, guardian_id: IdPath
) -> GuardianPublic:
    """One guardian."""
    guardian = found(await staff_repo.get_guardian(session, guardian_id), "guardian")
    await audit.read([guardian.id])
    return GuardianPublic.model_validate(guardian)


@router.post("/guardians/{guardian_id}/promote")
async def promote_guardian(session: SessionDep, _: StaffDep, guardian_id: IdPath) -> GuardianPublic:
    """Make the guardian their colonia's lead (the previous lead becomes a guardian)."""
    with _refusals():
        guardian = await staff_tokens.promote_to_lead(session, guardian_id)
    return GuardianPublic.model_validate(guardian)


@router.post("/guardians/{guardian_id}/role")
async def set_guardian_role(
    *, session: SessionDep, _: AdminDep, guardian_id: IdPath, body: GuardianRoleUpdate
) -> GuardianPublic:
    """Set a guardian's role: `staff` may use the staff commands in chat; `lead` is promoted."""
    with _refusals():
        guardian = await staff_tokens.set_guardian_role(session, guardian_id, body.role)
    return GuardianPublic.model_validate(guardian)


@router.post("/guardians/{guardian_id}/deactivate")
async def deactivate_guardian(
    session: SessionDep, _: AdminDep, guardian_id: IdPath
) -> GuardianPublic:
    """Stop all messages to a guardian."""
    with _refusals():
        guardian = await staff_tokens.deactivate_guardian(session, guardian_id)
    return GuardianPublic.model_validate(guardian)

"""Privacy in the staff API: the ARCO request log, consent histories, erasure on a written
request, and the audit of staff reads of personal data (admins only)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from guardianes.api.audit import AuditDep
from guardianes.api.auth import (
    DEFAULT_PAGE,
    AdminDep,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    ViewerDep,
)
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.errors import found
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import Orm, Page, page_of
from guardianes.conversations.context import ErasureKind
from guardianes.services import privacy
from guardianes.storage.models_privacy import PrivacyRequestKind
from guardianes.storage.repositories import privacy as privacy_repo
from guardianes.storage.repositories import staff as staff_repo

router = APIRouter(prefix=PREFIX, tags=["privacy"])


class PrivacyRequestPublic(Orm):
    """One exercise of an ARCO right; holds no personal data by design."""

    id: int
    kind: str
    source: str
    channel: str | None
    outcome: str
    counts: dict[str, Any]
    at: datetime


class ConsentEventPublic(Orm):
    """One acceptance or refusal of a privacy notice version."""

    action: str
    notice_version: str
    channel: str
    at: datetime


class AuditEntryPublic(Orm):
    """A staff read of guardians' personal data."""

    id: int
    token_id: int | None
    token_name: str
    method: str
    route: str
    subject_guardian_ids: list[int]
    subject_count: int
    at: datetime


class ErasureRequest(BaseModel):
    """A written ARCO request received by staff: cancellation or opposition."""

    kind: ErasureKind = ErasureKind.CANCELLATION


class ErasurePublic(BaseModel):
    """What the erasure did, in anonymous counts."""

    outcome: str
    counts: dict[str, int]


@router.get("/privacy/requests")
async def list_privacy_requests(
    *,
    session: SessionDep,
    _: ViewerDep,
    kind: PrivacyRequestKind | None = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[PrivacyRequestPublic]:
    """ARCO requests (access, rectification, cancellation, opposition), newest first."""
    page = await privacy_repo.list_requests(session, kind=kind, limit=limit, offset=offset)
    return page_of(page, PrivacyRequestPublic.model_validate, limit=limit, offset=offset)


@router.get("/guardians/{guardian_id}/consents")
async def list_consents(
    session: SessionDep, _: ViewerDep, audit: AuditDep, guardian_id: IdPath
) -> list[ConsentEventPublic]:
    """A guardian's consent history, oldest first."""
    found(await staff_repo.get_guardian(session, guardian_id), "guardian")
    events = await privacy_repo.consent_history(session, guardian_id)
    await audit.read([guardian_id])
    return [ConsentEventPublic.model_validate(e) for e in events]


@router.post("/guardians/{guardian_id}/erase")
async def erase_guardian(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: AdminDep,
    guardian_id: IdPath,
    body: ErasureRequest,
) -> ErasurePublic:
    """Erase a guardian's personal data on their written request (as «borrar mis datos» does)."""
    guardian = found(await staff_repo.get_guardian(session, guardian_id), "guardian")
    report = await privacy.erase_guardian_by_staff(
        session,
        media_dir=runtime.settings.media_dir,
        catalog=runtime.catalog,
        guardian=guardian,
        kind=body.kind,
    )
    return ErasurePublic(outcome=report.outcome, counts=report.counts)


@router.get("/audit")
async def list_audit(
    *,
    session: SessionDep,
    _: AdminDep,
    token_id: IdQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[AuditEntryPublic]:
    """Staff reads of personal data, newest first (admins only)."""
    page = await privacy_repo.list_audit(session, token_id=token_id, limit=limit, offset=offset)
    return page_of(page, AuditEntryPublic.model_validate, limit=limit, offset=offset)

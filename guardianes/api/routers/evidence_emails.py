"""Evidence e-mails to directorates: queue them, follow them, retry a failed one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

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
from guardianes.api.errors import conflict, found, unprocessable
from guardianes.api.params import MAX_BATCH
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import Orm, Page, RowId, page_of
from guardianes.services.reports import mail
from guardianes.storage.models import StaffToken
from guardianes.storage.models_reports import EmailKind, EmailStatus, EvidenceEmail
from guardianes.storage.repositories import evidence_emails as emails_repo

router = APIRouter(prefix=PREFIX, tags=["evidence reports"])


class EvidenceEmailPublic(Orm):
    """An evidence e-mail of the outbox and where it stands."""

    id: int
    directorate_id: int | None
    recipient: str
    subject: str
    discrepancy_ids: list[int]
    kind: EmailKind
    status: EmailStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    requested_by: str | None
    sent_at: datetime | None
    created_at: datetime


class NotifyRequest(BaseModel):
    """Discrepancies to send to their directorates (one e-mail per directorate)."""

    discrepancy_ids: list[RowId] = Field(min_length=1, max_length=MAX_BATCH)


def _email(email: EvidenceEmail) -> EvidenceEmailPublic:
    return EvidenceEmailPublic.model_validate(email)


async def _queue(
    session: SessionDep, runtime: RuntimeDep, token: StaffToken, ids: list[int]
) -> list[EvidenceEmailPublic]:
    if not runtime.settings.smtp_enabled:
        raise conflict("e-mail is off: set GUARDIANES_SMTP_HOST and GUARDIANES_SMTP_SENDER")
    try:
        emails = await mail.queue_notification(
            session, ids, requested_by=who(token), locale=runtime.settings.default_locale
        )
    except mail.NotificationError as error:
        raise unprocessable(str(error)) from error
    return [_email(e) for e in emails]


@router.post("/discrepancies/{discrepancy_id}/notify", status_code=status.HTTP_202_ACCEPTED)
async def notify_discrepancy(
    session: SessionDep, runtime: RuntimeDep, token: StaffDep, discrepancy_id: IdPath
) -> list[EvidenceEmailPublic]:
    """Queue the evidence e-mail of one discrepancy to its directorate; sending moves it to
    `notified`."""
    return await _queue(session, runtime, token, [discrepancy_id])


@router.post("/evidence-emails", status_code=status.HTTP_202_ACCEPTED)
async def notify_batch(
    session: SessionDep, runtime: RuntimeDep, token: StaffDep, body: NotifyRequest
) -> list[EvidenceEmailPublic]:
    """Queue one evidence e-mail per directorate for several discrepancies (all or nothing)."""
    return await _queue(session, runtime, token, list(dict.fromkeys(body.discrepancy_ids)))


@router.get("/evidence-emails")
async def list_evidence_emails(
    *,
    session: SessionDep,
    _: ViewerDep,
    status_: Annotated[EmailStatus | None, Query(alias="status")] = None,
    kind: EmailKind | None = None,
    discrepancy_id: IdQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[EvidenceEmailPublic]:
    """Evidence e-mails, newest first: failed ones show their last error."""
    page = await emails_repo.list_emails(
        session,
        status=status_,
        kind=kind,
        discrepancy_id=discrepancy_id,
        limit=limit,
        offset=offset,
    )
    return page_of(page, _email, limit=limit, offset=offset)


@router.get("/evidence-emails/{email_id}")
async def get_evidence_email(
    session: SessionDep, _: ViewerDep, email_id: IdPath
) -> EvidenceEmailPublic:
    """One evidence e-mail."""
    return _email(found(await emails_repo.get_email(session, email_id), "e-mail"))


@router.post("/evidence-emails/{email_id}/retry")
async def retry_evidence_email(
    session: SessionDep, _: StaffDep, email_id: IdPath
) -> EvidenceEmailPublic:
    """Queue a FAILED e-mail again with fresh attempts."""
    email = found(await emails_repo.get_email(session, email_id), "e-mail")
    if not await mail.retry_failed(session, email_id):
        raise conflict(f"the e-mail is {email.status}")
    await session.refresh(email)
    return _email(email)

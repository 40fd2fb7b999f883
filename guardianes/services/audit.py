"""Staff reads of personal data, written to the audit log (`GET /api/v1/audit`)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import StaffToken
from guardianes.storage.models_privacy import StaffAuditEntry
from guardianes.storage.repositories import privacy as privacy_repo
from guardianes.storage.types import utcnow


async def record_read(
    session: AsyncSession,
    token: StaffToken,
    *,
    method: str,
    route: str,
    guardian_ids: Iterable[int | None],
) -> StaffAuditEntry:
    """One audit row: which token read whose data through which route, and when."""
    # Anonymized cards have no guardian: nobody's data was read through them.
    subjects = sorted({g for g in guardian_ids if g is not None})
    entry = StaffAuditEntry(
        token_id=token.id,
        token_name=token.name,
        method=method,
        route=route[:200],
        subject_guardian_ids=subjects,
        subject_count=len(subjects),
        at=utcnow(),
    )
    await privacy_repo.add_audit_entry(session, entry)
    return entry

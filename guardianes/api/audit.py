"""The audit of staff reads: every API answer carrying guardians' personal data is recorded."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.api.auth import current_token
from guardianes.api.deps import SessionDep
from guardianes.services import audit
from guardianes.storage.models import StaffToken


@dataclass(frozen=True, slots=True)
class Auditor:
    """Records, in the request's unit of work, whose data the request's token read."""

    session: AsyncSession
    token: StaffToken
    method: str
    route: str

    async def read(self, guardian_ids: Iterable[int | None]) -> None:
        """Record that this request returned these guardians' personal data."""
        await audit.record_read(
            self.session,
            self.token,
            method=self.method,
            route=self.route,
            guardian_ids=guardian_ids,
        )


async def auditor(  # async: a sync dependency would take a worker thread
    request: Request,
    session: SessionDep,
    token: Annotated[StaffToken, Depends(current_token)],
) -> Auditor:
    """The auditor of this request (the path, without the query string)."""
    return Auditor(session=session, token=token, method=request.method, route=request.url.path)


AuditDep = Annotated[Auditor, Depends(auditor)]

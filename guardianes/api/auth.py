"""Bearer-token authentication and role checks of the staff API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Query, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from guardianes.services import staff_tokens
from guardianes.storage.models import StaffToken, StaffTokenRole
from guardianes.web.deps import SessionDep

# auto_error=False: we answer 401 ourselves, with the WWW-Authenticate header RFC 6750 wants.
bearer = HTTPBearer(auto_error=False, description="A staff token: `guardianes staff create-token`")
MAX_PAGE = 500
DEFAULT_PAGE = 50


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def current_token(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StaffToken:
    """The staff token of the request; 401 when missing, unknown or revoked."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    token = await staff_tokens.authenticate(session, credentials.credentials)
    if token is None:
        raise _unauthorized("invalid or revoked token")
    return token


def require(role: StaffTokenRole) -> Callable[[StaffToken], Awaitable[StaffToken]]:
    """A dependency admitting tokens of `role` or higher; 403 for lower roles."""

    async def check(token: Annotated[StaffToken, Depends(current_token)]) -> StaffToken:
        if not staff_tokens.role_allows(token.role, role):
            raise HTTPException(status.HTTP_403_FORBIDDEN, detail=f"needs the {role} role")
        return token

    return check


ViewerDep = Annotated[StaffToken, Depends(require(StaffTokenRole.VIEWER))]
StaffDep = Annotated[StaffToken, Depends(require(StaffTokenRole.STAFF))]
AdminDep = Annotated[StaffToken, Depends(require(StaffTokenRole.ADMIN))]
LimitQuery = Annotated[int, Query(ge=1, le=MAX_PAGE, description="Page size.")]
OffsetQuery = Annotated[int, Query(ge=0, description="Rows to skip.")]

"""Bearer-token authentication and role checks of the staff API.

Every route needs `Authorization: Bearer <token>` (401 without it, or with an unknown or
revoked token); each role may do what the roles below it may, and more (403 otherwise):

- `viewer` reads every list and record, photos of submissions included;
- `staff` also operates: visits, broadcasts, reminders, imports, a colonia's training date,
  promoting a lead guardian;
- `admin` also governs access: staff tokens, a guardian's role (e.g. making a guardian
  `staff`, who may then use the staff commands in chat), deactivating a guardian.

`tests/api/test_roles.py` holds the same matrix per route and fails on a route missing from it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, HTTPException, Query, status
from fastapi import Path as PathParam
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from guardianes.api.deps import RuntimeDep
from guardianes.api.schemas import MAX_ID, NO_NUL
from guardianes.services import staff_tokens
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import StaffToken, StaffTokenRole

# auto_error=False: we answer 401 ourselves, with the WWW-Authenticate header RFC 6750 wants.
bearer = HTTPBearer(auto_error=False, description="A staff token: `guardianes staff create-token`")
MAX_PAGE = 500
DEFAULT_PAGE = 50
MAX_TEXT_QUERY = 300  # the longest text column a filter compares with
CREATED_BY_LENGTH = 200


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail=detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def current_token(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> StaffToken:
    """The staff token of the request; 401 when missing, unknown or revoked."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorized("missing bearer token")
    # Its own short unit of work: recording the last use must not hold SQLite's write lock
    # for the whole request (an import writes in a unit of work of its own).
    async with unit_of_work(runtime.sessions) as session:
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
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_ID, description="Rows to skip.")]
IdPath = Annotated[int, PathParam(ge=1, le=MAX_ID)]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_ID)]
TextQuery = Annotated[str | None, Query(max_length=MAX_TEXT_QUERY, pattern=NO_NUL)]


def who(token: StaffToken) -> str:
    """The token as a row's `created_by` names it."""
    # created_by holds 200 characters; a token's name alone may fill them.
    return f"token:{token.id}:{token.name}"[:CREATED_BY_LENGTH]

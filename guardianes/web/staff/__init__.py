"""The staff dashboard at /staff: server-rendered pages over the same services as the API.

Login exchanges a staff token for a signed session cookie (see `session`); viewers see every
page, staff act (status changes, e-mails, broadcasts, promotions), admins also deactivate
guardians and manage tokens, exactly as the API's roles. Every form carries the session's
CSRF value. One module per page group; `common` holds what they share.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import Response

from guardianes.web.staff import (
    access,
    broadcasts,
    colonias,
    contracts,
    discrepancies,
    guardians,
    imports,
    overview,
    training,
    visits,
)
from guardianes.web.staff import map as space_map
from guardianes.web.staff.common import back, render, texts
from guardianes.web.staff.session import CsrfError, ForbiddenError, NotLoggedInError

router = APIRouter()
for _pages in (
    access,
    overview,
    space_map,
    discrepancies,
    contracts,
    colonias,
    training,
    guardians,
    broadcasts,
    visits,
    imports,
):
    router.include_router(_pages.router, prefix="/staff", include_in_schema=False)


def install_staff_errors(app: Any) -> None:
    """Send the browser to the login form, or say what is refused, in the page's language."""

    async def not_logged_in(request: Request, _: Exception) -> Response:
        if request.method == "GET":
            return back("/staff/login")
        return _plain_refusal(request, status.HTTP_401_UNAUTHORIZED, "dashboard.error.login")

    async def forbidden(request: Request, _: Exception) -> Response:
        return _plain_refusal(request, status.HTTP_403_FORBIDDEN, "dashboard.error.role")

    async def csrf(request: Request, _: Exception) -> Response:
        return _plain_refusal(request, status.HTTP_403_FORBIDDEN, "dashboard.error.csrf")

    app.add_exception_handler(NotLoggedInError, not_logged_in)
    app.add_exception_handler(ForbiddenError, forbidden)
    app.add_exception_handler(CsrfError, csrf)


def _plain_refusal(request: Request, code: int, key: str) -> Response:
    message = texts(request)(key)
    return render(request, "refused.html", None, status_code=code, message=message, code=code)

"""Login, logout, staff tokens (admin) and the dashboard's own static files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, Response

from guardianes.api.auth import IdPath
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.schemas import NO_NUL
from guardianes.domain.enums import StaffTokenRole
from guardianes.services import staff_tokens
from guardianes.storage.db import unit_of_work
from guardianes.web.public_map import WEB_DIR
from guardianes.web.staff.common import CSRF, back, render, session_for
from guardianes.web.staff.session import (
    StaffSession,
    check_login_csrf,
    end_session,
    login_csrf,
    set_login_csrf,
    start_session,
)

router = APIRouter()
STATIC_FILES = {"staff.css": "text/css", "staff.js": "text/javascript"}


def _login_form(request: Request, *, error: bool, status_code: int = 200) -> Response:
    value = login_csrf(request)
    response = render(
        request, "login.html", None, status_code=status_code, login_csrf=value, error=error
    )
    set_login_csrf(request, response, value)
    return response


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, error: bool = False) -> Response:
    """The login form (a staff token)."""
    return _login_form(request, error=error)


@router.post("/login")
async def login(
    *,
    request: Request,
    runtime: RuntimeDep,
    token: Annotated[str, Form(max_length=200)],
    csrf: CSRF,
) -> Response:
    """Exchange a valid staff token for a session cookie."""
    check_login_csrf(request, csrf)
    async with unit_of_work(runtime.sessions) as session:
        row = await staff_tokens.authenticate(session, token.strip())
    if row is None:
        return _login_form(request, error=True, status_code=status.HTTP_401_UNAUTHORIZED)
    redirect = back("/staff")
    start_session(request, redirect, row)
    return redirect


@router.post("/logout")
async def logout(request: Request, csrf: CSRF) -> Response:
    """End the session."""
    await session_for(request, StaffTokenRole.VIEWER, csrf)
    response = back("/staff/login")
    end_session(response)
    return response


async def _tokens_page(
    request: Request, runtime: RuntimeDep, staff: StaffSession, created: str | None = None
) -> Response:
    async with unit_of_work(runtime.sessions) as session:
        rows = await staff_tokens.list_tokens(session)
    return render(
        request, "tokens.html", staff, rows=rows, created=created, roles=list(StaffTokenRole)
    )


@router.get("/tokens", response_class=HTMLResponse)
async def tokens_page(request: Request, runtime: RuntimeDep) -> Response:
    """Staff tokens (admin): who may use the API and this dashboard."""
    staff = await session_for(request, StaffTokenRole.ADMIN)
    return await _tokens_page(request, runtime, staff)


@router.post("/tokens", response_class=HTMLResponse)
async def create_token(
    *,
    request: Request,
    runtime: RuntimeDep,
    name: Annotated[str, Form(min_length=1, max_length=200, pattern=NO_NUL)],
    role: Annotated[StaffTokenRole, Form()],
    csrf: CSRF,
) -> Response:
    """Make a token; its plain value is shown on this answer only, never again."""
    staff = await session_for(request, StaffTokenRole.ADMIN, csrf)
    async with unit_of_work(runtime.sessions) as session:
        _, plain = await staff_tokens.create_token(session, name=name.strip(), role=role)
    return await _tokens_page(request, runtime, staff, created=plain)


@router.post("/tokens/{token_id}/revocar")
async def revoke_token(
    request: Request, session: SessionDep, token_id: IdPath, csrf: CSRF
) -> Response:
    """Revoke a token: its API calls and dashboard sessions stop at once."""
    await session_for(request, StaffTokenRole.ADMIN, csrf)
    if not await staff_tokens.revoke_token(session, token_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="token not found or revoked")
    return back("/staff/tokens")


@router.get("/static/{name}")
async def staff_static(name: str) -> Response:
    """The dashboard's own stylesheet and script."""
    media_type = STATIC_FILES.get(name)
    if media_type is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="no such file")
    return FileResponse(
        WEB_DIR / "static" / name,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=3600"},
    )

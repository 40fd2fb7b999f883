"""Sessions of the staff dashboard: a staff token exchanged for a signed cookie, and CSRF.

The cookie holds only the token's id and a CSRF value, signed with itsdangerous (HMAC) and
timestamped; every request looks the token up again, so revoking a token ends its sessions
at once and a changed role applies at the next click. The plain token is never stored.
Forms carry the session's CSRF value (synchronizer token); the login form, before any
session exists, uses a double-submit cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import cache
from typing import Any

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from guardianes.api.deps import get_runtime
from guardianes.config import Settings
from guardianes.services import staff_tokens
from guardianes.storage.db import unit_of_work
from guardianes.storage.models import StaffToken, StaffTokenRole
from guardianes.storage.repositories import staff as staff_repo

SESSION_COOKIE = "guardianes_staff"
LOGIN_COOKIE = "guardianes_staff_login"
COOKIE_PATH = "/staff"
SALT = "guardianes.staff.session"
CSRF_FIELD = "csrf_token"
LOGIN_COOKIE_SECONDS = 3600


class NotLoggedInError(Exception):
    """No valid session: the page sends the browser to the login form."""


class ForbiddenError(Exception):
    """The session's role may not do this."""

    def __init__(self, needed: StaffTokenRole) -> None:
        super().__init__(needed.value)
        self.needed = needed


class CsrfError(Exception):
    """A form arrived without the session's CSRF value."""


@dataclass(frozen=True, slots=True)
class StaffSession:
    """Who is logged in and the CSRF value their forms must carry."""

    token: StaffToken
    csrf: str

    @property
    def actor(self) -> str:
        """How history rows and broadcasts name this person (as the API does)."""
        return f"token:{self.token.id}:{self.token.name}"[:200]

    def may(self, role: str) -> bool:
        """True when the session's role reaches `role`."""
        return staff_tokens.role_allows(self.token.role, StaffTokenRole(role))


@cache
def _process_key() -> str:
    # Development only (the settings refuse a missing key elsewhere): random per process.
    return secrets.token_urlsafe(32)


def _serializer(settings: Settings) -> URLSafeTimedSerializer:
    secret = settings.staff_session_secret
    key = secret.get_secret_value() if secret is not None else _process_key()
    return URLSafeTimedSerializer(key, salt=SALT, signer_kwargs={"digest_method": hashlib.sha256})


def _secure(settings: Settings, request: Request) -> bool:
    return settings.environment != "development" or request.url.scheme == "https"


def start_session(request: Request, response: Response, token: StaffToken) -> None:
    """Set the signed session cookie for `token` (a fresh CSRF value each login)."""
    settings: Settings = get_runtime(request).settings
    value = _serializer(settings).dumps({"tid": token.id, "csrf": secrets.token_urlsafe(24)})
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=settings.staff_session_max_age_seconds,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(settings, request),
    )
    response.delete_cookie(LOGIN_COOKIE, path=COOKIE_PATH)


def end_session(response: Response) -> None:
    """Remove the session cookie."""
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH, httponly=True, samesite="strict")


def _payload(request: Request) -> dict[str, Any] | None:
    raw = request.cookies.get(SESSION_COOKIE)
    if not raw:
        return None
    settings: Settings = get_runtime(request).settings
    try:
        data = _serializer(settings).loads(raw, max_age=settings.staff_session_max_age_seconds)
    except BadSignature:  # also covers an expired signature
        return None
    if not isinstance(data, dict):
        return None
    if not isinstance(data.get("tid"), int) or not isinstance(data.get("csrf"), str):
        return None
    return data


async def current_session(request: Request) -> StaffSession:
    """The logged-in session, its token still active; else NotLoggedInError."""
    data = _payload(request)
    if data is None:
        raise NotLoggedInError
    async with unit_of_work(get_runtime(request).sessions) as session:
        token = await staff_repo.get_token(session, data["tid"])
    if token is None or token.revoked_at is not None:
        raise NotLoggedInError
    return StaffSession(token=token, csrf=data["csrf"])


def check_csrf(staff: StaffSession, submitted: object) -> None:
    """Refuse a form whose CSRF value is not the session's."""
    if not isinstance(submitted, str) or not hmac.compare_digest(
        submitted.encode(), staff.csrf.encode()
    ):
        raise CsrfError


def require_role(staff: StaffSession, role: StaffTokenRole) -> None:
    """Refuse a session below `role`."""
    if not staff_tokens.role_allows(staff.token.role, role):
        raise ForbiddenError(role)


def login_csrf(request: Request) -> str:
    """The double-submit value of the login form (reused while its cookie lives)."""
    current = request.cookies.get(LOGIN_COOKIE)
    return current if current and len(current) <= 64 else secrets.token_urlsafe(24)


def set_login_csrf(request: Request, response: Response, value: str) -> None:
    """Set the login form's double-submit cookie."""
    settings: Settings = get_runtime(request).settings
    response.set_cookie(
        LOGIN_COOKIE,
        value,
        max_age=LOGIN_COOKIE_SECONDS,
        path=COOKIE_PATH,
        httponly=True,
        samesite="strict",
        secure=_secure(settings, request),
    )


def check_login_csrf(request: Request, submitted: object) -> None:
    """Refuse a login post whose form value differs from its cookie."""
    cookie = request.cookies.get(LOGIN_COOKIE)
    if (
        not cookie
        or not isinstance(submitted, str)
        or not hmac.compare_digest(submitted.encode(), cookie.encode())
    ):
        raise CsrfError

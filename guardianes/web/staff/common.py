"""What every dashboard page shares: rendering, the page's language, roles, forms, refusals."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Form, HTTPException, Query, Request, status
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from guardianes import __version__
from guardianes.api.schemas import MAX_ID, NO_NUL
from guardianes.domain.enums import StaffTokenRole
from guardianes.domain.timezone import zone as zone_named
from guardianes.locales import SUPPORTED_LOCALES, Translator, normalize_locale, translator
from guardianes.services.runtime import Runtime
from guardianes.web.public_map import WEB_DIR
from guardianes.web.staff.session import (
    CSRF_FIELD,
    StaffSession,
    check_csrf,
    current_session,
    require_role,
)

templates = Jinja2Templates(directory=WEB_DIR / "templates")
PAGE = 50
MAX_NOTE = 2000
# Spanish first; `?lang=en` switches and the cookie keeps the choice on every later page.
LANG_COOKIE = "guardianes_staff_lang"
LANG_COOKIE_SECONDS = 365 * 24 * 3600
# Only our own files: no inline script, so a value from the data can never run as code.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: blob: https:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)
NOTE = Annotated[str, Form(max_length=MAX_NOTE, pattern=NO_NUL)]
CSRF = Annotated[str, Form(alias=CSRF_FIELD, max_length=100)]
OptionalId = Annotated[int | None, Query(ge=1, le=MAX_ID)]
TextFilter = Annotated[str | None, Query(max_length=100, pattern=NO_NUL)]
Offset = Annotated[int, Query(ge=0, le=MAX_ID)]


def zone(runtime: Runtime) -> ZoneInfo:
    """The programme's time zone (dates on the pages are local)."""
    return zone_named(runtime.settings.timezone)


def page_locale(request: Request) -> str:
    """`?lang=` when given, else the language chosen before (cookie), else the default."""
    runtime: Runtime = request.app.state.runtime
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return normalize_locale(chosen[:10] if chosen else None, runtime.settings.default_locale)


def texts(request: Request) -> Translator:
    """The catalog of the page's language."""
    return translator(page_locale(request))


def _switch_url(request: Request, other: str) -> str:
    """This page in the other language (a flash message is not shown twice)."""
    query = [(k, v) for k, v in request.query_params.multi_items() if k not in {"lang", "msg"}]
    return f"{request.url.path}?{urlencode([*query, ('lang', other)])}"


def render(
    request: Request,
    template: str,
    staff: StaffSession | None,
    *,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A dashboard page in the page's language, with the headers every page carries."""
    locale = page_locale(request)
    other = next(code for code in SUPPORTED_LOCALES if code != locale)
    response = templates.TemplateResponse(
        request,
        f"staff/{template}",
        {
            "t": translator(locale),
            "locale": locale,
            "other_locale": other,
            "switch_url": _switch_url(request, other),
            "staff": staff,
            "csrf_field": CSRF_FIELD,
            "version": __version__,
            "path": request.url.path,
            **values,
        },
        status_code=status_code,
    )
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    if "lang" in request.query_params:
        response.set_cookie(
            LANG_COOKIE,
            locale,
            max_age=LANG_COOKIE_SECONDS,
            path="/staff",
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )
    return response


def back(url: str, message: str | None = None) -> RedirectResponse:
    """Redirect after a form, with an optional flash message key."""
    # 303: the browser follows with a GET, so reloading never posts a form twice.
    target = f"{url}{'&' if '?' in url else '?'}msg={message}" if message else url
    return RedirectResponse(target, status_code=status.HTTP_303_SEE_OTHER)


async def session_for(
    request: Request, role: StaffTokenRole, csrf: str | None = None
) -> StaffSession:
    """The logged-in session, with the role asked and (on a POST) the form's CSRF value."""
    staff = await current_session(request)
    if csrf is not None or request.method == "POST":
        check_csrf(staff, csrf)
    require_role(staff, role)
    return staff


async def viewer(request: Request) -> StaffSession:
    """Any logged-in session."""
    return await session_for(request, StaffTokenRole.VIEWER)


def not_found(what: str) -> HTTPException:
    """A 404 naming what is missing."""
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")


def unprocessable(detail: str) -> HTTPException:
    """A 422 for a form or filter the services cannot take."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


@contextmanager
def refusing(*rules: tuple[type[Exception], int, str | None]) -> Iterator[None]:
    """Turn a service's refusal into its HTTP answer: (error, status, detail or its text)."""
    try:
        yield
    except Exception as error:
        for kind, code, detail in rules:
            if isinstance(error, kind):
                raise HTTPException(
                    code, detail=str(error) if detail is None else detail
                ) from error
        raise


def attachment(body: bytes, media_type: str, file_name: str) -> Response:
    """A download (PDF) that no cache keeps."""
    return Response(
        body,
        media_type=media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{file_name}"',
            "Cache-Control": "private, no-store",
        },
    )

"""The web chat's routes: the page, its static files and its JSON API (work is in the service)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, Any

from fastapi import (
    APIRouter,
    Depends,
    File,
    Form,
    HTTPException,
    Query,
    Request,
    Response,
    UploadFile,
)
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, Field

from guardianes import __version__
from guardianes.api.deps import RuntimeDep
from guardianes.bot.webchat import service
from guardianes.bot.webchat.service import ChatPost, PostKind, WebChatInputError
from guardianes.conversations.bounds import MAX_DB_INT
from guardianes.locales import SUPPORTED_LOCALES, normalize_locale, translator
from guardianes.services.intake import MediaDecision
from guardianes.services.media import MediaRejectedError
from guardianes.services.public_map import tile_sources
from guardianes.services.runtime import Runtime

# The page's template and files live with the other pages' (guardianes/web), read by path.
WEB_DIR = Path(__file__).resolve().parents[2] / "web"
STATIC_DIR = WEB_DIR / "static"
STATIC_FILES = frozenset({"chat.js", "chat.css", "icon.svg"})
COOKIE_NAME = "guardianes_chat"
MAX_MESSAGE_ID = 2**63 - 1  # BIGINT: a larger id is a 422, not an overflow in the driver
COOKIE_MAX_AGE = 365 * 24 * 3600  # the browser keeps its chat for a year
# HTTP statuses of refused photos, by media store reason.
MEDIA_STATUS = {"media.too_large": 413, "media.not_an_image": 415, "media.empty": 400}
# Texts the page's script needs, sent once inside the page.
SCRIPT_TEXT_KEYS = (
    "web.chat.you",
    "web.chat.selected",
    "web.chat.sending",
    "web.chat.offline",
    "web.location.selected",
    "web.location.invalid",
    "web.location.unavailable",
    "web.location.locating",
    "web.location.no_spaces",
    "web.location.sent",
    "web.photo.sent",
    "web.error.no_photo",
    "web.error.network",
    "web.error.empty_text",
    "privacy.web.download",
)
# Only our own files, no inline script or style: a message can never inject code.
# {tiles}: the location picker's base map tiles (the public map's tile server).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' blob: data:{tiles}; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)

router = APIRouter(prefix="/chat", tags=["web chat"])
templates = Jinja2Templates(directory=WEB_DIR / "templates")


class MessagePublic(BaseModel):
    """A bot message for the page."""

    id: int
    replaces: int | None
    prompt: dict[str, Any]


class OwnMessagePublic(BaseModel):
    """Something the person sent (shown again after a reload or in another tab)."""

    id: int
    client_id: str
    after_reply: int
    kind: str
    text: str | None
    payload: str | None
    source_message_id: str | None
    photos: int
    latitude: float | None
    longitude: float | None


class MessagesPublic(BaseModel):
    """Messages after the page's last id, and the id to ask from next time.

    `mine` holds the person's own messages after `mine_after` (`mine_last_id` for next time).
    """

    messages: list[MessagePublic]
    last_id: int
    mine: list[OwnMessagePublic] = []
    mine_last_id: int = 0


class PostPublic(BaseModel):
    """The outcome of a post: `duplicate` when this post id was received before."""

    accepted: bool
    duplicate: bool


def _set_identity(response: Response, user_id: str, request: Request) -> None:
    response.set_cookie(
        COOKIE_NAME,
        user_id,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )


def _client_address(request: Request) -> str:
    # Behind a reverse proxy run uvicorn with --proxy-headers so this is the browser's.
    return request.client.host if request.client else "unknown"


async def _new_identity_allowed(runtime: Runtime, request: Request) -> bool:
    return await runtime.rate_limits.allow_new_session(_client_address(request))


def _slow_down(runtime: Runtime, lang: str | None = None) -> HTTPException:
    locale = _locale(runtime, lang)
    return _refusal(429, "intake.slow_down", locale)


async def chat_user(request: Request, response: Response, runtime: RuntimeDep) -> str:
    """The browser's chat id from its cookie; a new one is made and set when missing.

    New ids are limited per network address: a script cannot mint sessions by the thousand.
    """
    user_id = request.cookies.get(COOKIE_NAME)
    if not service.valid_user_id(user_id):
        if not await _new_identity_allowed(runtime, request):
            raise _slow_down(runtime, request.query_params.get("lang"))
        user_id = service.new_user_id()
        _set_identity(response, user_id, request)
    return str(user_id)


ChatUser = Annotated[str, Depends(chat_user)]


def _locale(runtime: Runtime, lang: str | None) -> str:
    return normalize_locale(lang, runtime.settings.default_locale)


@router.get("", response_class=HTMLResponse, include_in_schema=False)
async def chat_page(
    request: Request, runtime: RuntimeDep, lang: str | None = Query(None, max_length=10)
) -> HTMLResponse:
    """The chat page, in Spanish unless `?lang=en`."""
    locale = _locale(runtime, lang)
    t = translator(locale)
    texts = {key: t(key) for key in SCRIPT_TEXT_KEYS}
    other = next(code for code in SUPPORTED_LOCALES if code != locale)
    response: HTMLResponse = templates.TemplateResponse(
        request,
        "chat.html",
        {
            "t": t,
            "locale": locale,
            "other_locale": other,
            "version": __version__,
            "texts_json": json.dumps(texts, ensure_ascii=False),
            "max_photo_mb": runtime.settings.max_photo_bytes // (1024 * 1024),
            "tiles_url": runtime.settings.map_tiles_url,
            "tiles_attribution": runtime.settings.map_tiles_attribution,
        },
    )
    user_id = request.cookies.get(COOKIE_NAME)
    if not service.valid_user_id(user_id):
        if not await _new_identity_allowed(runtime, request):
            raise _slow_down(runtime, lang)
        _set_identity(response, service.new_user_id(), request)
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.format(
        tiles=tile_sources(runtime.settings.map_tiles_url)
    )
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/static/{name}", include_in_schema=False)
async def chat_static(name: str) -> FileResponse:
    """The page's script, style and icon (a fixed list: no path ever reaches the disk)."""
    if name not in STATIC_FILES:
        raise HTTPException(404)
    return FileResponse(STATIC_DIR / name, headers={"Cache-Control": "public, max-age=3600"})


@router.get("/api/messages")
async def get_messages(
    *,
    request: Request,
    runtime: RuntimeDep,
    user_id: ChatUser,
    after: int = Query(0, ge=0, le=MAX_DB_INT),
    wait: float = Query(0.0, ge=0.0, le=service.MAX_WAIT_SECONDS),
    mine_after: int = Query(0, ge=0, le=MAX_DB_INT),
) -> MessagesPublic:
    """Bot messages of this browser's chat after id `after`, waiting up to `wait` seconds,
    and the person's own messages after `mine_after`."""
    found = await _unless_disconnected(
        request, service.read_messages(runtime, user_id, after, wait)
    )
    mine = await service.read_own_messages(runtime, user_id, mine_after)
    return MessagesPublic(
        messages=[
            MessagePublic(id=m.id, replaces=m.replaces, prompt=_prompt_for_page(m)) for m in found
        ],
        last_id=max((m.id for m in found), default=after),
        mine=[OwnMessagePublic(**{k: getattr(m, k) for k in m.__slots__}) for m in mine],
        mine_last_id=max((m.id for m in mine), default=mine_after),
    )


def _prompt_for_page(message: service.ChatMessage) -> dict[str, Any]:
    """The prompt as the page needs it: an attachment becomes a link, its path stays here."""
    data = message.prompt.to_json()
    attachment = message.prompt.attachment
    if attachment is not None:
        data["attachment"] = {
            "url": f"{router.prefix}/api/files/{message.id}",
            "file_name": attachment.file_name,
            "mime_type": attachment.mime_type,
        }
    return data


@router.get("/api/files/{message_id}", include_in_schema=False)
async def get_file(
    runtime: RuntimeDep,
    user_id: ChatUser,
    message_id: Annotated[int, PathParam(ge=1, le=MAX_MESSAGE_ID)],
) -> FileResponse:
    """The file of one message of this browser's chat (the "my data" export, a photo)."""
    found = await service.attachment_of(runtime, user_id, message_id)
    if found is None:
        raise HTTPException(404)
    path, attachment = found
    return FileResponse(
        path,
        media_type=attachment.mime_type,
        filename=attachment.file_name,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


class ChatPostForm(BaseModel):
    """The fields of a post; which are needed depends on `kind`."""

    external_id: str = Field(max_length=64)  # a UUID the page made; a retry sends it again
    kind: PostKind
    text: str | None = Field(None, max_length=service.MAX_TEXT_CHARS * 2)
    payload: str | None = Field(None, max_length=200)
    source_message_id: str | None = Field(None, max_length=40)
    latitude: float | None = None
    longitude: float | None = None
    command: str | None = Field(None, max_length=20)
    lang: str | None = Field(None, max_length=10)


@router.post("/api/messages")
async def post_message(
    request: Request,
    runtime: RuntimeDep,
    user_id: ChatUser,
    form: Annotated[ChatPostForm, Form()],
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> PostPublic:
    """Send a text, a choice, a location, photos or a command to the bot."""
    locale = _locale(runtime, form.lang)
    if not await service.admit_post(runtime, user_id, _client_address(request)):
        raise _slow_down(runtime, form.lang)
    post = ChatPost(
        user_id=user_id,
        client_id=form.external_id,
        kind=form.kind,
        text=form.text,
        payload=form.payload,
        source_message_id=form.source_message_id,
        latitude=form.latitude,
        longitude=form.longitude,
        command=form.command,
        language=locale,
    )
    try:
        uploads = await _read_uploads(photos or [], runtime.settings.max_photo_bytes)
        taken = await service.take_photos(runtime, post, uploads)
        if taken.decision is MediaDecision.DUPLICATE:
            return PostPublic(accepted=True, duplicate=True)
        declined = taken.decision is MediaDecision.DECLINE
        inbound = service.build_inbound(post, taken.photos, declined=declined)
    except MediaRejectedError as error:
        raise _refusal(
            MEDIA_STATUS.get(error.reason, 400),
            f"web.{error.reason}",
            locale,
            max_mb=runtime.settings.max_photo_bytes // (1024 * 1024),
        ) from error
    except WebChatInputError as error:
        raise _refusal(error.status, error.reason, locale) from error
    accepted = await service.post_message(runtime, inbound)
    return PostPublic(accepted=True, duplicate=not accepted)


@router.get("/api/spaces.geojson")
async def spaces(runtime: RuntimeDep) -> JSONResponse:
    """Known public spaces as GeoJSON, for the page's offline map."""
    collection = await service.spaces_geojson(runtime)
    return JSONResponse(
        collection,
        media_type="application/geo+json",
        headers={"Cache-Control": "public, max-age=300"},
    )


async def _unless_disconnected(
    request: Request, work: Coroutine[Any, Any, list[service.ChatMessage]]
) -> list[service.ChatMessage]:
    """Run a long-poll, ending it early when the browser goes away (a closed tab)."""
    reading = asyncio.create_task(work)
    watching = asyncio.create_task(_disconnected(request))
    try:
        await asyncio.wait({reading, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reading, watching):
            if not task.done():
                task.cancel()
        await asyncio.gather(reading, watching, return_exceptions=True)
    if reading.cancelled():
        return []  # nobody is left to read the answer
    return reading.result()


async def _disconnected(request: Request) -> None:
    # The request has no body to read, so the next message is the disconnect.
    while (await request.receive())["type"] != "http.disconnect":
        pass


async def _read_uploads(files: list[UploadFile], max_bytes: int) -> list[bytes]:
    """The files' bytes, each cut one byte past the limit (enough to refuse it as too large)."""
    if len(files) > service.MAX_PHOTOS_PER_POST:
        raise WebChatInputError("web.error.too_many_photos", 413)
    return [await upload.read(max_bytes + 1) for upload in files]


def _refusal(status: int, reason: str, locale: str, **values: object) -> HTTPException:
    """A 4xx whose detail carries the catalog key and the text the page shows."""
    return HTTPException(
        status, detail={"reason": reason, "message": translator(locale)(reason, **values)}
    )

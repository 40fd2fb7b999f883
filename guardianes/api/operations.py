"""Staff API operations: visits, broadcasts, reminders, imports, and admin token management."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Annotated

from fastapi import APIRouter, File, Form, HTTPException, Query, Response, UploadFile, status

from guardianes.api.auth import (
    DEFAULT_PAGE,
    AdminDep,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    StaffDep,
    ViewerDep,
)
from guardianes.api.schemas import (
    NO_NUL,
    BroadcastCreate,
    BroadcastProgressPublic,
    BroadcastPublic,
    ImportResultPublic,
    LayerPublic,
    Page,
    ReminderCreate,
    ReminderPublic,
    ReminderUpdate,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    VisitCreate,
    VisitPublic,
    page_of,
)
from guardianes.domain.enums import BroadcastStatus, ReminderKind, ResponsibleType
from guardianes.domain.timezone import zone
from guardianes.importers.layers import LayerSpec
from guardianes.importers.maps import FieldChoice
from guardianes.importers.report import ImportFileError, ImportRejectedError, ImportReport
from guardianes.importers.service import UnknownServiceError
from guardianes.services import broadcasts as broadcasts_service
from guardianes.services import evidence_imports, file_imports, staff_tokens
from guardianes.services import reminders as reminders_service
from guardianes.services import visits as visits_service
from guardianes.services.references import UnknownReferenceError
from guardianes.storage.models import Broadcast, StaffToken
from guardianes.storage.repositories import broadcasts as broadcasts_repo
from guardianes.storage.repositories import places as places_repo
from guardianes.storage.repositories import reminders as reminders_repo
from guardianes.storage.repositories.broadcasts import RecipientFilter
from guardianes.storage.repositories.cities import CityRequiredError
from guardianes.storage.types import utcnow
from guardianes.web.deps import RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1")
IMPORT_KINDS = ("kml", "contracts", "ocds", "colonias", "complaints", "status", "directorates")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_FILE_NAME = 300  # layers.file_name
MIN_YEAR, MAX_YEAR = 1900, 2200
CREATED_BY_LENGTH = 200


def _not_found(what: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")


def _unprocessable(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def _who(token: StaffToken) -> str:
    # created_by holds 200 characters; a token's name alone may fill them.
    return f"token:{token.id}:{token.name}"[:CREATED_BY_LENGTH]


# ---------------------------------------------------------------- visits


@router.get("/visits", tags=["visits"])
async def list_visits(
    session: SessionDep,
    _: ViewerDep,
    colonia_id: IdQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[VisitPublic]:
    """Visits, soonest first."""
    page = await broadcasts_repo.list_visits(
        session, colonia_id=colonia_id, starts_from=None, limit=limit, offset=offset
    )
    return page_of(page, VisitPublic.model_validate, limit=limit, offset=offset)


@router.post("/visits", tags=["visits"], status_code=status.HTTP_201_CREATED)
async def create_visit(
    *, session: SessionDep, runtime: RuntimeDep, token: StaffDep, body: VisitCreate
) -> VisitPublic:
    """Announce a visit to the colonia's guardians and remind them the day before."""
    try:
        created = await visits_service.create_visit(
            session,
            colonia_id=body.colonia_id,
            place=body.place,
            starts_at=body.starts_at,
            description=body.description,
            created_by=_who(token),
            timezone=zone(runtime.settings.timezone),
            reminder_hour=body.reminder_hour,
        )
    except UnknownReferenceError as error:
        raise _unprocessable("unknown colonia") from error
    public = VisitPublic.model_validate(created.visit)
    public.broadcast_id = created.broadcast.id
    public.reminder_id = created.reminder.id if created.reminder else None
    public.reminder_at = created.reminder_at
    return public


@router.get("/visits/{visit_id}", tags=["visits"])
async def get_visit(session: SessionDep, _: ViewerDep, visit_id: IdPath) -> VisitPublic:
    """One visit."""
    visit = await broadcasts_repo.get_visit(session, visit_id)
    if visit is None:
        raise _not_found("visit")
    public = VisitPublic.model_validate(visit)
    broadcast = await broadcasts_repo.broadcast_of_visit(session, visit_id)
    public.broadcast_id = broadcast.id if broadcast else None
    return public


@router.post("/visits/{visit_id}/cancel", tags=["visits"])
async def cancel_visit(session: SessionDep, _: StaffDep, visit_id: IdPath) -> VisitPublic:
    """Cancel a visit: its reminder is switched off."""
    try:
        visit = await visits_service.cancel_visit(session, visit_id)
    except visits_service.VisitNotFoundError as error:
        raise _not_found("visit") from error
    return VisitPublic.model_validate(visit)


# ---------------------------------------------------------------- broadcasts


async def _with_progress(session: SessionDep, broadcast: Broadcast) -> BroadcastPublic:
    public = BroadcastPublic.model_validate(broadcast)
    report = await broadcasts_service.progress(session, broadcast.id)
    public.progress = BroadcastProgressPublic.of(report)
    return public


@router.get("/broadcasts", tags=["broadcasts"])
async def list_broadcasts(
    *,
    session: SessionDep,
    _: ViewerDep,
    status_: Annotated[BroadcastStatus | None, Query(alias="status")] = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[BroadcastPublic]:
    """Broadcasts, newest first."""
    page = await broadcasts_repo.list_broadcasts(
        session, status=status_, limit=limit, offset=offset
    )
    return page_of(page, BroadcastPublic.model_validate, limit=limit, offset=offset)


@router.post("/broadcasts", tags=["broadcasts"], status_code=status.HTTP_201_CREATED)
async def create_broadcast(
    session: SessionDep, token: StaffDep, body: BroadcastCreate
) -> BroadcastPublic:
    """Send a message to every active guardian matching the filters (sent in the background)."""
    try:
        broadcast, _count = await broadcasts_service.create_broadcast(
            session,
            text=body.text,
            recipients=RecipientFilter(
                colonia_id=body.colonia_id, role=body.role, channel=body.channel
            ),
            created_by=_who(token),
        )
    except UnknownReferenceError as error:
        raise _unprocessable(str(error)) from error
    return await _with_progress(session, broadcast)


@router.get("/broadcasts/{broadcast_id}", tags=["broadcasts"])
async def get_broadcast(session: SessionDep, _: ViewerDep, broadcast_id: IdPath) -> BroadcastPublic:
    """A broadcast with its progress; once done, the final sent/failed/unreachable report."""
    broadcast = await broadcasts_repo.get_broadcast(session, broadcast_id)
    if broadcast is None:
        raise _not_found("broadcast")
    return await _with_progress(session, broadcast)


@router.post("/broadcasts/{broadcast_id}/cancel", tags=["broadcasts"])
async def cancel_broadcast(
    session: SessionDep, _: StaffDep, broadcast_id: IdPath
) -> BroadcastPublic:
    """Stop a broadcast: recipients not yet queued get nothing."""
    broadcast = await broadcasts_repo.get_broadcast(session, broadcast_id)
    if broadcast is None:
        raise _not_found("broadcast")
    await broadcasts_service.cancel_broadcast(session, broadcast_id)
    await session.refresh(broadcast)
    return await _with_progress(session, broadcast)


# ---------------------------------------------------------------- reminders


@router.get("/reminders", tags=["reminders"])
async def list_reminders(
    *,
    session: SessionDep,
    _: ViewerDep,
    colonia_id: IdQuery = None,
    kind: ReminderKind | None = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[ReminderPublic]:
    """Reminders."""
    page = await reminders_repo.list_reminders(
        session, colonia_id=colonia_id, kind=kind, limit=limit, offset=offset
    )
    return page_of(page, ReminderPublic.model_validate, limit=limit, offset=offset)


@router.post("/reminders", tags=["reminders"], status_code=status.HTTP_201_CREATED)
async def create_reminder(
    session: SessionDep, runtime: RuntimeDep, _: StaffDep, body: ReminderCreate
) -> ReminderPublic:
    """A recurring reminder to a colonia's lead (or one guardian), in GUARDIANES_TIMEZONE."""
    spec = reminders_service.ReminderSpec(**body.model_dump())
    try:
        reminder = await reminders_service.create_reminder(
            session, spec, timezone=zone(runtime.settings.timezone), now=utcnow()
        )
    except reminders_service.InvalidScheduleError as error:
        raise _unprocessable(f"invalid schedule: {error}") from error
    except UnknownReferenceError as error:
        raise _unprocessable(str(error)) from error
    return ReminderPublic.model_validate(reminder)


@router.get("/reminders/{reminder_id}", tags=["reminders"])
async def get_reminder(session: SessionDep, _: ViewerDep, reminder_id: IdPath) -> ReminderPublic:
    """One reminder."""
    reminder = await reminders_repo.get_reminder(session, reminder_id)
    if reminder is None:
        raise _not_found("reminder")
    return ReminderPublic.model_validate(reminder)


@router.patch("/reminders/{reminder_id}", tags=["reminders"])
async def update_reminder(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: StaffDep,
    reminder_id: IdPath,
    body: ReminderUpdate,
) -> ReminderPublic:
    """Change a reminder; a new schedule recomputes its next run."""
    reminder = await reminders_repo.get_reminder(session, reminder_id)
    if reminder is None:
        raise _not_found("reminder")
    try:
        await reminders_service.update_reminder(
            session,
            reminder,
            body.model_dump(exclude_unset=True),
            timezone=zone(runtime.settings.timezone),
            now=utcnow(),
        )
    except reminders_service.InvalidScheduleError as error:
        raise _unprocessable(f"invalid schedule: {error}") from error
    except UnknownReferenceError as error:
        raise _unprocessable(str(error)) from error
    return ReminderPublic.model_validate(reminder)


@router.delete(
    "/reminders/{reminder_id}", tags=["reminders"], status_code=status.HTTP_204_NO_CONTENT
)
async def delete_reminder(session: SessionDep, _: StaffDep, reminder_id: IdPath) -> Response:
    """Delete a reminder and its history."""
    reminder = await reminders_repo.get_reminder(session, reminder_id)
    if reminder is None:
        raise _not_found("reminder")
    await reminders_repo.delete_reminder(session, reminder)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- imports


@router.get("/imports", tags=["imports"])
async def list_imports(
    *, session: SessionDep, _: ViewerDep, limit: LimitQuery = DEFAULT_PAGE, offset: OffsetQuery = 0
) -> Page[LayerPublic]:
    """Import history: map layers, most recently imported first."""
    page = await places_repo.list_layers(session, limit=limit, offset=offset)
    return page_of(page, LayerPublic.model_validate, limit=limit, offset=offset)


async def _run_import(
    kind: str,
    path: Path,
    runtime: RuntimeDep,
    spec: LayerSpec | None,
    *,
    skip_invalid: bool = False,
    city: str | None = None,
    fields: FieldChoice | None = None,
) -> ImportReport:
    try:
        return await file_imports.run_import(
            kind, path, runtime, spec, skip_invalid=skip_invalid, city=city, fields=fields
        )
    except CityRequiredError as error:
        raise _unprocessable(str(error).replace("--city", "city")) from error


@router.post("/imports", tags=["imports"], status_code=status.HTTP_201_CREATED)
async def create_import(
    *,
    runtime: RuntimeDep,
    _: StaffDep,
    file: Annotated[
        UploadFile,
        File(description="A map (KML, KMZ, GeoJSON, zipped Shapefile, CSV), a CSV or OCDS JSON."),
    ],
    kind: Annotated[
        str,
        Form(
            description="kml (any map) | contracts | ocds | colonias | complaints | status | "
            "directorates"
        ),
    ],
    service: Annotated[
        str | None, Form(max_length=64, pattern=NO_NUL, description="Service code (kml).")
    ] = None,
    year: Annotated[int | None, Form(ge=MIN_YEAR, le=MAX_YEAR)] = None,
    contract: Annotated[str | None, Form(max_length=100, pattern=NO_NUL)] = None,
    responsible: Annotated[str | None, Form(max_length=300, pattern=NO_NUL)] = None,
    responsible_type: Annotated[ResponsibleType, Form()] = ResponsibleType.MUNICIPALITY,
    title: Annotated[str | None, Form(max_length=500, pattern=NO_NUL)] = None,
    skip_invalid: Annotated[
        bool,
        Form(description="Import the good rows, report the bad ones (default: all or nothing)."),
    ] = False,
    city: Annotated[
        str | None,
        Form(
            max_length=200,
            pattern=NO_NUL,
            description="The city the data belongs to (created on first use; optional with "
            "one city).",
        ),
    ] = None,
    name_field: Annotated[
        str | None,
        Form(max_length=100, pattern=NO_NUL, description="Map property naming each feature."),
    ] = None,
    code_field: Annotated[
        str | None,
        Form(max_length=100, pattern=NO_NUL, description="Map property holding its code."),
    ] = None,
) -> ImportResultPublic:
    """Upload a file and run its importer (re-importing a file updates rows in place)."""
    if kind not in IMPORT_KINDS:
        raise _unprocessable(f"kind must be one of {', '.join(IMPORT_KINDS)}")
    if kind == "kml" and not service:
        raise _unprocessable("a kml import needs a service")
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail="file too large")
    # The layer's identity is its file name, so keep the uploaded name (without folders).
    name = PurePosixPath((file.filename or f"upload.{kind}").replace("\\", "/")).name
    if not name or "\x00" in name or len(name) > MAX_FILE_NAME:
        raise _unprocessable(f"a file name of 1 to {MAX_FILE_NAME} characters, without NUL")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(data)
        spec = (
            LayerSpec(
                path=path,
                service=service or "",
                year=year,
                contract=contract,
                responsible=responsible,
                responsible_type=responsible_type,
                title=title,
                name_field=name_field,
                code_field=code_field,
            )
            if kind == "kml"
            else None
        )
        try:
            report = await _run_import(
                kind,
                path,
                runtime,
                spec,
                skip_invalid=skip_invalid,
                city=city,
                fields=FieldChoice(name_field, code_field),
            )
        except (ImportFileError, UnknownServiceError) as error:
            raise _unprocessable(str(error)) from error
        except ImportRejectedError as error:
            # All or nothing, as for status files: every problem, so staff fix the file once.
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail={
                    "message": str(error),
                    "problems": [
                        {"file": p.file, "where": p.where, "reason": p.reason}
                        for p in error.problems
                    ],
                },
            ) from error
        except evidence_imports.StatusImportError as error:
            # All or nothing: every bad row, so staff fix the file in one go.
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail={
                    "message": str(error),
                    "problems": [
                        {"line": p.line, "column": p.column, "reason": p.reason}
                        for p in error.problems
                    ],
                },
            ) from error
    return ImportResultPublic(
        label=report.label,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=report.skipped,
        problems=[str(p) for p in report.problems],
    )


# ---------------------------------------------------------------- tokens (admin)


@router.get("/tokens", tags=["tokens"])
async def list_tokens(
    *, session: SessionDep, _: AdminDep, limit: LimitQuery = DEFAULT_PAGE, offset: OffsetQuery = 0
) -> Page[TokenPublic]:
    """Staff tokens, newest first (never their values)."""
    page = await staff_tokens.tokens_page(session, limit=limit, offset=offset)
    return page_of(page, TokenPublic.model_validate, limit=limit, offset=offset)


@router.post("/tokens", tags=["tokens"], status_code=status.HTTP_201_CREATED)
async def create_token(session: SessionDep, _: AdminDep, body: TokenCreate) -> TokenCreated:
    """Make a token; its value is in this answer only."""
    row, plain = await staff_tokens.create_token(session, name=body.name, role=body.role)
    return TokenCreated(**TokenPublic.model_validate(row).model_dump(), token=plain)


@router.delete("/tokens/{token_id}", tags=["tokens"], status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(session: SessionDep, _: AdminDep, token_id: IdPath) -> Response:
    """Revoke a token at once."""
    if not await staff_tokens.revoke_token(session, token_id):
        raise _not_found("active token")
    return Response(status_code=status.HTTP_204_NO_CONTENT)

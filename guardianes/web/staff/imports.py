"""Imports: upload a file, see its report (all or nothing, as the API)."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Annotated

from fastapi import APIRouter, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from guardianes.api.deps import RuntimeDep
from guardianes.api.schemas import NO_NUL
from guardianes.domain.enums import ResponsibleType, StaffTokenRole
from guardianes.importers.layers import LayerSpec
from guardianes.importers.report import ImportFileError, ImportReport
from guardianes.services import evidence_imports, file_imports
from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories import places as places_repo
from guardianes.web.staff.common import CSRF, PAGE, render, session_for, unprocessable, viewer
from guardianes.web.staff.session import StaffSession

router = APIRouter()
MAX_FILE_NAME = 300  # layers.file_name


async def _imports_page(
    request: Request,
    runtime: RuntimeDep,
    staff: StaffSession,
    *,
    status_code: int = 200,
    report: ImportReport | None = None,
    failure: str | None = None,
    problems: list[str] | None = None,
) -> Response:
    async with unit_of_work(runtime.sessions) as session:
        layers = (await places_repo.list_layers(session, limit=PAGE, offset=0)).items
    return render(
        request,
        "imports.html",
        staff,
        status_code=status_code,
        kinds=file_imports.IMPORT_KINDS,
        layers=layers,
        report=report,
        failure=failure,
        problems=problems or [],
    )


@router.get("/importaciones", response_class=HTMLResponse)
async def imports_page(request: Request, runtime: RuntimeDep) -> Response:
    """The upload form and the layers loaded so far."""
    staff = await viewer(request)
    return await _imports_page(request, runtime, staff)


def _layer_spec(
    path: Path, service: str | None, contract: str | None, responsible: str | None
) -> LayerSpec:
    return LayerSpec(
        path=path,
        service=service or "",
        year=None,
        contract=contract or None,
        responsible=responsible or None,
        responsible_type=ResponsibleType.CONTRACTOR
        if responsible
        else ResponsibleType.MUNICIPALITY,
        title=None,
    )


@router.post("/importaciones", response_class=HTMLResponse)
async def upload_import(
    *,
    request: Request,
    runtime: RuntimeDep,
    file: UploadFile,
    kind: Annotated[str, Form(max_length=20)],
    csrf: CSRF,
    service: Annotated[str | None, Form(max_length=64, pattern=NO_NUL)] = None,
    contract: Annotated[str | None, Form(max_length=100, pattern=NO_NUL)] = None,
    responsible: Annotated[str | None, Form(max_length=300, pattern=NO_NUL)] = None,
    skip_invalid: Annotated[bool, Form()] = False,
) -> Response:
    """Import an uploaded file and show its report (all or nothing, as the API)."""
    staff = await session_for(request, StaffTokenRole.STAFF, csrf)
    if kind not in file_imports.IMPORT_KINDS or (kind == "kml" and not service):
        raise unprocessable("kind or service")
    name = PurePosixPath((file.filename or f"upload.{kind}").replace("\\", "/")).name
    if not name or "\x00" in name or len(name) > MAX_FILE_NAME:
        raise unprocessable("file name")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_bytes(await file.read())
        spec = _layer_spec(path, service, contract, responsible) if kind == "kml" else None
        try:
            report = await file_imports.run_import(
                kind, path, runtime, spec, skip_invalid=skip_invalid
            )
        except ImportFileError as error:
            return await _imports_page(request, runtime, staff, status_code=422, failure=str(error))
        except evidence_imports.StatusImportError as error:
            return await _imports_page(
                request,
                runtime,
                staff,
                status_code=422,
                failure=str(error),
                problems=[f"{p.line}: {p.column}: {p.reason}" for p in error.problems],
            )
    return await _imports_page(request, runtime, staff, report=report)

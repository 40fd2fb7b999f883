"""Imports of public data over the API: upload a file, run its importer, see the history."""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, HTTPException, UploadFile, status

from guardianes.api.auth import DEFAULT_PAGE, LimitQuery, OffsetQuery, StaffDep, ViewerDep
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.errors import unprocessable
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import NO_NUL, ImportResultPublic, LayerPublic, Page, page_of
from guardianes.importers.layers import LayerSpec
from guardianes.importers.maps import FieldChoice
from guardianes.importers.report import ImportFileError, ImportRejectedError, ImportReport
from guardianes.importers.service import UnknownServiceError
from guardianes.services import evidence_imports, file_imports
from guardianes.storage.models import ResponsibleType
from guardianes.storage.repositories import catalog
from guardianes.storage.repositories.cities import CityRequiredError

router = APIRouter(prefix=PREFIX, tags=["imports"])
IMPORT_KINDS = ("kml", "contracts", "ocds", "colonias", "complaints", "status", "directorates")
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
MAX_FILE_NAME = 300  # layers.file_name
MIN_YEAR, MAX_YEAR = 1900, 2200


def _rejected(error: Exception, problems: list[dict[str, Any]]) -> HTTPException:
    """422 with every problem of the file (all or nothing), so staff fix it in one go."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail={"message": str(error), "problems": problems},
    )


@router.get("/imports")
async def list_imports(
    *, session: SessionDep, _: ViewerDep, limit: LimitQuery = DEFAULT_PAGE, offset: OffsetQuery = 0
) -> Page[LayerPublic]:
    """Import history: map layers, most recently imported first."""
    page = await catalog.list_layers(session, limit=limit, offset=offset)
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
        raise unprocessable(str(error).replace("--city", "city")) from error


@router.post("/imports", status_code=status.HTTP_201_CREATED)
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
        raise unprocessable(f"kind must be one of {', '.join(IMPORT_KINDS)}")
    if kind == "kml" and not service:
        raise unprocessable("a kml import needs a service")
    data = await file.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, detail="file too large")
    # The layer's identity is its file name, so keep the uploaded name (without folders).
    name = PurePosixPath((file.filename or f"upload.{kind}").replace("\\", "/")).name
    if not name or "\x00" in name or len(name) > MAX_FILE_NAME:
        raise unprocessable(f"a file name of 1 to {MAX_FILE_NAME} characters, without NUL")
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
            raise unprocessable(str(error)) from error
        except ImportRejectedError as error:
            problems = [
                {"file": p.file, "where": p.where, "reason": p.reason} for p in error.problems
            ]
            raise _rejected(error, problems) from error
        except evidence_imports.StatusImportError as error:
            rows = [
                {"line": p.line, "column": p.column, "reason": p.reason} for p in error.problems
            ]
            raise _rejected(error, rows) from error
    return ImportResultPublic(
        label=report.label,
        created=report.created,
        updated=report.updated,
        unchanged=report.unchanged,
        skipped=report.skipped,
        problems=[str(p) for p in report.problems],
    )

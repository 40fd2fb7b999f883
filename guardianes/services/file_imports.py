"""Run one uploaded file through its importer (the API's and the dashboard's imports)."""

from __future__ import annotations

from pathlib import Path

from guardianes.importers import service as importers
from guardianes.importers.layers import LayerSpec
from guardianes.importers.maps import FieldChoice
from guardianes.importers.report import ImportReport
from guardianes.services import evidence_imports
from guardianes.services.runtime import Runtime, reload_gazetteer
from guardianes.storage.db import unit_of_work
from guardianes.storage.repositories.cities import resolve_city

IMPORT_KINDS = ("kml", "contracts", "ocds", "colonias", "complaints", "status", "directorates")


async def run_import(
    kind: str,
    path: Path,
    runtime: Runtime,
    spec: LayerSpec | None,
    *,
    skip_invalid: bool = False,
    city: str | None = None,
    fields: FieldChoice | None = None,
) -> ImportReport:
    """Import `path` as `kind` into `city` (the only one when unnamed); raises
    ImportFileError, StatusImportError or CityRequiredError for a bad request."""
    # Imports are their own unit of work so the gazetteer reload below sees the new rows.
    async with unit_of_work(runtime.sessions) as session:
        city_id = (await resolve_city(session, city)).id
        match kind:
            case "status":
                result = await evidence_imports.import_status(
                    session,
                    path,
                    settings=runtime.settings,
                    skip_invalid=skip_invalid,
                    city_id=city_id,
                )
                report = result.report
            case "directorates":
                report = await evidence_imports.import_directorates(session, path, city_id=city_id)
            case "kml" if spec is not None:
                report = await importers.import_kml_layer(
                    session, spec, city_id=city_id, skip_invalid=skip_invalid, fields=fields
                )
            case "contracts":
                report = await importers.import_contracts(
                    session, path, city_id=city_id, skip_invalid=skip_invalid
                )
            case "ocds":
                report = await importers.import_ocds(
                    session, [path], city_id=city_id, skip_invalid=skip_invalid
                )
            case "colonias":
                report = await importers.import_colonias(
                    session, path, city_id=city_id, skip_invalid=skip_invalid, fields=fields
                )
            case _:
                report = await importers.import_complaints(
                    session, path, city_id=city_id, skip_invalid=skip_invalid
                )
        if kind in ("kml", "colonias"):
            await importers.link_spaces_to_colonias(session, city_id)
    # Every import may bring a new city or a contract a layer names: the gazetteer follows.
    if kind in ("kml", "colonias", "contracts", "ocds", "directorates"):
        await reload_gazetteer(runtime)
    return report

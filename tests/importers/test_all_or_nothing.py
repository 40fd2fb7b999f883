"""Imports are all or nothing: any bad file or row → nothing written, every problem listed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.importers import service
from guardianes.importers.layers import LayerSpec
from guardianes.importers.report import ImportFileError, ImportRejectedError
from guardianes.storage.models import Colonia, Layer, PublicSpace, ServiceType
from guardianes.storage.repositories.imports import count_rows
from tests.importers.conftest import (
    LAYERS_HEADER,
    WriteFile,
    WriteShapefile,
    parks_geojson,
    parks_kml,
)


async def _nothing_written(session: AsyncSession) -> bool:
    counts = [await count_rows(session, m) for m in (Layer, PublicSpace, Colonia, ServiceType)]
    return counts == [0, 0, 0, 0]


async def test_layers_csv_naming_a_missing_file_imports_nothing(
    session: AsyncSession, layers_csv_missing_a_file: Path
):
    with pytest.raises(ImportRejectedError) as rejected:
        await service.import_layers_csv(session, layers_csv_missing_a_file)
    assert [str(p) for p in rejected.value.problems] == [
        "layers.csv:line 3: file 'faltante.kml' not found next to layers.csv"
    ]
    assert await _nothing_written(session)


async def test_layers_csv_names_a_truncated_kml_and_its_line(
    session: AsyncSession, write_file: WriteFile
):
    write_file("parques.kml", parks_kml())
    write_file("cortado.kml", parks_kml()[:300])
    csv = write_file(
        "layers.csv",
        LAYERS_HEADER
        + "parques.kml,green_space_maintenance,2021,,,,\n"
        + "cortado.kml,green_space_maintenance,2021,,,,\n",
    )
    with pytest.raises(ImportRejectedError) as rejected:
        await service.import_layers_csv(session, csv)
    (problem,) = rejected.value.problems
    assert (problem.file, problem.where) == ("layers.csv", "line 3")
    assert problem.reason.startswith("file 'cortado.kml' is not well-formed XML")
    assert await _nothing_written(session)


async def test_skip_invalid_imports_the_good_files_and_reports_the_bad(
    session: AsyncSession, write_file: WriteFile
):
    write_file("parques.geojson", parks_geojson())
    csv = write_file(
        "layers.csv",
        LAYERS_HEADER
        + "parques.geojson,green_space_maintenance,2021,,,,\n"
        + "faltante.kml,green_space_maintenance,2021,,,,\n",
    )
    result = await service.import_layers_csv(session, csv, skip_invalid=True)
    assert [(r.label, r.created) for r in result.layers] == [("parques.geojson", 2)]
    assert [p.where for p in result.csv.problems] == ["line 3"]


async def test_layers_csv_with_an_unknown_service_lists_the_valid_ones(
    session: AsyncSession, write_file: WriteFile
):
    write_file("parques.kml", parks_kml())
    csv = write_file("layers.csv", LAYERS_HEADER + "parques.kml,parques_y_jardines,2021,,,,\n")
    with pytest.raises(ImportRejectedError) as rejected:
        await service.import_layers_csv(session, csv)
    reason = rejected.value.problems[0].reason
    assert "unknown service 'parques_y_jardines'; valid: garbage_collection," in reason
    assert await _nothing_written(session)


async def test_layers_csv_reads_a_zipped_shapefile(
    session: AsyncSession, write_file: WriteFile, write_shapefile: WriteShapefile
):
    archive = write_shapefile("parques", utm=True, zipped=True)
    csv = write_file(
        "layers.csv",
        LAYERS_HEADER.strip() + ",name_field,code_field\n"
        f"{archive.name},green_space_maintenance,2021,,,,,NOMBRE,CVE\n",
    )
    result = await service.import_layers_csv(session, csv)
    codes = set(await session.scalars(select(PublicSpace.source_code)))
    assert (result.layers[0].created, codes) == (2, {"AC-Z12-0001", "AC-Z13-0001"})


async def test_unknown_service_for_a_map_creates_no_service(
    session: AsyncSession, write_file: WriteFile
):
    spec = LayerSpec(path=write_file("p.kml", parks_kml()), service="parkes")
    with pytest.raises(service.UnknownServiceError, match="valid: garbage_collection"):
        await service.import_kml_layer(session, spec)
    assert await _nothing_written(session)


async def test_a_service_added_on_purpose_can_be_imported(
    session: AsyncSession, write_file: WriteFile
):
    await service.add_service_type(
        session, "street_sweeping", name_es="Barrido de calles", name_en="Street sweeping"
    )
    spec = LayerSpec(path=write_file("p.kml", parks_kml()), service="street_sweeping")
    assert (await service.import_kml_layer(session, spec)).created == 2


async def test_a_map_with_one_bad_placemark_imports_nothing(
    session: AsyncSession, write_file: WriteFile
):
    kml = parks_kml().replace(
        "</Document>",
        "<Placemark><name>Roto</name><Point>"
        "<coordinates>abc,def</coordinates></Point></Placemark></Document>",
    )
    spec = LayerSpec(path=write_file("p.kml", kml), service="green_space_maintenance")
    with pytest.raises(ImportRejectedError) as rejected:
        await service.import_kml_layer(session, spec)
    assert [p.where for p in rejected.value.problems] == ["placemark 3 'Roto'"]
    assert await _nothing_written(session)


async def test_complaints_csv_given_to_colonias_is_refused(write_file: WriteFile):
    path = write_file("q.csv", "colonia,service,date,count\nCentro,garbage_collection,2024-05,2\n")
    with pytest.raises(ImportFileError, match="is a complaints CSV"):
        await service.import_colonias(None, path)  # type: ignore[arg-type]  # refused before any SQL


async def test_colonias_csv_with_a_bad_row_creates_no_colonia(
    session: AsyncSession, write_file: WriteFile
):
    path = write_file("c.csv", "nombre,lat,lon\nCentro,28.63,-106.08\nNorte,xx,-106.1\n")
    with pytest.raises(ImportRejectedError):
        await service.import_colonias(session, path)
    assert await count_rows(session, Colonia) == 0


async def test_cuauhtemoc_colonias_import_as_published(session: AsyncSession, other_cities: Path):
    report = await service.import_colonias(
        session, other_cities / "cdmx_cuauhtemoc_colonias.geojson"
    )
    assert (report.created, report.problems) == (33, [])


async def test_real_chihuahua_layers_still_import_whole(
    session: AsyncSession, chihuahua_data: Path
):
    # Its one placemark without coordinates holds nothing to lose: reported, not blocking.
    result = await service.import_layers_csv(session, chihuahua_data / "layers.csv")
    assert sum(r.created for r in result.layers) == 449

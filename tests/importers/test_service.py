"""Database imports of the real Chihuahua files and the sample data (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.messages import GeoPoint
from guardianes.geo.loader import load_gazetteer
from guardianes.importers import service
from guardianes.importers.report import ImportRejectedError
from guardianes.runtime.sample import load_sample_data
from guardianes.storage.models import (
    Colonia,
    Company,
    ComplaintCount,
    Contract,
    Layer,
    PublicSpace,
)
from guardianes.storage.repositories.imports import count_rows
from tests.importers.conftest import WriteFile

CONTRACTS = "contratos_municipio_2018_2020.csv"
ZUBIRAN = GeoPoint(28.637816, -106.045267)


async def _counts(session: AsyncSession) -> tuple[int, ...]:
    return tuple(
        [await count_rows(session, m) for m in (Layer, PublicSpace, Colonia, Company, Contract)]
    )


async def test_layers_csv_imports_every_real_file(session: AsyncSession, chihuahua_data: Path):
    result = await service.import_layers_csv(session, chihuahua_data / "layers.csv")
    assert [(r.label, r.created, r.skipped) for r in result.layers] == [
        ("parques_partida12_om-38-2020-d.kml", 62, 0),
        ("parques_partida13_municipio.kml", 76, 0),
        ("parques_partida14_municipio.kml", 85, 0),
        ("recoleccion_rutas_municipio.kml", 226, 1),
    ]


async def test_green_space_layers_hold_223_spaces(session: AsyncSession, chihuahua_data: Path):
    await service.import_layers_csv(session, chihuahua_data / "layers.csv")
    kinds = await session.scalars(select(PublicSpace.kind))
    assert list(kinds).count("green_space") == 223


async def test_route_file_gives_route_areas_and_22_sites(
    session: AsyncSession, chihuahua_data: Path
):
    await service.import_layers_csv(session, chihuahua_data / "layers.csv")
    kinds = list(await session.scalars(select(PublicSpace.kind)))
    assert (kinds.count("route_area"), kinds.count("site")) == (204, 22)


async def test_reimport_changes_no_counts(session: AsyncSession, chihuahua_data: Path):
    await service.import_layers_csv(session, chihuahua_data / "layers.csv")
    await service.import_contracts(session, chihuahua_data / CONTRACTS)
    await session.commit()
    before = await _counts(session)
    again = await service.import_layers_csv(session, chihuahua_data / "layers.csv")
    contracts = await service.import_contracts(session, chihuahua_data / CONTRACTS)
    await session.commit()
    assert await _counts(session) == before
    assert sum(r.created + r.updated for r in again.layers) + contracts.created == 0


async def test_contracts_import_all_rows(session: AsyncSession, chihuahua_data: Path):
    report = await service.import_contracts(session, chihuahua_data / CONTRACTS)
    assert (report.created, await count_rows(session, Contract)) == (1932, 1932)


async def test_companies_are_deduplicated_by_rfc(session: AsyncSession, chihuahua_data: Path):
    await service.import_contracts(session, chihuahua_data / CONTRACTS)
    pewis = list(
        await session.scalars(
            select(Company.rfc).where(Company.normalized_name == "CONSTRUCTORA PEWIS")
        )
    )
    assert sorted(rfc or "" for rfc in pewis) == ["CPE980504FW0", "ECI000614KS8"]


async def test_company_from_layer_name_gains_rfc_from_contracts(
    session: AsyncSession, chihuahua_data: Path
):
    session.add(
        Company(name="Constructora Pewis, S.A. de C.V.", normalized_name="CONSTRUCTORA PEWIS")
    )
    await session.flush()
    await service.import_contracts(session, chihuahua_data / CONTRACTS)
    first = await session.scalar(select(Company).order_by(Company.id).limit(1))
    assert first is not None and first.rfc == "CPE980504FW0"


async def test_pewis_is_responsible_for_spaces_of_om_38_2020_d(
    session: AsyncSession, chihuahua_data: Path
):
    await service.import_layers_csv(session, chihuahua_data / "layers.csv")
    await service.import_contracts(session, chihuahua_data / CONTRACTS)
    gazetteer = await load_gazetteer(session, 150.0)
    lealtad = GeoPoint(28.632863, -106.044382)  # Parque Lealtad II, AC-Z12-0001
    match = gazetteer.space_at(lealtad, service="green_space_maintenance")
    assert match is not None
    party = match.responsible[0]
    assert (party.name, party.kind, party.contract_number) == (
        "Constructora Pewis, S.A. de C.V.",
        "contractor",
        "O.M.-38/2020-D",
    )


async def test_zubiran_is_the_municipalitys(session: AsyncSession, chihuahua_data: Path):
    await service.import_layers_csv(session, chihuahua_data / "layers.csv")
    match = (await load_gazetteer(session, 150.0)).space_at(
        ZUBIRAN, service="green_space_maintenance"
    )
    assert match is not None
    assert (match.code, match.name, match.responsible[0].kind) == (
        "AC-Z13-0001",
        "Zubirán",
        "municipality",
    )


async def test_route_layer_derives_colonias(session: AsyncSession, chihuahua_data: Path):
    result = await service.import_layers_csv(session, chihuahua_data / "layers.csv")
    assert result.colonias is not None and result.colonias.created == await count_rows(
        session, Colonia
    )


async def test_complaints_reimport_sets_counts(session: AsyncSession, sample_dir: Path):
    await load_sample_data(session)
    report = await service.import_complaints(session, sample_dir / "quejas_muestra.csv")
    total = sum(await session.scalars(select(ComplaintCount.count)))
    assert (report.unchanged, total) == (7, 39)


async def test_complaint_for_unknown_colonia_is_reported(
    session: AsyncSession, write_file: WriteFile
):
    path = write_file("q.csv", "colonia,service,date,count\nNinguna,garbage_collection,2024-05,2\n")
    with pytest.raises(ImportRejectedError) as rejected:
        await service.import_complaints(session, path)
    assert [str(p) for p in rejected.value.problems] == [
        "q.csv:line 2: unknown colonia 'Ninguna' (import colonias first)"
    ]


async def test_sample_data_gazetteer_finds_the_demo_plaza(session: AsyncSession):
    await load_sample_data(session)
    match = (await load_gazetteer(session, 150.0)).space_at(GeoPoint(28.6355, -106.0890))
    assert match is not None and match.colonia is not None
    assert (match.name, match.colonia.name, match.responsible[0].contract_object) == (
        "Plaza Demo de Armas",
        "Centro",
        "Mantenimiento de áreas verdes de la zona centro (muestra)",
    )


async def test_sample_spaces_are_linked_to_colonias(session: AsyncSession):
    await load_sample_data(session)
    linked = await session.scalars(
        select(PublicSpace.colonia_id).where(PublicSpace.kind == "green_space")
    )
    assert None not in list(linked)

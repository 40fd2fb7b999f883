"""Contracts from the Open Contracting Data Standard: Mexico City's releases as published."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.importers import service
from guardianes.importers.contracts import ContractRecord
from guardianes.importers.ocds import merge_releases, parse_ocds
from guardianes.importers.report import ImportFileError
from guardianes.storage.models import Company, Contract
from tests.importers.conftest import WriteFile

A001 = "OCDS-87SD3T-SEFIN-DRM-A-001-2016"
S065 = "OCDS-87SD3T-AD-SF-DRM-065-2015"


@pytest.fixture
def ocds_cdmx(other_cities: Path) -> Path:
    """The 20 real releases of Mexico City's finance ministry."""
    return other_cities / "ocds-cdmx"


def _by_ocid(records: tuple[ContractRecord, ...]) -> dict[str, ContractRecord]:
    return {r.ocid or "": r for r in records}


def _releases(folder: Path) -> list[dict[str, object]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))]


def test_twenty_releases_merge_into_eight_contracts(ocds_cdmx: Path):
    parsed = parse_ocds([ocds_cdmx])
    assert (len(parsed.records), parsed.problems) == (8, ())


def test_merged_contract_has_its_latest_value_and_number(ocds_cdmx: Path):
    record = _by_ocid(parse_ocds([ocds_cdmx]).records)[A001]
    assert (record.contract_number, record.amount, record.procedure_type) == (
        "A-013/2016",
        Decimal("984398.88"),
        "AD",
    )


def test_every_release_is_kept_as_history(ocds_cdmx: Path):
    history = _by_ocid(parse_ocds([ocds_cdmx]).records)[A001].ocds_history
    assert history is not None
    assert [(h["release_id"], h["contract_values"]) for h in history["releases"]] == [
        ("01", {"1": "492199.44"}),
        ("02", {"1": "984398.88"}),
        ("03", {"1": "984398.88"}),
    ]


def test_value_doubled_by_amendment_raises_the_flag(ocds_cdmx: Path):
    flags = _by_ocid(parse_ocds([ocds_cdmx]).records)[A001].flags
    assert flags is not None
    assert (flags.value_increase, flags.value_increase_pct, flags.direct_award) == (
        True,
        100.0,
        True,
    )


def test_restricted_invitation_with_one_bid_in_three_days_is_flagged(ocds_cdmx: Path):
    flags = _by_ocid(parse_ocds([ocds_cdmx]).records)[S065].flags
    assert flags is not None and flags.raised == ["single_bidder", "short_tender"]


def test_supplier_comes_from_parties_with_its_rfc(ocds_cdmx: Path):
    record = _by_ocid(parse_ocds([ocds_cdmx]).records)[A001]
    assert (record.company_name, record.company_rfc) == (
        "TIENDAS COMERCIAL MEXICANA S.A D",
        "TCM951030A17",
    )


def test_release_package_gives_the_same_contracts(ocds_cdmx: Path, write_file: WriteFile):
    package = {"uri": "x", "publishedDate": "2017-10-10", "releases": _releases(ocds_cdmx)}
    parsed = parse_ocds([write_file("package.json", json.dumps(package))])
    assert _by_ocid(parsed.records)[A001].amount == Decimal("984398.88")


def test_record_package_with_embedded_releases_is_merged(ocds_cdmx: Path, write_file: WriteFile):
    releases = [r for r in _releases(ocds_cdmx) if r["ocid"] == A001]
    package = {"records": [{"ocid": A001, "releases": releases}]}
    (record,) = parse_ocds([write_file("records.json", json.dumps(package))]).records
    assert record.flags is not None and record.flags.value_increase is True


def test_record_with_only_a_compiled_release_is_imported(write_file: WriteFile):
    compiled = {
        "ocid": "ocds-abc-1",
        "id": "c",
        "date": "2024-02-01T00:00:00Z",
        "tender": {"procurementMethod": "open", "numberOfTenderers": 4},
        "awards": [{"id": "a1", "suppliers": [{"name": "Jardines del Norte SA"}]}],
        "contracts": [{"id": "k1", "awardID": "a1", "value": {"amount": 1000, "currency": "MXN"}}],
    }
    package = {"records": [{"ocid": "ocds-abc-1", "compiledRelease": compiled}]}
    (record,) = parse_ocds([write_file("r.json", json.dumps(package))]).records
    assert (record.company_name, record.procedure_type, record.amount) == (
        "Jardines del Norte SA",
        "LP",
        Decimal("1000"),
    )


def test_ocds_1_0_amendment_with_former_value_raises_the_flag(write_file: WriteFile):
    release = {
        "ocid": "ocds-old-1",
        "id": "1",
        "date": "2015-01-01",
        "tender": {"procurementMethod": "limited"},
        "awards": [{"id": "1", "suppliers": [{"identifier": {"legalName": "Luz SA"}}]}],
        "contracts": [
            {
                "id": "1",
                "awardID": "1",
                "value": {"amount": 150},
                "amendment": {
                    "date": "2015-06-01",
                    "rationale": "ampliación",
                    "changes": [{"property": "value", "former_value": {"amount": 100}}],
                },
            }
        ],
    }
    (record,) = parse_ocds([write_file("old.json", json.dumps(release))]).records
    assert record.flags is not None
    assert (record.company_name, record.flags.value_increase_pct) == ("Luz SA", 50.0)


def test_merge_rules_later_wins_arrays_by_id_null_removes():
    compiled = merge_releases(
        [
            {"tender": {"title": "A", "status": "active"}, "awards": [{"id": "1", "v": 1}]},
            {"tender": {"status": None}, "awards": [{"id": "2", "v": 2}, {"id": "1", "v": 3}]},
        ]
    )
    assert compiled == {
        "tender": {"title": "A"},
        "awards": [{"id": "1", "v": 3}, {"id": "2", "v": 2}],
    }


def test_release_without_ocid_is_a_problem_naming_it(write_file: WriteFile):
    package = {"releases": [{"id": "1", "tender": {}}]}
    parsed = parse_ocds([write_file("p.json", json.dumps(package))])
    assert [str(p) for p in parsed.problems] == ["p.json:release 1: has no ocid"]


def test_geojson_given_as_ocds_is_refused_saying_what_it_is(write_file: WriteFile):
    path = write_file("c.json", '{"type": "FeatureCollection", "features": []}')
    with pytest.raises(ImportFileError, match="is GeoJSON"):
        parse_ocds([path])


async def test_import_creates_contracts_and_one_company_per_rfc(
    session: AsyncSession, ocds_cdmx: Path
):
    report = await service.import_ocds(session, [ocds_cdmx])
    tiendas = await session.scalar(select(Company).where(Company.rfc == "TCM951030A17"))
    assert tiendas is not None
    owned = list(await session.scalars(select(Contract).where(Contract.company_id == tiendas.id)))
    assert (report.created, len(owned)) == (8, 4)


async def test_reimport_of_ocds_changes_nothing(session: AsyncSession, ocds_cdmx: Path):
    await service.import_ocds(session, [ocds_cdmx])
    await session.commit()
    again = await service.import_ocds(session, [ocds_cdmx])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 8)


async def test_flags_are_stored_beside_the_imco_indicators(session: AsyncSession, ocds_cdmx: Path):
    await service.import_ocds(session, [ocds_cdmx])
    row = await session.scalar(select(Contract).where(Contract.ocid == A001))
    assert row is not None
    assert (row.flag_direct_award, row.flag_value_increase, row.value_increase_pct) == (
        True,
        True,
        100.0,
    )


async def test_chihuahua_csv_gets_flags_from_its_own_columns(
    session: AsyncSession, chihuahua_data: Path
):
    await service.import_contracts(session, chihuahua_data / "contratos_municipio_2018_2020.csv")
    direct = await session.scalars(select(Contract.flag_direct_award))
    assert True in set(direct)

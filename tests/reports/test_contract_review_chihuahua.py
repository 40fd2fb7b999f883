"""Contract review of O.M.-38/2020-D on the real data: the contract is only in the map
layers, so its spaces are reviewed and the company is found by name."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from guardianes.domain.timezone import zone
from guardianes.services.reports.contract_review import ContractNotFoundError, contract_review
from guardianes.storage.db import unit_of_work
from tests.evidence.conftest import PEWIS_CONTRACT, ChihuahuaCity
from tests.evidence.test_discrepancies_chihuahua import UNMOWED, guardian_reports

ZONE = zone("America/Chihuahua")


async def test_the_pewis_contract_is_reviewed_by_number_with_the_firms_record(
    city: ChihuahuaCity,
) -> None:
    parks = city.spaces_of(PEWIS_CONTRACT)
    await guardian_reports(city, "ana", parks[0], **UNMOWED)
    await guardian_reports(city, "beto", parks[1])
    today = datetime.now(ZONE).date()
    async with unit_of_work(city.runtime.sessions) as session:
        review = await contract_review(
            session,
            catalog=city.runtime.catalog,
            start=date(today.year, today.month, 1),
            end=today,
            timezone=ZONE,
            contract_number="OM 38/2020 D",
        )
    assert review.contract is None  # not in the published procurement data
    assert review.contract_number == PEWIS_CONTRACT
    assert review.company == "Constructora Pewis, S.A. de C.V."
    assert len(review.spaces) == len(parks) == 62
    assert review.covered_spaces == 2
    assert review.coverage == round(2 / 62, 3)
    mowing = next(r for r in review.obligations if r.obligation == "mowing")
    assert (mowing.checks, mowing.failures, mowing.failure_rate) == (2, 1, 0.5)
    assert len(review.company_contracts) == 11
    assert review.company_direct_awards == 7
    assert [d.obligation for d in review.open_discrepancies] == ["mowing"]


async def test_an_unknown_contract_number_is_not_found(city: ChihuahuaCity) -> None:
    async with unit_of_work(city.runtime.sessions) as session:
        with pytest.raises(ContractNotFoundError):
            await contract_review(
                session,
                catalog=city.runtime.catalog,
                start=date(2026, 1, 1),
                end=date(2026, 1, 31),
                timezone=ZONE,
                contract_number="NO-SUCH/2099",
            )

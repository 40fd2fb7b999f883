"""Contracts, and the review of one: coverage, failures, discrepancies, the company's record."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from guardianes.api.auth import (
    DEFAULT_PAGE,
    IdPath,
    IdQuery,
    LimitQuery,
    OffsetQuery,
    TextQuery,
    ViewerDep,
)
from guardianes.api.deps import RuntimeDep, SessionDep
from guardianes.api.errors import found, not_found, unprocessable
from guardianes.api.params import EndQuery, StartQuery, local_zone
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import NO_NUL, ContractPublic, Page, page_of
from guardianes.services.reports.contract_review import (
    ContractNotFoundError,
    ContractReview,
    contract_review,
)
from guardianes.storage.repositories import catalog
from guardianes.storage.types import utcnow

router = APIRouter(prefix=PREFIX, tags=["contracts"])
DEFAULT_REVIEW_DAYS = 90


@router.get("/contracts")
async def list_contracts(
    *,
    session: SessionDep,
    _: ViewerDep,
    company_id: IdQuery = None,
    contract_number: TextQuery = None,
    limit: LimitQuery = DEFAULT_PAGE,
    offset: OffsetQuery = 0,
) -> Page[ContractPublic]:
    """Contracts, newest first."""
    page = await catalog.list_contracts(
        session,
        company_id=company_id,
        contract_number=contract_number,
        limit=limit,
        offset=offset,
    )
    return page_of(page, ContractPublic.model_validate, limit=limit, offset=offset)


@router.get("/contracts/{contract_id}")
async def get_contract(session: SessionDep, _: ViewerDep, contract_id: IdPath) -> ContractPublic:
    """One contract."""
    contract = found(await catalog.get_contract(session, contract_id), "contract")
    return ContractPublic.model_validate(contract)


async def _review(
    session: SessionDep,
    runtime: RuntimeDep,
    *,
    start: date | None,
    end: date | None,
    contract_id: int | None = None,
    contract_number: str | None = None,
) -> ContractReview:
    zone = local_zone(runtime)
    last = end or utcnow().astimezone(zone).date()
    first = start or last - timedelta(days=DEFAULT_REVIEW_DAYS)
    if first > last:
        raise unprocessable("start must not be after end")
    try:
        return await contract_review(
            session,
            catalog=runtime.catalog,
            start=first,
            end=last,
            timezone=zone,
            contract_id=contract_id,
            contract_number=contract_number,
        )
    except ContractNotFoundError as error:
        raise not_found("contract") from error


@router.get("/contracts/{contract_id}/review")
async def review_contract(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    contract_id: IdPath,
    start: StartQuery = None,
    end: EndQuery = None,
) -> ContractReview:
    """A contract's spaces, coverage, failure rate per obligation, open discrepancies and the
    company's other municipal contracts with their IMCO risk indicators."""
    return await _review(session, runtime, start=start, end=end, contract_id=contract_id)


@router.get("/reports/contract-review")
async def review_contract_by_number(
    *,
    session: SessionDep,
    runtime: RuntimeDep,
    _: ViewerDep,
    number: Annotated[
        str, Query(min_length=1, max_length=200, pattern=NO_NUL, description="Contract number.")
    ],
    start: StartQuery = None,
    end: EndQuery = None,
) -> ContractReview:
    """The same review by contract number, also for a contract only the map layers name
    (punctuation is ignored: `O.M.-38/2020-D` = `OM 38/2020 D`)."""
    return await _review(session, runtime, start=start, end=end, contract_number=number)

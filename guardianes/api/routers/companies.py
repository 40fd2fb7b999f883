"""Companies that hold municipal contracts."""

from __future__ import annotations

from fastapi import APIRouter

from guardianes.api.auth import DEFAULT_PAGE, IdPath, LimitQuery, OffsetQuery, ViewerDep
from guardianes.api.deps import SessionDep
from guardianes.api.errors import found
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import CompanyPublic, Page, page_of
from guardianes.storage.repositories import catalog

router = APIRouter(prefix=PREFIX, tags=["companies"])


@router.get("/companies")
async def list_companies(
    *, session: SessionDep, _: ViewerDep, limit: LimitQuery = DEFAULT_PAGE, offset: OffsetQuery = 0
) -> Page[CompanyPublic]:
    """Companies by name."""
    page = await catalog.list_companies(session, limit=limit, offset=offset)
    return page_of(page, CompanyPublic.model_validate, limit=limit, offset=offset)


@router.get("/companies/{company_id}")
async def get_company(session: SessionDep, _: ViewerDep, company_id: IdPath) -> CompanyPublic:
    """One company."""
    company = found(await catalog.get_company(session, company_id), "company")
    return CompanyPublic.model_validate(company)

"""Procurement: contracts and the companies that hold them."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import Company, Contract
from guardianes.storage.repositories.pagination import PageRows, paginate


async def list_contracts(
    session: AsyncSession,
    *,
    company_id: int | None,
    contract_number: str | None,
    limit: int,
    offset: int,
) -> PageRows[Contract]:
    """Contracts, newest first."""
    statement = select(Contract).order_by(Contract.contract_date.desc(), Contract.id.desc())
    if company_id is not None:
        statement = statement.where(Contract.company_id == company_id)
    if contract_number is not None:
        statement = statement.where(Contract.contract_number == contract_number)
    return await paginate(session, statement, limit=limit, offset=offset)


async def get_contract(session: AsyncSession, contract_id: int) -> Contract | None:
    """One contract."""
    return await session.get(Contract, contract_id)


async def list_companies(session: AsyncSession, *, limit: int, offset: int) -> PageRows[Company]:
    """Companies by name."""
    statement = select(Company).order_by(Company.name, Company.id)
    return await paginate(session, statement, limit=limit, offset=offset)


async def get_company(session: AsyncSession, company_id: int) -> Company | None:
    """One company."""
    return await session.get(Company, company_id)

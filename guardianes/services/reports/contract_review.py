"""Contract review: how a contract's spaces are watched, what fails, and the company's record.

Coverage is the share of the contract's spaces with at least one card in the period. The
failure rate of an obligation is failed checks over all checks of it in the period, where a
check is one answered question tagged with that obligation (`failed_obligations`). The
company's other municipal contracts come with their IMCO risk indicators.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.conversations.catalog import FormCatalog
from guardianes.conversations.obligations import failed_obligations
from guardianes.geo.normalize import normalize_company_name, normalize_contract_number
from guardianes.importers.service import find_contract_id
from guardianes.storage.models import Company, Contract, Layer
from guardianes.storage.repositories import imports as imports_repo
from guardianes.storage.repositories import reports as repo


class ContractNotFoundError(LookupError):
    """No contract with that id."""


@dataclass(frozen=True, slots=True)
class ReviewSpace:
    """One space of the contract and how many cards it got in the period."""

    id: int
    name: str
    code: str | None
    colonia: str | None
    cards: int


@dataclass(frozen=True, slots=True)
class ObligationRate:
    """Checks of one obligation in the period and how many found it failed."""

    obligation: str
    checks: int
    failures: int
    failure_rate: float | None


@dataclass(frozen=True, slots=True)
class RiskIndicators:
    """IMCO corruption-risk indicators of a contract (0 = no signal; higher = stronger)."""

    direct_award: bool
    single_bidder: bool
    favoritism: float | None
    directed_tender: float | None
    split_contracts: float | None
    overpricing: float | None
    short_deadlines: float | None
    collusion: float | None
    shell_company: float | None
    # OCP red flags computed at import (OCDS or CSV); None when the data does not say.
    short_tender: bool | None = None
    value_increase: bool | None = None
    value_increase_pct: float | None = None
    ocid: str | None = None


@dataclass(frozen=True, slots=True)
class ContractSummary:
    """A contract of the company, with its risk indicators."""

    id: int
    contract_number: str | None
    process_number: str | None
    contract_date: date | None
    amount: Decimal | None
    object: str | None
    procedure_type: str | None
    bidders_count: int | None
    risk: RiskIndicators


@dataclass(frozen=True, slots=True)
class OpenDiscrepancy:
    """An unresolved discrepancy of the contract."""

    id: int
    space_id: int
    obligation: str
    status: str
    kind: str
    period_start: date
    guardian_count: int
    strength: str
    overdue: bool


@dataclass
class ContractReview:
    """Everything the review says about one contract.

    `contract` is None for a contract the map layers name but the procurement data lacks
    (e.g. O.M.-38/2020-D in Chihuahua): its spaces are still reviewed, and the company is
    found by the name the layer gives.
    """

    contract_number: str | None
    contract: ContractSummary | None
    company: str | None
    company_id: int | None
    period_start: date
    period_end: date
    spaces: list[ReviewSpace]
    covered_spaces: int
    coverage: float | None
    obligations: list[ObligationRate]
    open_discrepancies: list[OpenDiscrepancy]
    company_contracts: list[ContractSummary] = field(default_factory=list)
    company_direct_awards: int = 0
    company_single_bidder: int = 0


def risk_of(contract: Contract) -> RiskIndicators:
    """The contract's indicators; direct award and single bidder read from the procedure."""
    direct = contract.flag_direct_award
    single = contract.flag_single_bidder
    return RiskIndicators(
        direct_award=direct if direct is not None else contract.procedure_type == "AD",
        single_bidder=single if single is not None else contract.bidders_count == 1,
        favoritism=contract.risk_favoritism,
        directed_tender=contract.risk_directed_tender,
        split_contracts=contract.risk_split_contracts,
        overpricing=contract.risk_overpricing,
        short_deadlines=contract.risk_short_deadlines,
        collusion=contract.risk_collusion,
        shell_company=contract.risk_shell_company,
        short_tender=contract.flag_short_tender,
        value_increase=contract.flag_value_increase,
        value_increase_pct=contract.value_increase_pct,
        ocid=contract.ocid,
    )


def summary_of(contract: Contract) -> ContractSummary:
    """A contract as the review lists it."""
    return ContractSummary(
        id=contract.id,
        contract_number=contract.contract_number,
        process_number=contract.process_number,
        contract_date=contract.contract_date,
        amount=contract.amount,
        object=contract.object,
        procedure_type=contract.procedure_type,
        bidders_count=contract.bidders_count,
        risk=risk_of(contract),
    )


async def contract_review(
    session: AsyncSession,
    *,
    catalog: FormCatalog,
    start: date,
    end: date,
    timezone: ZoneInfo,
    contract_id: int | None = None,
    contract_number: str | None = None,
) -> ContractReview:
    """Review one contract, by id or by number, over [start, end] (local dates, included)."""
    contract: Contract | None = None
    company: Company | None = None
    if contract_id is None and contract_number is not None:
        contract_id = find_contract_id(
            list(await imports_repo.contract_numbers(session)), contract_number
        )
    if contract_id is not None:
        found = await repo.contract_with_company(session, contract_id)
        if found is None:
            raise ContractNotFoundError(contract_id)
        contract, company = found
        contract_number = contract.contract_number
    key = normalize_contract_number(contract_number)
    layers = [
        layer
        for layer in await repo.layers_with_contract_numbers(session)
        if key is not None and normalize_contract_number(layer.contract_number) == key
    ]
    if contract is None and not layers:
        raise ContractNotFoundError(contract_number)
    if contract is None:
        contract_number = layers[0].contract_number  # as published, not as typed
    firm = company.normalized_name if company else None
    if firm is None:
        firm = next(
            (
                normalize_company_name(layer.responsible_name)
                for layer in layers
                if layer.responsible_type == "contractor" and layer.responsible_name
            ),
            None,
        )
    return await _review(
        session,
        catalog=catalog,
        contract=contract,
        contract_number=contract_number,
        company_name=company.name if company else (layers[0].responsible_name if layers else None),
        company_id=company.id if company else None,
        firm=firm,
        layers=layers,
        start=start,
        end=end,
        timezone=timezone,
    )


async def _review(
    session: AsyncSession,
    *,
    catalog: FormCatalog,
    contract: Contract | None,
    contract_number: str | None,
    company_name: str | None,
    company_id: int | None,
    firm: str | None,
    layers: list[Layer],
    start: date,
    end: date,
    timezone: ZoneInfo,
) -> ContractReview:
    spaces = (
        await repo.spaces_with_layers(session, layer_ids=[layer.id for layer in layers])
        if layers
        else []
    )
    space_ids = [s.space.id for s in spaces]
    since = datetime.combine(start, datetime.min.time(), timezone)
    until = datetime.combine(end, datetime.min.time(), timezone) + timedelta(days=1)
    counts = await repo.card_counts_by_space(session, space_ids, since=since, until=until)
    colonias = await repo.colonias_by_id(session)
    review_spaces = [
        ReviewSpace(
            id=s.space.id,
            name=s.space.name,
            code=s.space.source_code,
            colonia=colonias.get(s.space.colonia_id or -1),
            cards=counts.get(s.space.id, 0),
        )
        for s in spaces
    ]
    covered = sum(1 for s in review_spaces if s.cards)
    checks: dict[str, list[int]] = {}
    for submission, form_id in await repo.submissions_of_spaces(
        session, space_ids, since=since, until=until
    ):
        form = catalog.get(form_id)
        if form is None:
            continue
        today = submission.completed_at.astimezone(timezone).date()
        for finding in failed_obligations(form, submission.answers, today=today):
            tally = checks.setdefault(finding.obligation, [0, 0])
            tally[0] += 1
            tally[1] += int(finding.failed)
    rates = [
        ObligationRate(
            obligation=name,
            checks=total,
            failures=failed,
            failure_rate=round(failed / total, 3) if total else None,
        )
        for name, (total, failed) in sorted(checks.items())
    ]
    unresolved = await repo.unresolved_discrepancies(
        session, contract_id=contract.id if contract else None, space_ids=space_ids
    )
    others = await repo.contracts_of_company(session, firm) if firm else []
    if contract is not None and all(c.id != contract.id for c in others):
        others.insert(0, contract)
    return ContractReview(
        contract_number=contract_number,
        contract=summary_of(contract) if contract else None,
        company=company_name,
        company_id=company_id,
        period_start=start,
        period_end=end,
        spaces=review_spaces,
        covered_spaces=covered,
        coverage=round(covered / len(review_spaces), 3) if review_spaces else None,
        obligations=rates,
        open_discrepancies=[
            OpenDiscrepancy(
                id=d.id,
                space_id=d.public_space_id,
                obligation=d.obligation,
                status=d.status,
                kind=d.kind,
                period_start=d.period_start,
                guardian_count=d.guardian_count,
                strength=d.strength,
                overdue=d.overdue_at is not None,
            )
            for d in unresolved
        ],
        company_contracts=[summary_of(c) for c in others],
        company_direct_awards=sum(1 for c in others if c.procedure_type == "AD"),
        company_single_bidder=sum(1 for c in others if c.bidders_count == 1),
    )

"""Red-flag indicators of the Open Contracting Partnership, computed where the data allows.

Four flags from OCP's "Red flags for integrity" that public data can answer, each True,
False or None (the data does not say):

- single bidder: a competitive procedure (public tender LP, restricted invitation IR)
  that received one bid;
- direct award: the contract was awarded directly or by a limited procedure (AD);
- short tender period: the time to bid was shorter than Mexican procurement law's minimum
  (LAASSP art. 32 and 43: 15 calendar days for a public tender, 5 for an invitation);
- value raised by amendment: the contract's latest value is higher than its first
  published value (OCDS releases or amendments; the settlement amount in the IMCO CSV).

Pure: no database. The contracts table stores them beside the IMCO indicators.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

COMPETITIVE = {"LP", "IR"}
DIRECT = "AD"
MIN_TENDER_DAYS = {"LP": 15, "IR": 5}


@dataclass(frozen=True, slots=True)
class RedFlags:
    """The four flags (None: unknown) and how much the value grew, in percent."""

    single_bidder: bool | None = None
    direct_award: bool | None = None
    short_tender: bool | None = None
    value_increase: bool | None = None
    value_increase_pct: float | None = None

    @property
    def raised(self) -> list[str]:
        """Names of the flags that are up."""
        names = ("single_bidder", "direct_award", "short_tender", "value_increase")
        return [name for name in names if getattr(self, name) is True]


def compute_flags(
    *,
    procedure_type: str | None,
    bidders_count: int | None,
    tender_start: date | None,
    tender_end: date | None,
    first_value: Decimal | None,
    last_value: Decimal | None,
) -> RedFlags:
    """The flags of one contract from the few facts they need."""
    competitive = procedure_type in COMPETITIVE
    single = (bidders_count == 1) if competitive and bidders_count is not None else None
    direct = (procedure_type == DIRECT) if procedure_type else None
    short: bool | None = None
    if competitive and tender_start is not None and tender_end is not None:
        short = (tender_end - tender_start).days < MIN_TENDER_DAYS[procedure_type or "LP"]
    increase: bool | None = None
    pct: float | None = None
    if first_value is not None and last_value is not None:
        increase = last_value > first_value
        if first_value > 0:
            pct = round(float((last_value - first_value) / first_value * 100), 2)
    return RedFlags(single, direct, short, increase, pct)

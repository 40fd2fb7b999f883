"""Queries of the public map that the staff exports do not already have."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import Colonia, Layer, PublicSpace, Submission
from guardianes.storage.models_evidence import Discrepancy, DiscrepancyEvidence


async def map_fingerprint(session: AsyncSession) -> tuple[str, ...]:
    """A cheap summary that changes whenever anything the public map shows changes.

    Counts catch deletions, maxima of ids and update times catch additions and edits of
    spaces, layers, colonias, cards and discrepancies (with their evidence).
    """
    row = (
        await session.execute(
            select(
                select(func.count(PublicSpace.id)).scalar_subquery(),
                select(func.max(PublicSpace.updated_at)).scalar_subquery(),
                select(func.count(Layer.id)).scalar_subquery(),
                select(func.max(Layer.updated_at)).scalar_subquery(),
                select(func.count(Colonia.id)).scalar_subquery(),
                select(func.max(Colonia.updated_at)).scalar_subquery(),
                select(func.count(Submission.id)).scalar_subquery(),
                select(func.max(Submission.id)).scalar_subquery(),
                select(func.count(Discrepancy.id)).scalar_subquery(),
                select(func.max(Discrepancy.updated_at)).scalar_subquery(),
                select(func.count(DiscrepancyEvidence.id)).scalar_subquery(),
            )
        )
    ).one()
    return tuple(str(value) for value in row)

"""Checks that ids staff give name real rows, before anything is written with them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.storage.models import Colonia, Guardian


class UnknownReferenceError(LookupError):
    """A colonia or guardian id that names no row (the message says which)."""

    def __init__(self, what: str, ident: int) -> None:
        super().__init__(f"unknown {what} {ident}")
        self.what = what


async def check_references(
    session: AsyncSession, *, colonia_id: int | None = None, guardian_id: int | None = None
) -> None:
    """Raise `UnknownReferenceError` for an id that names no colonia or guardian."""
    # Checked here rather than left to the foreign keys: SQLite does not enforce them the
    # same way, and a refused flush would surface as a database error, not a reason.
    if colonia_id is not None and await session.get(Colonia, colonia_id) is None:
        raise UnknownReferenceError("colonia", colonia_id)
    if guardian_id is not None and await session.get(Guardian, guardian_id) is None:
        raise UnknownReferenceError("guardian", guardian_id)

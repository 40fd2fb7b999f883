"""Staff administration: API tokens (shown once, stored as SHA-256) and guardian roles."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.domain.enums import GuardianRole, GuardianStatus, StaffTokenRole
from guardianes.storage.models import Guardian, StaffToken
from guardianes.storage.repositories import staff as staff_repo
from guardianes.storage.repositories.pagination import PageRows
from guardianes.storage.types import utcnow

TOKEN_BYTES = 32  # 256 bits of randomness: guessing is hopeless, so a fast hash is enough
TOKEN_PREFIX = "gdn_"  # recognisable in logs and secret scanners
# Last use is recorded to the minute: a write per request would contend with the bot's writes.
LAST_USE_PRECISION = timedelta(minutes=1)
_RANK = {StaffTokenRole.VIEWER: 0, StaffTokenRole.STAFF: 1, StaffTokenRole.ADMIN: 2}


def hash_token(token: str) -> str:
    """The SHA-256 of a token, as stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def role_allows(actual: str, required: StaffTokenRole) -> bool:
    """True when a token of role `actual` may do what `required` may (admin > staff > viewer)."""
    try:
        return _RANK[StaffTokenRole(actual)] >= _RANK[required]
    except ValueError:
        return False


async def create_token(
    session: AsyncSession, *, name: str, role: StaffTokenRole
) -> tuple[StaffToken, str]:
    """Make a token; returns the row and the plain token, which is never stored."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = await staff_repo.add_token(
        session, name=name, role=role.value, token_hash=hash_token(plain)
    )
    return row, plain


async def authenticate(
    session: AsyncSession, token: str, now: datetime | None = None
) -> StaffToken | None:
    """The active token matching `token` (its last use recorded), or None."""
    row = await staff_repo.find_active_token(session, hash_token(token))
    if row is not None:
        moment = now or utcnow()
        await staff_repo.touch_token(session, row.id, moment, not_since=moment - LAST_USE_PRECISION)
    return row


async def revoke_token(session: AsyncSession, token_id: int, now: datetime | None = None) -> bool:
    """Revoke a token; False when there is no such token or it was already revoked."""
    row = await staff_repo.get_token(session, token_id)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = now or utcnow()
    await session.flush()
    return True


async def list_tokens(session: AsyncSession) -> Sequence[StaffToken]:
    """Every token, newest first."""
    return await staff_repo.list_tokens(session)


async def tokens_page(session: AsyncSession, *, limit: int, offset: int) -> PageRows[StaffToken]:
    """One page of tokens, newest first, with the total."""
    return await staff_repo.tokens_page(session, limit=limit, offset=offset)


# ---------------------------------------------------------------- guardians


class GuardianNotFoundError(LookupError):
    """No guardian with that id."""


class GuardianWithoutColoniaError(ValueError):
    """A lead stands for a colonia; this guardian has none."""


async def promote_to_lead(session: AsyncSession, guardian_id: int) -> Guardian:
    """Make a guardian the lead of their colonia; the previous lead becomes a guardian."""
    guardian = await staff_repo.get_guardian(session, guardian_id)
    if guardian is None:
        raise GuardianNotFoundError(guardian_id)
    if guardian.colonia_id is None:
        raise GuardianWithoutColoniaError(guardian_id)
    await staff_repo.demote_leads_of_colonia(
        session, guardian.colonia_id, keep_guardian_id=guardian.id
    )
    guardian.role = GuardianRole.LEAD
    await session.flush()
    return guardian


async def set_guardian_role(
    session: AsyncSession, guardian_id: int, role: GuardianRole
) -> Guardian:
    """Give a guardian a role; `lead` goes through `promote_to_lead` (one lead per colonia)."""
    if role == GuardianRole.LEAD:
        return await promote_to_lead(session, guardian_id)
    guardian = await staff_repo.get_guardian(session, guardian_id)
    if guardian is None:
        raise GuardianNotFoundError(guardian_id)
    guardian.role = role
    await session.flush()
    return guardian


async def deactivate_guardian(session: AsyncSession, guardian_id: int) -> Guardian:
    """Stop every message to a guardian (broadcasts and reminders skip non-active people)."""
    guardian = await staff_repo.get_guardian(session, guardian_id)
    if guardian is None:
        raise GuardianNotFoundError(guardian_id)
    guardian.status = GuardianStatus.DEACTIVATED
    await session.flush()
    return guardian

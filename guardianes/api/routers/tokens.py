"""Staff API tokens (admins only): list, create, revoke."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from guardianes.api.auth import DEFAULT_PAGE, AdminDep, IdPath, LimitQuery, OffsetQuery
from guardianes.api.deps import SessionDep
from guardianes.api.errors import not_found
from guardianes.api.paths import PREFIX
from guardianes.api.schemas import Page, TokenCreate, TokenCreated, TokenPublic, page_of
from guardianes.services import staff_tokens

router = APIRouter(prefix=PREFIX, tags=["tokens"])


@router.get("/tokens")
async def list_tokens(
    *, session: SessionDep, _: AdminDep, limit: LimitQuery = DEFAULT_PAGE, offset: OffsetQuery = 0
) -> Page[TokenPublic]:
    """Staff tokens, newest first (never their values)."""
    page = await staff_tokens.tokens_page(session, limit=limit, offset=offset)
    return page_of(page, TokenPublic.model_validate, limit=limit, offset=offset)


@router.post("/tokens", status_code=status.HTTP_201_CREATED)
async def create_token(session: SessionDep, _: AdminDep, body: TokenCreate) -> TokenCreated:
    """Make a token; its value is in this answer only."""
    row, plain = await staff_tokens.create_token(session, name=body.name, role=body.role)
    return TokenCreated(**TokenPublic.model_validate(row).model_dump(), token=plain)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_token(session: SessionDep, _: AdminDep, token_id: IdPath) -> Response:
    """Revoke a token at once."""
    if not await staff_tokens.revoke_token(session, token_id):
        raise not_found("active token")
    return Response(status_code=status.HTTP_204_NO_CONTENT)

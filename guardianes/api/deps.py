"""FastAPI dependencies shared by every route: the API's, the webhooks' and the pages'."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from guardianes.services.runtime import Runtime
from guardianes.storage.db import unit_of_work


def get_runtime(request: Request) -> Runtime:
    """The runtime the lifespan built."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: committed when the route returns, rolled back on error."""
    async with unit_of_work(runtime.sessions) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

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


async def _runtime_dependency(request: Request) -> Runtime:
    # async: FastAPI runs a sync dependency on a worker thread; a thread hop per request
    # for a getattr (under load it kept ~16 more threads alive, each with its own stack).
    return get_runtime(request)


RuntimeDep = Annotated[Runtime, Depends(_runtime_dependency)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One unit of work per request: committed when the route returns, rolled back on error."""
    async with unit_of_work(runtime.sessions) as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]

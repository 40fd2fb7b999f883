"""Health and root routes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from guardianes import __version__
from guardianes.api.deps import RuntimeDep
from guardianes.storage.db import schema_is_current

router = APIRouter()


@router.get("/healthz", tags=["health"])
async def health(runtime: RuntimeDep) -> dict[str, Any]:
    """Liveness: the process answers (readiness with reasons is `/readyz`)."""
    return {
        "status": "ok",
        "version": __version__,
        "database": runtime.engine.dialect.name,
        "schema_current": await schema_is_current(runtime.engine),
        "channels": sorted(runtime.channels),
        "forms": len(runtime.catalog.forms),
    }

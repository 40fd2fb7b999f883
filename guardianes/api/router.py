"""The staff API's routers, mounted by `guardianes.web.routers.all_routers`."""

from __future__ import annotations

from fastapi import APIRouter

from guardianes.api import (
    cities,
    evidence,
    open311,
    operations,
    privacy,
    reference,
    reports,
    training,
)


def api_routers() -> list[APIRouter]:
    """Every `/api/v1` router, and the public Open311 one."""
    return [
        cities.router,  # first: /spaces/at before /spaces/{space_id}
        reference.router,
        operations.router,
        training.router,
        privacy.router,
        evidence.router,
        reports.router,
        open311.router,
    ]

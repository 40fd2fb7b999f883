"""The staff API's routers, mounted by `guardianes.web.routers.all_routers`."""

from __future__ import annotations

from fastapi import APIRouter

from guardianes.api import operations, privacy, reference, training


def api_routers() -> list[APIRouter]:
    """Every `/api/v1` router."""
    return [reference.router, operations.router, training.router, privacy.router]

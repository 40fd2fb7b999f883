"""The staff API's routers, mounted by `guardianes.web.routers.all_routers`."""

from __future__ import annotations

from fastapi import APIRouter

from guardianes.api import evidence, operations, reference


def api_routers() -> list[APIRouter]:
    """Every `/api/v1` router."""
    return [reference.router, operations.router, evidence.router]

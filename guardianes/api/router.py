"""The staff API's routers, one per resource, mounted by `guardianes.web.routers.all_routers`."""

from __future__ import annotations

from fastapi import APIRouter

from guardianes.api.routers import (
    briefings,
    broadcasts,
    cities,
    colonias,
    companies,
    contracts,
    directorates,
    discrepancies,
    evidence_emails,
    evidence_reports,
    exports,
    guardians,
    imports,
    open311,
    privacy,
    quizzes,
    reminders,
    reports,
    spaces,
    status_reports,
    submissions,
    tokens,
    training,
    visits,
)


def api_routers() -> list[APIRouter]:
    """Every `/api/v1` router, and the public Open311 one."""
    return [
        guardians.router,
        colonias.router,
        briefings.router,
        cities.router,
        spaces.router,
        contracts.router,
        companies.router,
        submissions.router,
        quizzes.router,
        visits.router,
        broadcasts.router,
        reminders.router,
        imports.router,
        tokens.router,
        training.router,
        privacy.router,
        discrepancies.router,
        status_reports.router,
        directorates.router,
        evidence_reports.router,
        evidence_emails.router,
        reports.router,
        exports.router,
        open311.router,
    ]

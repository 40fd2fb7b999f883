"""The staff API's error answers, worded once for every router."""

from __future__ import annotations

from typing import TypeVar

from fastapi import HTTPException, status

T = TypeVar("T")


def not_found(what: str) -> HTTPException:
    """404: `<what> not found`."""
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")


def unprocessable(detail: str) -> HTTPException:
    """422 with a plain-text reason."""
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def conflict(detail: str) -> HTTPException:
    """409: the request clashes with the record's current state."""
    return HTTPException(status.HTTP_409_CONFLICT, detail=detail)


def found(row: T | None, what: str) -> T:
    """The row looked up by id, or a 404 naming what was looked for."""
    if row is None:
        raise not_found(what)
    return row

"""Error answers that can always be written: no request value is echoed back raw.

FastAPI's default 422 echoes each invalid input; an input of `1e999` is infinity, which
JSON cannot carry, and writing that answer failed with a 500. Only where and why is said.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

UNPROCESSABLE = 422


async def validation_failed(request: Request, error: Exception) -> JSONResponse:
    """422 with the location, message and type of each problem."""
    assert isinstance(error, RequestValidationError)
    details = [
        {
            "loc": [
                str(part) if not isinstance(part, int) else part for part in item.get("loc", ())
            ],
            "msg": str(item.get("msg", "")),
            "type": str(item.get("type", "")),
        }
        for item in error.errors()
    ]
    return JSONResponse(status_code=UNPROCESSABLE, content={"detail": details})


def install_error_handlers(app: FastAPI) -> None:
    """Register the handlers on the app."""
    app.add_exception_handler(RequestValidationError, validation_failed)

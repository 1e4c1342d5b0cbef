"""Translating errors into HTTP answers: every failure is ``{"detail": "one line"}`` with a 4xx status.

nnscape's own errors already carry the line a user needs (field, value, what is allowed); pydantic's list of
validation errors is folded into one line naming the first bad field the same way.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from nnscape.errors import ConfigError, NnscapeError

__all__ = ["ClientError", "install_error_handlers", "validation_message"]

# A config key or value that is not allowed: the request was well-formed but its content is not.
CONFIG_ERROR_STATUS = 422
OTHER_ERROR_STATUS = 400
VALIDATION_ERROR_STATUS = 422
# Where pydantic says the bad value was; the field path after it is what a user recognises.
_REQUEST_PARTS = ("body", "path", "query")
# The offending value is quoted in the message up to this many characters.
MAX_SHOWN_INPUT = 80


class ClientError(NnscapeError):
    """A request names something that is not allowed or not there; ``status`` is the HTTP answer."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


def validation_message(errors: list[Any]) -> str:
    """One line from pydantic's errors: the first one's field path, message and offending value."""
    if not errors:
        return "invalid request"
    first = errors[0]
    location = ".".join(str(part) for part in first.get("loc", ()) if part not in _REQUEST_PARTS) or "body"
    message = f"{location}: {first.get('msg', 'invalid value')}"
    if first.get("type") not in ("missing", "json_invalid") and "input" in first:
        shown = repr(first["input"])
        message += f" (got {shown if len(shown) <= MAX_SHOWN_INPUT else shown[:MAX_SHOWN_INPUT] + '…'})"
    more = len(errors) - 1
    return message + (f"; and {more} more problem{'s' if more > 1 else ''}" if more else "")


def install_error_handlers(app: FastAPI) -> None:
    """Answer nnscape errors and request validation failures with one-line ``detail`` messages."""

    async def on_nnscape_error(request: Request, exc: Exception) -> JSONResponse:
        if isinstance(exc, ClientError):
            status = exc.status
        elif isinstance(exc, ConfigError):
            status = CONFIG_ERROR_STATUS
        else:
            status = OTHER_ERROR_STATUS
        return JSONResponse({"detail": str(exc)}, status_code=status)

    async def on_validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return JSONResponse({"detail": validation_message(list(exc.errors()))}, status_code=VALIDATION_ERROR_STATUS)

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        # FastAPI answers "There was an error parsing the body" for any failure of the JSON parser but a syntax
        # error; the cause says which value is at fault.
        cause = exc.__cause__
        if isinstance(cause, RecursionError):
            return JSONResponse({"detail": "body: JSON nested too deeply"}, status_code=exc.status_code)
        if isinstance(cause, ValueError):  # such as an integer of more than 4 300 digits
            reason = str(cause).split(";")[0].splitlines()[0]
            return JSONResponse({"detail": f"body: cannot read the JSON ({reason})"}, status_code=exc.status_code)
        return await http_exception_handler(request, exc)

    app.add_exception_handler(NnscapeError, on_nnscape_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)

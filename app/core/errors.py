"""Typed application errors, and their rendering as RFC 9457 problem details.

Services raise ``AppError`` subclasses and never HTTP exceptions; one set of handlers turns every
error (ours, FastAPI's validation errors, Starlette's 404/405, database outages) into
``application/problem+json`` with a stable ``code``. Messages never carry personal data or internals.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.context import current_request_id
from app.core.problems import PROBLEM_TYPES, problem_page, problem_type
from app.core.schemas import MAX_ERROR_MESSAGE, MAX_FIELD_ERRORS, MAX_LOC_DEPTH, MAX_LOC_NAME

logger = logging.getLogger("mash.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
DATABASE_RETRY_AFTER_SECONDS = 5


class AppError(Exception):
    """An error a caller can act on. ``code`` must be registered in ``app.core.problems``."""

    code = "bad_request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
        errors: Sequence[Mapping[str, Any]] | None = None,
    ) -> None:
        if code is not None:
            self.code = code
        self.problem = problem_type(self.code)
        self.detail = detail or self.problem.description
        self.headers = dict(headers or {})
        self.errors = list(errors) if errors is not None else None
        super().__init__(self.code)

    @property
    def status(self) -> int:
        return self.problem.status


class Unauthenticated(AppError):
    code = "not_authenticated"

    def __init__(self, detail: str | None = None, *, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        error = "" if self.code == "not_authenticated" else ', error="invalid_token"'
        # RFC 6750 section 3: tell the client how to authenticate.
        self.headers["WWW-Authenticate"] = f'Bearer realm="mash-api"{error}'


class InvalidToken(Unauthenticated):
    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, code="invalid_token")


class InsufficientScope(AppError):
    code = "insufficient_scope"

    def __init__(self, missing: Sequence[str], *, any_of: bool = False) -> None:
        scopes = " ".join(sorted(missing))
        needs = "one of the scopes" if any_of else "the scope(s)"
        super().__init__(f"This operation requires {needs}: {scopes}.")
        self.headers["WWW-Authenticate"] = (
            f'Bearer realm="mash-api", error="insufficient_scope", scope="{scopes}"'
        )


class AgencyNotPermitted(AppError):
    """The token has the scope, but what the operation gives is not for the caller's agency (it is not
    one record, which would be a 404): ``detail`` names the agencies whose callers may."""

    code = "agency_not_permitted"


class SelfApproval(AppError):
    code = "self_approval"


class NotFound(AppError):
    """No such record, or not one the caller may see (the same answer, so a 404 reveals nothing).

    The record asked for is kept for the audit trail, which records every such answer
    (``app.core.routing``); ``record_type`` defaults to ``resource`` in snake case. Never shown.
    """

    code = "not_found"

    def __init__(
        self,
        resource: str = "resource",
        record_id: uuid.UUID | None = None,
        *,
        record_type: str | None = None,
    ) -> None:
        super().__init__(f"No {resource} with this id is visible to your agency.")
        self.record_type = record_type or resource.replace(" ", "_")
        self.record_id = record_id


class Conflict(AppError):
    code = "conflict"


class InvalidTransition(AppError):
    code = "invalid_transition"


class PreconditionRequired(AppError):
    code = "precondition_required"


class PreconditionFailed(AppError):
    code = "precondition_failed"


class ValidationFailed(AppError):
    """A domain rule rejected the input; ``errors`` has the same ``{loc, msg}`` shape as schema errors."""

    code = "validation_failed"

    def __init__(self, loc: Sequence[str | int], msg: str) -> None:
        super().__init__(msg, errors=[{"loc": list(loc), "msg": msg}])


class DatabaseUnavailable(AppError):
    code = "database_unavailable"

    def __init__(self, detail: str | None = None) -> None:
        super().__init__(detail, headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)})


def problem_response(
    code: str,
    detail: str | None = None,
    *,
    status: int | None = None,
    headers: Mapping[str, str] | None = None,
    errors: Sequence[Mapping[str, Any]] | None = None,
) -> JSONResponse:
    problem = PROBLEM_TYPES[code]
    body: dict[str, Any] = {
        "type": problem_page(code),
        "title": problem.title,
        "status": status or problem.status,
        "detail": detail or problem.description,
        "code": code,
        "request_id": current_request_id(),
    }
    if errors is not None:
        body["errors"] = list(errors)
    return JSONResponse(
        body,
        status_code=status or problem.status,
        headers=dict(headers or {}),
        media_type=PROBLEM_MEDIA_TYPE,
    )


# Messages that quote pieces of the value sent (pydantic's "invalid character: found `x` at 3", the email
# validator's "contains invalid characters: '<'"): only their first clause, which does not, is kept.
_QUOTING_MESSAGES = ("Input should be a valid UUID", "value is not a valid email address")


# Pydantic's own words for a date or a date-time it cannot read name its parser's step ("invalid character
# in year" for 02/05/2016): a client is told the format instead.
DATE_FORMAT_MESSAGE = "must be a date as YYYY-MM-DD"
DATETIME_FORMAT_MESSAGE = (
    "must be a date-time as YYYY-MM-DDThh:mm:ss with a UTC offset, e.g. 2026-05-02T09:30:00+01:00 or "
    "2026-05-02T08:30:00Z"
)
NAIVE_DATETIME_MESSAGE = (
    "needs a UTC offset (Z or +hh:mm): a date-time without one cannot be placed in time, "
    "e.g. 2026-05-02T09:30:00+01:00"
)
_MESSAGES_BY_TYPE = {
    "date_type": DATE_FORMAT_MESSAGE,
    "date_parsing": DATE_FORMAT_MESSAGE,
    "date_from_datetime_parsing": DATE_FORMAT_MESSAGE,
    "date_from_datetime_inexact": DATE_FORMAT_MESSAGE,
    "datetime_type": DATETIME_FORMAT_MESSAGE,
    "datetime_parsing": DATETIME_FORMAT_MESSAGE,
    "datetime_from_date_parsing": DATETIME_FORMAT_MESSAGE,
    "datetime_object_invalid": DATETIME_FORMAT_MESSAGE,
    "timezone_aware": NAIVE_DATETIME_MESSAGE,
}


def _message(err: Mapping[str, Any]) -> str:
    by_type = _MESSAGES_BY_TYPE.get(str(err.get("type", "")))
    if by_type is not None:
        return by_type
    msg = str(err.get("msg", ""))
    return next((safe for safe in _QUOTING_MESSAGES if msg.startswith(safe)), msg)


def _malformed_json(exc: RequestValidationError) -> dict[str, Any] | None:
    """The error of a body that is not JSON at all (FastAPI reports it as a validation error), if it is
    one: where reading stopped, and the parser's reason, which names no part of the body."""
    for err in exc.errors():
        if err.get("type") == "json_invalid":
            reason = str((err.get("ctx") or {}).get("error", "invalid JSON"))
            return {"loc": list(err.get("loc", ("body",)))[:2], "msg": f"not valid JSON: {reason}"[:200]}
    return None


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    # Only loc and msg: pydantic's "input" and "ctx" can echo personal data back. Cut to the sizes the
    # Problem schema documents: a body of a thousand unknown fields gets the first hundred.
    return [
        {
            "loc": [part[:MAX_LOC_NAME] if isinstance(part, str) else part for part in err.get("loc", ())][
                :MAX_LOC_DEPTH
            ],
            "msg": _message(err)[:MAX_ERROR_MESSAGE],
        }
        for err in exc.errors()[:MAX_FIELD_ERRORS]
    ]


_HTTP_STATUS_CODES = {
    400: "bad_request",
    401: "not_authenticated",
    403: "insufficient_scope",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "rate_limited",
}


# PostgreSQL SQLSTATEs (https://www.postgresql.org/docs/current/errcodes-appendix.html) that mean the
# server is going away, not yet accepting connections, or gone: the request never reached its data.
_OUTAGE_SQLSTATES = frozenset({"57P01", "57P02", "57P03", "57P04", "57P05"})  # admin/crash shutdown, ...
# ... and those that mean it is there but saturated: out of connection slots, or a statement ran past
# statement_timeout (query_canceled).
_BUSY_SQLSTATES = frozenset({"53300", "57014"})


def sqlstate(exc: BaseException) -> str | None:
    """The PostgreSQL SQLSTATE behind a (wrapped) driver error, if there is one."""
    seen: BaseException | None = exc.orig if isinstance(exc, sa_exc.DBAPIError) else exc
    for _ in range(5):  # SQLAlchemy's adapted error wraps asyncpg's, which may wrap another
        if seen is None:
            return None
        code = getattr(seen, "sqlstate", None)
        if isinstance(code, str):
            return code
        seen = seen.__cause__
    return None


def is_database_busy(exc: BaseException) -> bool:
    """True when the database is reachable but saturated: no pooled connection came free in time, or
    SQLite's single writer slot stayed taken for the whole busy timeout, or PostgreSQL ran out of
    connection slots or cancelled a statement at its timeout."""
    if isinstance(exc, sa_exc.TimeoutError):
        return True
    if isinstance(exc, sa_exc.DBAPIError) and sqlstate(exc) in _BUSY_SQLSTATES:
        return True
    return isinstance(exc, sa_exc.OperationalError) and "database is locked" in str(exc.orig)


def closes_connection(code: str | None) -> bool:
    """Whether an error with this SQLSTATE is the server closing the connection: a connection exception
    (class 08) or a shutdown (not a cancelled statement, which leaves the connection sound)."""
    return code is not None and (code.startswith("08") or code in _OUTAGE_SQLSTATES)


def is_database_outage(exc: BaseException) -> bool:
    """True for errors that mean the database could not be reached, not that the query was wrong."""
    if isinstance(exc, sa_exc.DBAPIError):
        if exc.connection_invalidated:
            return True
        if isinstance(exc, sa_exc.InterfaceError):
            return True
        if closes_connection(sqlstate(exc)):
            return True
        orig = exc.orig
        return isinstance(orig, (OSError, TimeoutError)) or isinstance(exc, sa_exc.OperationalError)
    return isinstance(exc, (ConnectionError, TimeoutError))


def install_error_handlers(app: FastAPI) -> None:
    async def app_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, AppError)
        return problem_response(
            exc.code,
            exc.detail,
            headers=exc.headers,
            errors=exc.errors,
        )

    async def validation_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        malformed = _malformed_json(exc)
        if malformed is not None:
            return problem_response("malformed_json", errors=[malformed])
        errors = _validation_errors(exc)
        return problem_response(
            "validation_failed",
            f"{len(exc.errors())} field(s) failed validation; see errors.",
            errors=errors,
        )

    async def http_error(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = _HTTP_STATUS_CODES.get(exc.status_code, "bad_request")
        headers = dict(exc.headers or {})
        # Never the path or the method: an error body does not echo what the request sent.
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code not in (404, 405) else None
        if exc.status_code == 404:
            detail = "There is no route or resource at this address."
        elif exc.status_code == 405:
            detail = "This method is not supported here; see the Allow header."
        return problem_response(code, detail, status=exc.status_code, headers=headers)

    async def stale_data(request: Request, exc: Exception) -> JSONResponse:
        # Two updates raced on the same version: the loser's If-Match is now stale.
        return problem_response("precondition_failed")

    async def integrity_error(request: Request, exc: Exception) -> JSONResponse:
        logger.warning("integrity error", extra={"error_type": type(exc).__name__})
        return problem_response("conflict")

    async def database_error(request: Request, exc: Exception) -> JSONResponse:
        retry = {"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)}
        if is_database_busy(exc):
            # Overloaded, not unreachable: say so, so that operators look at capacity.
            logger.warning(
                "database busy", extra={"error_type": type(exc).__name__, "sqlstate": sqlstate(exc)}
            )
            return problem_response("service_busy", headers=retry)
        if not is_database_outage(exc):
            raise exc  # a genuine bug: let the 500 path log and answer it
        logger.error(
            "database unavailable", extra={"error_type": type(exc).__name__, "sqlstate": sqlstate(exc)}
        )
        return problem_response("database_unavailable", headers=retry)

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(StaleDataError, stale_data)
    app.add_exception_handler(sa_exc.IntegrityError, integrity_error)
    app.add_exception_handler(sa_exc.DBAPIError, database_error)
    app.add_exception_handler(sa_exc.TimeoutError, database_error)
    app.add_exception_handler(ConnectionError, database_error)
    app.add_exception_handler(TimeoutError, database_error)

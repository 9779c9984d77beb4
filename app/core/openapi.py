"""OpenAPI documentation helpers: the problem responses of each route, and the document itself."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.core.errors import PROBLEM_MEDIA_TYPE
from app.core.openapi_limits import document_limits
from app.core.problems import PROBLEM_TYPES, codes_for_status
from app.core.schemas import Problem

# Errors any route can return: an unexpected failure, or the database being unreachable.
ALWAYS = (500, 503)
# Errors of every route that takes a bearer token.
AUTHENTICATED = (401, 403)
# Errors of every route with a JSON body.
WITH_BODY = (413, 415, 422)

# The problem codes an idempotent create adds to 409 and 422.
CREATE_CODES: dict[int, list[str]] = {
    409: ["idempotency_key_in_progress"],
    422: ["validation_failed", "idempotency_key_reused"],
}
CREATED_HEADERS: dict[int | str, Any] = {
    201: {
        "headers": {
            "Location": {
                "description": "The URL of the new record.",
                "schema": {"type": "string", "format": "uri-reference", "maxLength": 2048},
            }
        }
    }
}
ETAG_HEADERS: dict[int | str, Any] = {
    200: {
        "headers": {
            "ETag": {
                "description": "Send it back in If-Match to update the record.",
                "schema": {"type": "string", "pattern": '^"[0-9]+"$', "maxLength": 22},
            }
        }
    }
}

_DESCRIPTIONS = {
    400: "The request could not be read.",
    401: "Missing, invalid, expired or revoked access token.",
    403: "The token lacks a scope this operation requires.",
    404: "Not found, or not visible to the caller's agency.",
    405: "Method not allowed on this resource.",
    406: "No representation the Accept header allows.",
    409: "Conflict with the record's current state.",
    412: "If-Match does not match the current ETag.",
    413: "Request body too large.",
    415: "Request body is not JSON.",
    422: "Invalid input.",
    428: "If-Match header missing.",
    429: "Rate limit exceeded.",
    500: "Unexpected failure; the body carries only a request id.",
    503: "Database unreachable, or every connection busy; nothing was changed, retry later.",
}


def _example(code: str) -> dict[str, Any]:
    problem = PROBLEM_TYPES[code]
    body: dict[str, Any] = {
        "type": f"http://127.0.0.1:8000/problems/{code}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.description,
        "code": code,
        "request_id": "5f0c6d2a9b8e4c1d8f7a6b5c4d3e2f10",
    }
    if code == "validation_failed":
        body["errors"] = [{"loc": ["body", "agency"], "msg": "Input should be 'police', 'health', ..."}]
    return body


def problem_responses(*statuses: int, codes: dict[int, list[str]] | None = None) -> dict[int | str, Any]:
    """``responses=`` for a route: each status documented with the problem schema and examples.

    ``codes`` narrows which problem codes a status can carry on this route (default: all of them).
    """
    responses: dict[int | str, Any] = {}
    for status in sorted(set(statuses)):
        status_codes = (codes or {}).get(status) or codes_for_status(status)
        responses[status] = {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "examples": {
                        c: {"summary": PROBLEM_TYPES[c].title, "value": _example(c)} for c in status_codes
                    },
                }
            },
        }
    return responses


DESCRIPTION = """
The API of the Multi-Agency Safeguarding Hub: referrals about children, concerns about adults at
risk, the information agencies share about them and the decisions taken, with an audit trail of
every read and write.

**Authentication.** OAuth 2.0 client credentials: POST `/oauth/token` with `client_id` and
`client_secret`, then send `Authorization: Bearer <token>`. Each operation lists the scopes it needs.

**Errors** are RFC 9457 problem details (`application/problem+json`) with a stable `code`;
validation errors list each field in `errors`. GET the `type` URI for an explanation of a code.

**Idempotency.** Every POST that creates a record accepts an `Idempotency-Key` header. A retry with
the same key, client and body returns the original response with `Idempotent-Replayed: true`; the
same key with a different body is refused (422); the same key while the first request is still
running gets 409. Keys are kept for {idempotency_hours} hours.

**Concurrency.** Single-record GETs return an `ETag`; PATCH requires it in `If-Match`
(missing: 428, stale: 412).

**Lists** are keyset-paginated: `limit` (default 50, at most 200) and `cursor`; the body is
`{{"items": [...], "next_cursor": ...}}` and a `Link: <...>; rel="next"` header points to the next page.

**Limits.** Request bodies over 1 MiB are refused (413); unknown fields in request bodies are refused (422).
Each client (its token's `sub`, or its address before it has a token) may make a limited number of
requests per window: responses carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
(seconds), and a request over the limit gets 429 with `Retry-After` (seconds). Strings, lists and numbers
carry their bounds in the schemas below (`maxLength`, `maxItems`, `minimum`/`maximum`); longer is 422.
"""


# Relative: the server the document was fetched from. Production serves HTTPS only (TLS at the load
# balancer); `make run` serves plain HTTP on 127.0.0.1 for local development.
SERVER = {
    "url": "/",
    "description": "This deployment (production over HTTPS; local development on http://127.0.0.1:8000)",
    # For partner agencies' systems and hub staff, not a public API.
    "x-internal": True,
}


def _problem_content(status: int) -> dict[str, Any]:
    """A problem response as it appears in the document (``problem_responses`` is for routes)."""
    response = problem_responses(status)[status]
    return {"description": response["description"], "content": response["content"]}


def build_openapi(app: FastAPI, idempotency_hours: int) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=DESCRIPTION.format(idempotency_hours=idempotency_hours).strip(),
        routes=app.routes,
        tags=app.openapi_tags,
        servers=[SERVER],
    )
    schema["info"]["contact"] = {"name": "MASH service team"}
    schema["info"]["license"] = {"name": "Proprietary"}
    _replace_default_validation_errors(schema)
    document_limits(schema, too_many_requests=_problem_content(429))
    return schema


def _replace_default_validation_errors(schema: dict[str, Any]) -> None:
    """FastAPI documents a 422 of its own shape on every operation with parameters; ours is a problem."""
    problem_422 = problem_responses(422)[422]
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            response = operation.get("responses", {}).get("422")
            if response and "application/json" in response.get("content", {}):
                operation["responses"]["422"] = {
                    "description": problem_422["description"],
                    "content": problem_422["content"],
                }
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)

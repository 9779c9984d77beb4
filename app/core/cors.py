"""Browsers on other origins (CORS): exactly the origins in ``MASH_CORS_ALLOW_ORIGINS``, none by default.

A front end served from another origin calls the API with a bearer token, so no credentials mode
(cookies) is ever allowed. Preflights are answered for the methods and request headers the API reads;
the response headers a client acts on are exposed. With the list empty nothing is installed and a
browser refuses every cross-origin answer, as it does for any server that says nothing.

The OpenAPI document shows ``Access-Control-Allow-Origin`` on every response (``document_cors``).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp

from app.core.errors import problem_response

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH")
# Content-Type is listed because application/json is not one of the CORS-safelisted types.
ALLOWED_HEADERS = ("Authorization", "Content-Type", "Idempotency-Key", "If-Match", "X-Request-ID")
# Every response header a client may act on that a browser would otherwise hide from its script.
EXPOSED_HEADERS = (
    "ETag",
    "Location",
    "Link",
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Idempotent-Replayed",
    "WWW-Authenticate",
    "X-Request-ID",
    "Content-Disposition",
)
PREFLIGHT_MAX_AGE_SECONDS = 600
ALLOW_ORIGIN = "Access-Control-Allow-Origin"


class Cors(CORSMiddleware):
    """Starlette's CORS middleware with this API's policy; a refused preflight is a problem, not text."""

    def __init__(self, app: ASGIApp, allow_origins: list[str]) -> None:
        super().__init__(
            app,
            allow_origins=allow_origins,
            allow_methods=ALLOWED_METHODS,
            allow_headers=ALLOWED_HEADERS,
            expose_headers=EXPOSED_HEADERS,
            allow_credentials=False,
            max_age=PREFLIGHT_MAX_AGE_SECONDS,
        )

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        # Never the origin or the headers asked for: an error body does not echo the request.
        refused = problem_response(
            "bad_request",
            "CORS preflight refused: this origin, method or request header is not allowed. Allowed "
            f"methods: {', '.join(ALLOWED_METHODS)}; request headers: {', '.join(ALLOWED_HEADERS)}.",
        )
        refused.headers["Vary"] = response.headers.get("Vary", "Origin")
        return refused


_ALLOW_ORIGIN_HEADER: dict[str, Any] = {
    "description": (
        "Sent to a browser page whose origin is in the deployment's MASH_CORS_ALLOW_ORIGINS (none by "
        "default): that origin. No credentials mode (bearer tokens only). Exposed to the page: "
        + ", ".join(f"`{name}`" for name in EXPOSED_HEADERS)
        + "."
    ),
    "schema": {"type": "string", "format": "uri", "maxLength": 2048, "examples": ["https://hub.example.org"]},
}


def document_cors(schema: dict[str, Any]) -> None:
    """Add ``Access-Control-Allow-Origin`` (a header component, referenced) to every response."""
    components = schema.setdefault("components", {})
    components.setdefault("headers", {})[ALLOW_ORIGIN] = _ALLOW_ORIGIN_HEADER
    reference = {"$ref": f"#/components/headers/{ALLOW_ORIGIN}"}
    responses = [
        response
        for item in schema.get("paths", {}).values()
        for operation in item.values()
        if isinstance(operation, dict)
        for response in operation.get("responses", {}).values()
    ]
    responses += components.get("responses", {}).values()
    for response in responses:
        if "$ref" not in response:  # a shared response gets it once, where it is defined
            response.setdefault("headers", {})[ALLOW_ORIGIN] = reference

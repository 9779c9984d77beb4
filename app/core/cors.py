"""Browsers on other origins (CORS): exactly the origins in ``MASH_CORS_ALLOW_ORIGINS``, none by default.

A front end served from another origin calls the API with a bearer token, so no credentials mode
(cookies) is ever allowed. Preflights are answered for the methods and request headers the API reads;
the response headers a client acts on are exposed. With the list empty nothing is installed and a
browser refuses every cross-origin answer, as it does for any server that says nothing.

The public's front door (``/public/``) has an allow-list of its own, ``MASH_PUBLIC_CORS_ALLOW_ORIGINS``
(the council's online form): those origins may POST there, and only there, with no token and nothing
but ``Content-Type``, ``Idempotency-Key`` and ``X-Request-ID``; ``MASH_CORS_ALLOW_ORIGINS`` does not
reach the public's door, nor the form's origin the rest of the API (``CorsByPath``).

The OpenAPI document shows ``Access-Control-Allow-Origin`` on every response (``document_cors``).
"""

from __future__ import annotations

from typing import Any

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

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
# The public's front door: a form posts JSON, perhaps with an Idempotency-Key; there is no token.
PUBLIC_PREFIX = "/public/"
PUBLIC_METHODS = ("POST",)
PUBLIC_HEADERS = ("Content-Type", "Idempotency-Key", "X-Request-ID")
PUBLIC_EXPOSED_HEADERS = (
    "Retry-After",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "Idempotent-Replayed",
    "X-Request-ID",
)
ALLOW_ORIGIN = "Access-Control-Allow-Origin"


class Cors(CORSMiddleware):
    """Starlette's CORS middleware with this API's policy; a refused preflight is a problem, not text."""

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: list[str],
        *,
        methods: tuple[str, ...] = ALLOWED_METHODS,
        headers: tuple[str, ...] = ALLOWED_HEADERS,
        exposed: tuple[str, ...] = EXPOSED_HEADERS,
    ) -> None:
        super().__init__(
            app,
            allow_origins=allow_origins,
            allow_methods=methods,
            allow_headers=headers,
            expose_headers=exposed,
            allow_credentials=False,
            max_age=PREFLIGHT_MAX_AGE_SECONDS,
        )
        self.methods = methods
        self.headers = headers

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code < 400:
            return response
        # Never the origin or the headers asked for: an error body does not echo the request.
        refused = problem_response(
            "bad_request",
            "CORS preflight refused: this origin, method or request header is not allowed. Allowed "
            f"methods: {', '.join(self.methods)}; request headers: {', '.join(self.headers)}.",
        )
        refused.headers["Vary"] = response.headers.get("Vary", "Origin")
        return refused


class CorsByPath:
    """The API's CORS policy on its paths, the public front door's on ``/public/``: each its own
    allow-list, either empty (then nothing is installed there and browsers refuse other origins)."""

    def __init__(self, app: ASGIApp, api_origins: list[str], public_origins: list[str]) -> None:
        self.app = app
        self.api: ASGIApp = Cors(app, api_origins) if api_origins else app
        self.public: ASGIApp = (
            Cors(
                app,
                public_origins,
                methods=PUBLIC_METHODS,
                headers=PUBLIC_HEADERS,
                exposed=PUBLIC_EXPOSED_HEADERS,
            )
            if public_origins
            else app
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        door = self.public if scope["path"].startswith(PUBLIC_PREFIX) else self.api
        await door(scope, receive, send)


_ALLOW_ORIGIN_HEADER: dict[str, Any] = {
    "description": (
        "Sent to a browser page whose origin is in the deployment's MASH_CORS_ALLOW_ORIGINS (none by "
        "default), or on `/public/` paths in MASH_PUBLIC_CORS_ALLOW_ORIGINS (the council's online form): "
        "that origin. No credentials mode (bearer tokens only). Exposed to the page: "
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

"""The route class every API router uses: one transaction per request, committed before responding.

FastAPI runs the exit code of ``yield`` dependencies after the response has started, when a failed
commit could no longer change the status a client sees. So the transaction is owned here instead:
the handler runs, and only if it produced a success response is the session committed (with its
audit entries and idempotency record); a failure to commit becomes the error response. Any error
rolls everything back: there are no partial writes.

**Dependencies visible in signatures.** What a route needs reaches it as a dependency it names:
``DbSession``, ``requires(...)`` (which depends on ``authenticate``, which depends on the session),
``idempotent(requires(...), redact=...)``, ``Clock``. A dependency cannot carry something to code that
runs outside the dependency graph: the rate limit middleware before the route (the token it verified),
this wrapper after the handler (the session to commit, the Idempotency-Key claimed), the access log
after the response (the caller), the database at each BEGIN (the caller, for row-level security). Those
hand-offs, and only those, travel in one typed ``app.core.context.RequestContext`` per request, kept
under one key of the request's state; nothing else is put in ``request.state``.
"""

from __future__ import annotations

import email.message
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response, params
from fastapi.routing import APIRoute

from app.core import db
from app.core.context import RequestContext
from app.core.errors import AppError, NotFound
from app.core.idempotency import IdempotentReplay, store_response
from app.core.not_found import audit_not_found

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class TransactionalRoute(APIRoute):
    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        expects_json = self.body_field is not None and not _is_form(self)

        async def run(request: Request) -> Response:
            if expects_json:
                _require_json(request)
            context = RequestContext.of(request)
            try:
                try:
                    response = await handler(request)
                except IdempotentReplay as replay:
                    response = replay.response
                session = context.session
                if session is not None:
                    if response.status_code < 400:
                        if context.idempotency is not None:
                            ttl = request.app.state.settings.idempotency_ttl_hours
                            await store_response(session, context.idempotency, response, ttl)
                        await db.commit(session)
                    else:
                        await db.rollback(session)
                return response
            except BaseException as exc:
                if context.session is not None:
                    await db.rollback(context.session)
                if isinstance(exc, NotFound):
                    await audit_not_found(request, exc)  # in a transaction of its own
                raise
            finally:
                session, context.session = context.session, None
                if session is not None:
                    await session.close()

        return run


def _is_form(route: APIRoute) -> bool:
    return route.body_field is not None and isinstance(route.body_field.field_info, params.Form)


def _require_json(request: Request) -> None:
    # Only when a body is present: an empty body is left to validation ("field required").
    if request.headers.get("content-length") in (None, "0") and "transfer-encoding" not in request.headers:
        return
    content_type = request.headers.get("content-type")
    if content_type is None:
        raise AppError(code="unsupported_media_type")
    message = email.message.Message()
    message["content-type"] = content_type
    subtype = message.get_content_subtype()
    if message.get_content_maintype() != "application" or not (
        subtype == "json" or subtype.endswith("+json")
    ):
        raise AppError(code="unsupported_media_type")

"""The project's router: every operation runs in one transaction, committed before responding.

**Committing is not opt-in.** Every router of the application is a ``Router``, whose routes are
``TransactionalRoute``s; its route class cannot be set to anything else (``tests/core/test_routes.py``
walks every route of the app and fails on one that is not transactional, or that neither depends on
``app.core.auth.authenticate`` nor is declared public with ``dependencies=[PUBLIC]``).

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

from fastapi import APIRouter, Request, Response, params
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


class Router(APIRouter):
    """The application's ``APIRouter``: its routes are ``TransactionalRoute``s (or a subclass); any
    other route class, passed or assigned, is refused."""

    def __init__(self, *, route_class: type[APIRoute] = TransactionalRoute, **kwargs: Any) -> None:
        super().__init__(route_class=route_class, **kwargs)

    @property
    def route_class(self) -> type[APIRoute]:
        return self._route_class

    @route_class.setter
    def route_class(self, value: type[APIRoute]) -> None:
        _check_transactional(value)
        self._route_class = value

    def add_api_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        route_class_override: type[APIRoute] | None = None,
        **kwargs: Any,
    ) -> None:
        if route_class_override is not None:
            _check_transactional(route_class_override)
        super().add_api_route(path, endpoint, route_class_override=route_class_override, **kwargs)


def _check_transactional(route_class: type[APIRoute]) -> None:
    if not issubclass(route_class, TransactionalRoute):
        raise TypeError(f"{route_class.__name__} does not commit: a Router's routes are TransactionalRoutes")


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

"""The project's router: every operation runs in one transaction, and is documented by what it takes.

**Committing is not opt-in.** Every router of the application is a ``Router``, whose routes are
``TransactionalRoute``s; its route class cannot be set to anything else (``tests/core/test_routes.py``
walks every route of the app and fails on one that is not transactional, or that neither depends on
``app.core.auth.authenticate`` nor is declared public with ``dependencies=[PUBLIC]``).

FastAPI runs the exit code of ``yield`` dependencies after the response has started, when a failed
commit could no longer change the status a client sees. So the transaction is owned here instead:
the handler runs, and only if it produced a success response is the session committed (with its
audit entries and idempotency record); a failure to commit becomes the error response. Any error
rolls everything back: there are no partial writes.

**Documentation inferred, not repeated.** What a route gives because of what it takes is added to its
``responses`` here (``app.core.openapi.route_responses``): 500 always; 503 when it uses the database;
401/403 when it authenticates; 400/408/413/415/422 when it takes a JSON body; 422 for its parameters;
the idempotency codes of 409/422 when it takes an ``Idempotency-Key``; 412/428 when it takes
``If-Match``; 404 when its path names a record; a create's ``Location`` header; the ``ETag`` of a route
answering a versioned record; the ``Link`` of a list (it takes ``Paging``); ``Retry-After`` where a
problem code sends it. A route lists only what is its own: its state machine's 409, a 403 rule of its
own. A public route (no token; the token endpoint's OAuth errors and the operations pages have
shapes of their own) gets 500 and 503 only and lists the rest.

**Query strings as declared.** A route takes the query parameters its dependency tree declares, and
no others: an unknown name (a typo such as ``?stauts=``, silently ignored, would answer a list that
looks filtered and is not) or a single-valued one sent twice (``?limit=1&limit=2``) is a 422 naming it.
A list-typed parameter (``rag: list[Rag]``) takes repeats. The wrapper checks this before the handler
runs (``check_query``), so it answers before the token is looked at, as the 415 of a body that is not JSON.

**Dependencies visible in signatures.** What a route needs reaches it as a dependency it names:
``DbSession``, ``requires(...)`` (which depends on ``authenticate``),
``idempotent(requires(...), redact=...)``, ``Clock``. A dependency cannot carry something to code that
runs outside the dependency graph: the rate limit middleware before the route (the token it verified),
this wrapper after the handler (the session to commit, the Idempotency-Key claimed), the access log
after the response (the caller), the database at each BEGIN (the caller, for row-level security). Those
hand-offs, and only those, travel in one typed ``app.core.context.RequestContext`` per request, kept
under one key of the request's state; nothing else is put in ``request.state``.

**Named by their handler.** An operation's ``operationId`` is its handler's name in camelCase
(``create_referral`` -> ``createReferral``): the name a generated client gives the call. So a handler is
named for what a client does with it, and two handlers are never named alike (``tests/test_openapi.py``).

**One handler, several records.** Where operations differ only by the record they are about (its path
parameter's name, the dependency that authorises it, a value passed on), one template is written and
``handler`` makes each operation's handler of it: named for the operation, declaring what FastAPI reads.
"""

from __future__ import annotations

import email.message
import inspect
import types
import typing
import uuid
from collections import abc
from collections.abc import Awaitable, Callable, Coroutine
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Request, Response, params
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.routing import APIRoute
from fastapi.utils import create_model_field
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession
from starlette._utils import get_route_path  # as FastAPI and Starlette match routes: without the root path
from starlette.routing import Match
from starlette.types import Scope

from app.core import db
from app.core.allocation import AllocationIn, AllocationOut, allocation_of
from app.core.auth import Principal, authenticate, client_confirmed, confirm_client, public, refuse_if_revoked
from app.core.concurrency import IF_MATCH, Versioned, versioned_answer
from app.core.context import RequestContext
from app.core.creation import Created, creation
from app.core.errors import AppError, NotFound
from app.core.idempotency import HEADER as IDEMPOTENCY_KEY
from app.core.idempotency import IdempotentReplay, store_response
from app.core.not_found import audit_not_found
from app.core.openapi import RouteFacts, route_responses
from app.core.pagination import pager
from app.core.schemas import MAX_FIELD_ERRORS, MAX_LOC_NAME
from app.core.scopes import AgencyCode
from app.models.base import Allocated

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
Endpoint = Callable[..., Coroutine[Any, Any, Any]]  # an operation's handler, as FastAPI calls it
# What the record-route templates call, typed so that mypy checks each service function handed to them.
Record = TypeVar("Record")
View = TypeVar("View")
Body = TypeVar("Body", bound=BaseModel)


def operation_id(route: APIRoute) -> str:
    """A route's ``operationId``: its handler's name in camelCase (``get_referral`` -> ``getReferral``)."""
    first, *rest = route.name.split("_")
    return first + "".join(word[:1].upper() + word[1:] for word in rest)


class TransactionalRoute(APIRoute):
    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        if kwargs.get("status_code") is None and creation in _calls(get_dependant(path=path, call=endpoint)):
            kwargs["status_code"] = 201  # a create says so by taking ``Created``, and only there
        super().__init__(path, endpoint, **kwargs)
        facts = route_facts(self)
        if facts.creates != (self.status_code == 201):
            # The Location documented on every 201 is the one ``Created`` sends: neither goes alone.
            raise TypeError(
                f"{self.name}: a route answers 201 exactly when it takes app.core.creation.Created"
            )
        self.responses = route_responses(self.responses, facts)
        for status, response in self.responses.items():
            model = response.get("model")
            if model is not None and status not in self.response_fields:
                self.response_fields[status] = create_model_field(
                    name=f"Response_{status}_{self.unique_id}", type_=model, mode="serialization"
                )

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()
        expects_json = self.body_field is not None and not _is_form(self)
        names = query_names(self.dependant)

        async def run(request: Request) -> Response:
            if expects_json:
                _require_json(request)
            check_query(request, names)
            context = RequestContext.of(request)
            try:
                try:
                    response = await handler(request)
                except IdempotentReplay as replay:
                    response = replay.response
                if response.status_code < 400:
                    await confirm_client(request)  # before anything is kept or answered
                    session = context.session
                    if session is not None:
                        if context.idempotency is not None:
                            ttl = request.app.state.settings.idempotency_ttl_hours
                            await store_response(session, context.idempotency, response, ttl)
                        await db.commit(session)
                else:
                    if context.session is not None:
                        await db.rollback(context.session)
                    await confirm_client(request)
                return response
            except BaseException as exc:
                # A revoked client is told so whatever else went wrong (its request may have been
                # refused before any statement checked it); asked before the rollback forgets.
                confirmed = not isinstance(exc, Exception) or await client_confirmed(request)
                if context.session is not None:
                    await db.rollback(context.session)
                if not confirmed:
                    refuse_if_revoked(request, exc)
                    await confirm_client(request)
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
        kwargs.setdefault("generate_unique_id_function", operation_id)
        super().__init__(route_class=route_class, **kwargs)
        self._heads: tuple[int, tuple[str, ...]] = (-1, ())

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        # The application tries its included routers in turn, and each tries every route it has
        # (with FastAPI's bookkeeping around each): a request for the tenth router's routes paid
        # for about sixty. A path that begins with none of this router's fixed beginnings is none
        # of its routes', and is told so by one ``startswith``.
        if not get_route_path(scope).startswith(self._fixed_beginnings()):
            return Match.NONE, {}
        return super().matches(scope)

    def _fixed_beginnings(self) -> tuple[str, ...]:
        # Each route's path up to its first parameter ("" for a route of another kind: any path).
        # Routes are only ever added, so their number says whether these are still right.
        counted, beginnings = self._heads
        if counted != len(self.routes):
            beginnings = tuple(
                {r.path.split("{", 1)[0] if isinstance(r, APIRoute) else "" for r in self.routes}
            )
            self._heads = (len(self.routes), beginnings)
        return beginnings

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


def handler(
    template: Endpoint,
    name: str,
    *,
    renamed: dict[str, str] | None = None,
    typed: dict[str, Any] | None = None,
    bound: dict[str, Any] | None = None,
    returns: Any = None,
) -> Endpoint:
    """An operation's handler made of ``template``: named ``name`` (its ``operationId``), with the
    template's parameters ``renamed`` (a path parameter named for its record), ``typed`` anew (the
    dependency that authorises this operation) and ``bound`` to values of its own (not declared: FastAPI
    never sees them). The template's documentation stands, and its return type unless ``returns``."""
    renamed, typed, bound = renamed or {}, typed or {}, bound or {}
    hints = typing.get_type_hints(template, include_extras=True)
    declared = [p for p in inspect.signature(template).parameters.values() if p.name not in bound]
    names = {renamed.get(p.name, p.name): p.name for p in declared}

    async def run(**values: Any) -> Any:
        return await template(**{names[given]: value for given, value in values.items()}, **bound)

    run.__name__ = run.__qualname__ = name
    run.__module__, run.__doc__ = template.__module__, template.__doc__
    run.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            p.replace(name=renamed.get(p.name, p.name), annotation=typed.get(p.name, hints[p.name]))
            for p in declared
        ],
        return_annotation=returns or hints.get("return", inspect.Signature.empty),
    )
    return run


def _on_record(
    template: Endpoint,
    name: str,
    parameter: str,
    principal: Any,
    returns: Any,
    **bound: Any,
) -> Endpoint:
    """``template``'s handler for an operation on the record the path parameter ``parameter`` names (the
    template's ``record_id``), authorised by ``principal`` (the template's ``principal``); ``body`` among
    ``bound``, if there, is the type of the template's ``body``."""
    renamed, typed = {"record_id": parameter}, {"principal": principal}
    if "body" in bound:  # the template's body, typed as the operation takes it
        typed["body"] = bound.pop("body")
    return handler(template, name, renamed=renamed, typed=typed, bound=bound, returns=returns)


async def _answered_by_service(
    record_id: uuid.UUID, principal: Any, session: db.DbSession, *, call: Any
) -> Any:
    return await call(session, principal, record_id)


def answered_by_service(
    call: Callable[[AsyncSession, Principal, uuid.UUID], Awaitable[Any]],
    name: str,
    *,
    parameter: str,
    principal: Any,
) -> Endpoint:
    """The handler of an operation on one record (the path parameter ``parameter``) that the service
    answers as it is: ``call(session, principal, id)``, returning what ``call`` says it returns."""
    return _on_record(
        _answered_by_service, name, parameter, principal, typing.get_type_hints(call)["return"], call=call
    )


async def _viewed_by_service(
    record_id: uuid.UUID, answer: Versioned, principal: Any, session: db.DbSession, *, read: Any, render: Any
) -> Any:
    record, view = await read(session, principal, record_id)
    return answer.tagged(record.version, await render(session, record, view, principal.agency))


def viewed_by_service(
    read: Callable[[AsyncSession, Principal, uuid.UUID], Awaitable[tuple[Record, View]]],
    render: Callable[[AsyncSession, Record, View, AgencyCode], Awaitable[Any]],
    name: str,
    *,
    parameter: str,
    principal: Any,
    returns: Any,
) -> Endpoint:
    """The handler that gets one record (the path parameter ``parameter``) as the caller may see it: the
    service reads it, deciding the caller's view and auditing the read (``read(session, principal, id)``
    answers the record and the view); ``render(session, record, view, agency)`` renders that view,
    answered (``returns``) with the record's ETag."""
    return _on_record(_viewed_by_service, name, parameter, principal, returns, read=read, render=render)


async def _allocated_by_service(
    record_id: uuid.UUID,
    answer: Versioned,
    principal: Any,
    session: db.DbSession,
    body: AllocationIn,
    *,
    allocate: Any,
) -> AllocationOut:
    record = await allocate(session, principal, record_id, body)
    return answer.tagged(record.version, allocation_of(record))


def allocated_by_service(
    allocate: Callable[[AsyncSession, Principal, uuid.UUID, AllocationIn], Awaitable[Allocated]],
    name: str,
    *,
    parameter: str,
    principal: Any,
) -> Endpoint:
    """The handler that allocates one versioned record (the path parameter ``parameter``): the service
    allocates it (``allocate(session, principal, id, body)`` answers the record), and the answer is its
    allocation, with the record's new ETag."""
    return _on_record(_allocated_by_service, name, parameter, principal, None, allocate=allocate)


async def _added_by_service(
    record_id: uuid.UUID,
    created: Created,
    principal: Any,
    session: db.DbSession,
    body: Any,
    *,
    add: Any,
    out: type[BaseModel],
    records: str,
) -> Any:
    added = await add(session, principal, record_id, body)
    return created.at(f"{records}/{record_id}", out.model_validate(added))


def added_by_service(
    add: Callable[[AsyncSession, Principal, uuid.UUID, Body], Awaitable[Any]],
    name: str,
    *,
    parameter: str,
    principal: Any,
    body: type[Body],
    out: type[BaseModel],
    records: str,
) -> Endpoint:
    """The handler that adds ``body`` to one record (the path parameter ``parameter``): the service adds
    it (``add(session, principal, id, body)`` answers what it added), and the answer is that, as ``out``,
    created at the record's address (``records``/id)."""
    return _on_record(
        _added_by_service, name, parameter, principal, out, body=body, add=add, out=out, records=records
    )


def _check_transactional(route_class: type[APIRoute]) -> None:
    if not issubclass(route_class, TransactionalRoute):
        raise TypeError(f"{route_class.__name__} does not commit: a Router's routes are TransactionalRoutes")


def route_facts(route: APIRoute) -> RouteFacts:
    """What ``route`` takes, read from its dependency tree."""
    calls: set[Any] = set()
    headers: set[str] = set()
    parameters = False
    record_path = False
    pending: list[Dependant] = [route.dependant]
    while pending:
        dependant = pending.pop()
        calls.add(dependant.call)
        headers.update(field.alias for field in dependant.header_params)
        parameters = parameters or bool(
            dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
        )
        record_path = record_path or bool(dependant.path_params)
        pending.extend(dependant.dependencies)
    body = route.body_field is not None
    return RouteFacts(
        public=public in calls,
        authenticates=authenticate in calls,
        # Authentication checks the caller's client in the database, with or without a session.
        uses_database=db.get_session in calls or authenticate in calls,
        parameters=parameters,
        record_path=record_path,
        body=body,
        json_body=body and not _is_form(route),
        idempotent=IDEMPOTENCY_KEY in headers,
        conditional=IF_MATCH in headers,
        versioned=versioned_answer in calls,
        creates=creation in calls,
        paged=pager in calls,
    )


class QueryNames(typing.NamedTuple):
    single: frozenset[str]  # may be sent once
    multiple: frozenset[str]  # list-typed: may be repeated


def query_names(dependant: Dependant) -> QueryNames:
    """The query parameters ``dependant``'s tree declares (by the name a client sends), single-valued
    and multi-valued. A parameter model (``Annotated[Filters, Query()]``) declares its fields."""
    single: set[str] = set()
    multiple: set[str] = set()
    pending = [dependant]
    while pending:
        dependant = pending.pop()
        pending.extend(dependant.dependencies)
        for field in dependant.query_params:
            annotation = _unwrapped(field.field_info.annotation)
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                for name, info in annotation.model_fields.items():
                    many = _is_sequence(info.annotation)
                    (multiple if many else single).add(info.alias or name)
            else:
                (multiple if _is_sequence(annotation) else single).add(field.alias)
    return QueryNames(frozenset(single), frozenset(multiple))


def _unwrapped(annotation: Any) -> Any:
    """``annotation`` without ``Annotated[...]`` and without ``| None``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [arg for arg in typing.get_args(annotation) if arg is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation


def _is_sequence(annotation: Any) -> bool:
    origin = typing.get_origin(_unwrapped(annotation))
    return origin in (list, set, frozenset, tuple, abc.Sequence, abc.Set)


def check_query(request: Request, names: QueryNames) -> None:
    """Refuse a query parameter the route does not declare, or a single-valued one sent more than once
    (422, each named in ``errors``; the values are never echoed)."""
    errors: list[dict[str, Any]] = []
    seen: set[str] = set()
    for name, _ in request.query_params.multi_items():
        if name in names.multiple or name in seen:
            continue
        seen.add(name)
        if name not in names.single:
            errors.append(
                {"loc": ["query", name[:MAX_LOC_NAME]], "msg": "is not a parameter of this operation"}
            )
        elif len(request.query_params.getlist(name)) > 1:
            errors.append({"loc": ["query", name[:MAX_LOC_NAME]], "msg": "takes one value: send it once"})
    if errors:
        raise AppError(
            f"{len(errors)} query parameter(s) refused; see errors.",
            code="validation_failed",
            errors=errors[:MAX_FIELD_ERRORS],
        )


def _calls(dependant: Dependant) -> set[Any]:
    calls: set[Any] = set()
    pending = [dependant]
    while pending:
        dependant = pending.pop()
        calls.add(dependant.call)
        pending.extend(dependant.dependencies)
    return calls


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

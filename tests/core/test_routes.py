"""Every route of the application commits its work and says who may call it, found from the route table.

A route whose router forgot the transactional route class answers 201 and saves nothing; a route
that forgot its token dependency serves anyone. Both are found here without being named: the walk
covers every route the application serves, including those added later.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Iterator
from typing import Annotated, Any

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel

from app.core.auth import PUBLIC, Principal, authenticate, public, requires
from app.core.concurrency import IfMatch, Versioned
from app.core.config import Settings
from app.core.creation import Created
from app.core.db import DbSession
from app.core.docs import ASSETS_URL
from app.core.idempotency import idempotent
from app.core.openapi import build_openapi, problem_responses
from app.core.routing import Router, TransactionalRoute
from app.core.scopes import Scope
from app.main import create_app

# The operations anyone may call without a token. Adding one is a decision: it is made here as well as
# on the route (``dependencies=[PUBLIC]``).
PUBLIC_OPERATIONS = {
    "GET /healthz",
    "GET /readyz",
    "GET /metrics",
    "GET /problems",
    "GET /problems/{code}",
    "POST /oauth/token",
    # The public's front door: members of the public raise concerns through the council's form.
    "POST /public/v1/adult-concerns",
    "POST /public/v1/child-concerns",
}


def _application() -> FastAPI:
    return create_app(Settings.model_construct(database_url="sqlite+aiosqlite:///:memory:"))


def _calls(dependant: Dependant) -> Iterator[Any]:
    yield dependant.call
    for dependency in dependant.dependencies:
        yield from _calls(dependency)


def _is_coroutine(call: Any) -> bool:
    return inspect.iscoroutinefunction(call) or inspect.iscoroutinefunction(type(call).__call__)


def _docs_paths(app: FastAPI) -> set[str | None]:
    """The document and its viewers (``app.core.docs``) with their assets: public, and no database."""
    return {
        app.openapi_url,
        app.docs_url,
        app.swagger_ui_oauth2_redirect_url,
        app.redoc_url,
        f"{ASSETS_URL}/{{path}}",
    }


def route_problems(app: FastAPI) -> tuple[list[str], set[str]]:
    """What is wrong with the app's routes (each route named), and the operations declared public."""
    problems: list[str] = []
    declared_public: set[str] = set()
    for context in iter_route_contexts(app.routes):
        methods = sorted(context.methods or ())
        name = f"{'/'.join(methods)} {context.path_format}"
        if not isinstance(context.original_route, APIRoute):
            if context.path_format not in _docs_paths(app):
                problems.append(f"{name}: not an API route (no transaction, no authentication)")
            continue
        if not isinstance(context.original_route, TransactionalRoute):
            problems.append(f"{name}: not transactional (its router is not app.core.routing.Router)")
        calls = set(_calls(context.dependant))
        # FastAPI runs a plain function dependency in a worker thread: a thread hop on every request
        # (the session's cost GET /v1/me 17 % of its throughput in `make bench`).
        problems += [
            f"{name}: dependency {call.__qualname__} is not a coroutine function"
            for call in calls - {context.dependant.call}
            if call is not None and not _is_coroutine(call)
        ]
        authenticated, declared = authenticate in calls, public in calls
        if authenticated == declared:
            decision = "both authenticated and public" if declared else "neither authenticated nor public"
            problems.append(f"{name}: {decision}")
        if declared:
            declared_public.update(f"{method} {context.path_format}" for method in methods)
    return problems, declared_public


def test_every_route_commits_and_either_authenticates_or_is_declared_public() -> None:
    problems, declared_public = route_problems(_application())
    assert problems == []
    assert declared_public == PUBLIC_OPERATIONS


def test_the_walk_sees_the_docs_and_every_operation_of_the_document() -> None:
    app = _application()
    walked = {
        f"{method} {context.path_format}"
        for context in iter_route_contexts(app.routes)
        if isinstance(context.original_route, APIRoute)
        for method in context.methods or ()
    }
    documented = {
        f"{method.upper()} {path}" for path, item in app.openapi()["paths"].items() for method in item
    }
    assert walked == documented
    served = {context.path_format for context in iter_route_contexts(app.routes)}
    assert {"/openapi.json", "/docs", "/redoc", "/docs/oauth2-redirect", "/docs/assets/{path}"} <= served


class Thing(BaseModel):
    name: str


ThingsWriteOnce = Annotated[Principal, idempotent(requires(Scope.ADMIN))]


def test_the_walk_finds_a_route_on_a_plain_router_and_one_that_forgot_its_token() -> None:
    app = _application()
    plain = APIRouter()

    @plain.post("/v1/things", status_code=201)
    async def create_thing(body: Thing, principal: Annotated[Principal, requires(Scope.ADMIN)]) -> Thing:
        return body  # would answer 201 and commit nothing

    ours = Router()

    @ours.get("/v1/open")
    async def open_to_anyone(session: DbSession) -> dict[str, str]:
        return {}

    @ours.get("/v1/confused", dependencies=[PUBLIC])
    async def confused(principal: Annotated[Principal, requires(Scope.ADMIN)]) -> dict[str, str]:
        return {}

    app.include_router(plain)
    app.include_router(ours)
    problems, _ = route_problems(app)
    assert problems == [
        "POST /v1/things: not transactional (its router is not app.core.routing.Router)",
        "GET /v1/open: neither authenticated nor public",
        "GET /v1/confused: both authenticated and public",
    ]


def test_a_router_keeps_its_transactional_route_class() -> None:
    with pytest.raises(TypeError, match="does not commit"):
        Router(route_class=APIRoute)
    router = Router()
    with pytest.raises(TypeError, match="does not commit"):
        router.route_class = APIRoute

    async def endpoint() -> None: ...

    with pytest.raises(TypeError, match="does not commit"):
        router.add_api_route("/v1/x", endpoint, route_class_override=APIRoute)
    router.add_api_route("/v1/x", endpoint, dependencies=[PUBLIC])
    assert all(isinstance(route, TransactionalRoute) for route in router.routes)


# ---------------------------------------------------------------------------------------------------
# What a route lists, and what its signature adds to the document


def _document(router: Router) -> dict[str, Any]:
    app = FastAPI()
    app.include_router(router)
    return build_openapi(app, idempotency_hours=24)


def _problems(operation: dict[str, Any]) -> dict[str, list[str]]:
    return {
        status: list(response["content"]["application/problem+json"]["examples"])
        for status, response in operation["responses"].items()
        if "application/problem+json" in response.get("content", {})
    }


def test_a_route_lists_its_own_problems_and_the_rest_follows_from_what_it_takes() -> None:
    router = Router(prefix="/v1/things")

    @router.post("", responses=problem_responses(409, codes={409: ["invalid_transition"]}))
    async def create_thing(
        principal: ThingsWriteOnce, session: DbSession, body: Thing, created: Created
    ) -> Thing:
        return body

    @router.patch("/{thing_id}", responses=problem_responses(403, 404, codes={403: ["agency_not_permitted"]}))
    async def update_thing(
        thing_id: uuid.UUID,
        principal: Annotated[Principal, requires(Scope.ADMIN)],
        body: Thing,
        answer: Versioned,
        if_match: IfMatch = None,
    ) -> Thing:
        return body

    @router.get("/{thing_id}")
    async def get_thing(
        thing_id: uuid.UUID, principal: Annotated[Principal, requires(Scope.ADMIN)], answer: Versioned
    ) -> Thing:
        return Thing(name="x")

    @router.get("/count", dependencies=[PUBLIC])
    async def count() -> dict[str, int]:
        return {}

    paths = _document(router)["paths"]
    created = _problems(paths["/v1/things"]["post"])
    # 500 always; 503 (the database); 401/403 (a token); 400/408/413/415/422 (a JSON body); the
    # idempotency codes (an Idempotency-Key); then the route's own 409.
    assert list(created) == ["400", "401", "403", "408", "409", "413", "415", "422", "500", "503", "429"]
    assert created["409"] == ["idempotency_key_in_progress", "invalid_transition"]
    assert created["403"] == ["insufficient_scope"]
    assert "Location" in paths["/v1/things"]["post"]["responses"]["201"]["headers"]
    updated = _problems(paths["/v1/things/{thing_id}"]["patch"])
    assert {"404", "412", "428", "422"} <= updated.keys()
    assert updated["403"] == ["insufficient_scope", "agency_not_permitted"]
    assert "409" not in updated
    # A route whose path names a record may not find it (or the caller may not see it).
    assert _problems(paths["/v1/things/{thing_id}"]["get"])["404"] == ["not_found"]
    assert "404" not in created
    # A route that answers a versioned record (a conditional write, a GET) documents its ETag.
    for method in ("patch", "get"):
        assert "ETag" in paths["/v1/things/{thing_id}"][method]["responses"]["200"]["headers"]
    assert "ETag" not in paths["/v1/things"]["post"]["responses"]["201"]["headers"]
    # A public route without the database: only what every route can give (and the rate limit).
    assert list(_problems(paths["/v1/things/count"]["get"])) == ["500", "429"]


def test_a_route_answers_201_exactly_when_it_says_where_the_new_record_is() -> None:
    router = Router(prefix="/v1/things")

    async def create_thing(principal: ThingsWriteOnce, body: Thing, created: Created) -> Thing:
        return body

    async def create_without_location(principal: ThingsWriteOnce, body: Thing) -> Thing:
        return body

    router.add_api_route("", create_thing, methods=["POST"])
    assert [route.status_code for route in router.routes if isinstance(route, APIRoute)] == [201]
    with pytest.raises(TypeError, match="201 exactly when"):
        router.add_api_route("", create_without_location, methods=["POST"], status_code=201)
    with pytest.raises(TypeError, match="201 exactly when"):
        router.add_api_route("", create_thing, methods=["POST"], status_code=200)

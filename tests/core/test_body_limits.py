"""Request bodies are refused early: too large (413, whatever Content-Length claims), too slow (408,
without holding a database connection), or JSON nested too deep or arrays too long (4xx, never a 500)."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Scope

from app.core.middleware import json_depth_exceeds
from app.core.scopes import Role
from app.main import create_app, openapi_document
from tests.fixtures.callers import TokenFactory
from tests.fixtures.clients import client_body
from tests.fixtures.database import one_connection_settings
from tests.fixtures.http import assert_problem

MiB = 1024 * 1024
JSON = {"Content-Type": "application/json"}


@pytest.fixture
async def slow_app(database_url: str) -> AsyncIterator[FastAPI]:
    application = create_app(one_connection_settings(database_url))
    yield application
    await application.state.engine.dispose()


async def test_a_declared_oversized_body_is_refused_without_being_read(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    read = False

    async def body() -> AsyncIterator[bytes]:
        nonlocal read
        read = True
        yield b"{}"

    headers = {**admin, **JSON, "Content-Length": str(2 * MiB)}
    response = await client.post("/v1/clients", content=body(), headers=headers)
    assert_problem(response, 413, "payload_too_large")
    assert response.headers["connection"] == "close"
    assert not read


async def test_a_body_longer_than_its_content_length_over_the_limit_is_a_413(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    big = json.dumps({**client_body(), "name": "x" * (2 * MiB)}).encode()
    response = await client.post(
        "/v1/clients", content=big, headers={**admin, **JSON, "Content-Length": "100"}
    )
    assert_problem(response, 413, "payload_too_large")


@pytest.mark.parametrize(
    ("declared", "detail"),
    [("10", "longer than its Content-Length"), ("5000", "shorter than its Content-Length")],
)
async def test_a_body_that_does_not_match_its_content_length_is_a_400(
    client: httpx.AsyncClient, admin: dict[str, str], declared: str, detail: str
) -> None:
    body = json.dumps(client_body()).encode()
    response = await client.post(
        "/v1/clients", content=body, headers={**admin, **JSON, "Content-Length": declared}
    )
    assert detail in assert_problem(response, 400, "bad_request")["detail"]


@pytest.mark.parametrize("declared", ["abc", "-1", "1e3", "12 34"])
async def test_a_content_length_that_is_not_a_number_is_a_400(
    client: httpx.AsyncClient, admin: dict[str, str], declared: str
) -> None:
    headers = {**admin, **JSON, "Content-Length": declared}
    response = await client.post("/v1/clients", content=b"{}", headers=headers)
    assert_problem(response, 400, "bad_request")


async def test_a_body_at_the_limit_is_accepted(client: httpx.AsyncClient, admin: dict[str, str]) -> None:
    # 1 MiB exactly (padded with whitespace, which JSON allows).
    body = json.dumps(client_body()).encode()
    response = await client.post(
        "/v1/clients", content=body + b" " * (MiB - len(body)), headers={**admin, **JSON}
    )
    assert response.status_code == 201, response.text


async def test_a_trickled_body_is_a_408_problem_and_holds_no_database_connection(
    slow_app: FastAPI, auth: TokenFactory
) -> None:
    admin = {"Authorization": auth(Role.ADMIN)["Authorization"]}
    started = asyncio.Event()

    async def trickle() -> AsyncIterator[bytes]:
        yield b'{"name": "'
        started.set()
        await asyncio.Event().wait()  # the rest never comes
        yield b'x"}'

    transport = httpx.ASGITransport(app=slow_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        slow = asyncio.create_task(http.post("/v1/clients", content=trickle(), headers={**admin, **JSON}))
        await started.wait()
        # The pool's only connection is free: the trickling request has not taken it.
        other = await http.get("/v1/clients", headers=admin)
        assert other.status_code == 200
        assert not slow.done()
        response = await slow
    body = assert_problem(response, 408, "request_timeout")
    assert "too slowly" in body["detail"]
    assert response.headers["connection"] == "close"


async def test_a_body_sent_in_pieces_fast_enough_is_accepted(slow_app: FastAPI, auth: TokenFactory) -> None:
    encoded = json.dumps(client_body()).encode()

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(encoded), 8):
            await asyncio.sleep(0)
            yield encoded[start : start + 8]

    transport = httpx.ASGITransport(app=slow_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        response = await http.post("/v1/clients", content=pieces(), headers={**auth(Role.ADMIN), **JSON})
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "body",
    [
        "[" * 10_000 + "]" * 10_000,
        '{"a":' * 10_000 + "1" + "}" * 10_000,
        '{"children": ' + "[" * 10_000 + "]" * 10_000 + "}",
        # Under Python's recursion limit, so the parser alone would accept it.
        '{"children": [' + "{" * 500 + "}" * 500 + "]}",
        # Unclosed: refused for its depth before anyone tries to parse it.
        "[" * 100_000,
    ],
    ids=["arrays", "objects", "in-a-field", "500-levels", "unclosed"],
)
async def test_deeply_nested_json_is_a_422_problem(
    client: httpx.AsyncClient, auth: TokenFactory, body: str
) -> None:
    headers = {**auth(Role.MASH_PRACTITIONER), **JSON}
    response = await client.post("/v1/referrals", content=body.encode(), headers=headers)
    problem = assert_problem(response, 422, "validation_failed")
    assert problem["errors"] == [{"loc": ["body"], "msg": problem["detail"]}]
    assert "32 levels" in problem["detail"]


async def test_brackets_inside_strings_are_not_nesting(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    response = await client.post("/v1/clients", json=client_body(name='[{"' * 60), headers=admin)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"children": [{"given_name": "A"}] * 50_000}, 422),
        ({"concern_categories": ["neglect"] * 80_000}, 422),
        ([0] * 400_000, 422),
        ([0] * 600_000, 413),
    ],
    ids=["children", "categories", "top-level", "over-1-MiB"],
)
async def test_huge_arrays_are_refused(
    client: httpx.AsyncClient, auth: TokenFactory, body: Any, status: int
) -> None:
    response = await client.post("/v1/referrals", json=body, headers=auth(Role.MASH_PRACTITIONER))
    assert response.status_code == status, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("text", "deeper_than_3"),
    [
        (b"[[[]]]", False),
        (b"[[[[]]]]", True),
        (b'[["[[[[", {"a": "]]]]"}]]', False),
        (b'[[[ "\\"[[[[", [] ]]]', True),
        (b'["\\\\", [[[]]]]', True),
        (b"{}" * 1000, False),
        # An unterminated string runs to the end; escaped quotes in it once made the scan quadratic.
        (b'[[[["' + b'\\"' * 200_000 + b"[[[[", True),
        (b'[["' + b'\\"' * 200_000 + b"[[[[", False),
        (b"[" + b"[]," * 1000 + b"[]]", False),
        (b"[[" + b"[]" * 1000 + b"[[]]]]", True),
    ],
    ids=[
        "3-levels",
        "4-levels",
        "brackets-in-strings",
        "escaped-quote",
        "escaped-backslash",
        "flat",
        "redos",
        "redos-2",
        "wide",
        "wide-and-deep",
    ],
)
def test_json_depth_ignores_brackets_in_strings(text: bytes, deeper_than_3: bool) -> None:
    assert json_depth_exceeds(text, 3) is deeper_than_3


async def test_a_client_that_leaves_mid_body_is_logged_as_499_not_as_a_server_error(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mash.access")
    partial: Message = {"type": "http.request", "body": b'{"na', "more_body": True}
    messages = iter([partial, {"type": "http.disconnect"}])
    sent: list[Message] = []

    async def receive() -> Message:
        return next(messages)

    async def send(message: Message) -> None:
        sent.append(message)

    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/clients",
        "raw_path": b"/v1/clients",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"content-type", b"application/json"), (b"content-length", b"100")],
        "client": ("198.51.100.9", 40000),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    assert sent == []  # nobody to answer
    assert [getattr(r, "status", None) for r in caplog.records if r.name == "mash.access"] == [499]


def _unbounded_arrays(
    schema: dict[str, Any], where: str, schemas: dict[str, Any], seen: set[str]
) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _unbounded_arrays(schemas[name], name, schemas, seen)
    found = []
    if schema.get("type") == "array":
        if "maxItems" not in schema:
            found.append(where)
        found += _unbounded_arrays(schema.get("items", {}), f"{where}[]", schemas, seen)
    for key, value in schema.get("properties", {}).items():
        found += _unbounded_arrays(value, f"{where}.{key}", schemas, seen)
    for alternative in [*schema.get("anyOf", []), *schema.get("oneOf", []), *schema.get("allOf", [])]:
        found += _unbounded_arrays(alternative, where, schemas, seen)
    if isinstance(schema.get("additionalProperties"), dict):
        found += _unbounded_arrays(schema["additionalProperties"], f"{where}{{}}", schemas, seen)
    return found


def test_every_array_in_a_request_body_has_a_maximum_length() -> None:
    # From the route table (the OpenAPI document), so a new request model is covered too.
    document = openapi_document()
    schemas, seen = document["components"]["schemas"], set[str]()
    bodies = [
        (f"{method.upper()} {path}", content["schema"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
        for content in operation.get("requestBody", {}).get("content", {}).values()
    ]
    assert len(bodies) > 30
    unbounded = [where for name, schema in bodies for where in _unbounded_arrays(schema, name, schemas, seen)]
    assert unbounded == []

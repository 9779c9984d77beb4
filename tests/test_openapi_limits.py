"""The limits the OpenAPI document states: on every operation, on every value, and true of the service.

`make spec-check` lints the same document with Spectral's OWASP rules; these tests keep the
properties that matter most without node, and check that the bounds are enforced, not only written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from app.core.schemas import MAX_FIELD_ERRORS, Problem
from app.main import openapi_document
from tests.fixtures.http import assert_problem

RATE_LIMIT_HEADERS = {"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"}
# Whole documents, not fields (.spectral.yaml says why): a CSV report and the Prometheus exposition.
DOCUMENT_BODIES = {"text/csv", "text/plain; version=1.0.0; charset=utf-8"}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return openapi_document()


def _operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


def _schemas(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in the document, with where it is; example values are not schemas."""
    if isinstance(node, dict):
        if isinstance(node.get("type"), str):
            yield where, node
        for key, value in node.items():
            if key in ("example", "examples") or key in DOCUMENT_BODIES:
                continue
            yield from _schemas(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schemas(value, f"{where}/{index}")


def test_every_operation_documents_rate_limiting(spec: dict[str, Any]) -> None:
    headers = spec["components"]["headers"]
    assert headers["Retry-After"]["required"] is True
    for method, path, operation in _operations(spec):
        responses = operation["responses"]
        too_many = responses.get("429")
        assert too_many, f"{method} {path} does not document 429"
        assert "application/problem+json" in too_many["content"]
        assert "Retry-After" in too_many["headers"]
        for status, response in responses.items():
            if status.startswith(("2", "4")):
                documented = set(response.get("headers", {}))
                assert documented >= RATE_LIMIT_HEADERS, f"{method} {path} {status}"
    for name in RATE_LIMIT_HEADERS:
        # Sent by the rate limiter on its answers, not promised on every response of every deployment.
        assert not headers[name].get("required"), name


def test_every_value_in_the_document_is_bounded(spec: dict[str, Any]) -> None:
    # What bounds each type: a string its length (or a closed set), a list its size, an integer its range.
    bounded_by: dict[str, Callable[[dict[str, Any]], bool]] = {
        "string": lambda schema: bool({"maxLength", "enum", "const"} & schema.keys()),
        "array": lambda schema: "maxItems" in schema,
        "integer": lambda schema: {"minimum", "maximum", "format"} <= schema.keys(),
    }
    unbounded = [
        where
        for where, schema in _schemas(spec)
        if schema["type"] in bounded_by and not bounded_by[schema["type"]](schema)
    ]
    assert unbounded == []


def test_optional_query_parameters_are_never_null(spec: dict[str, Any]) -> None:
    for method, path, operation in _operations(spec):
        for parameter in operation.get("parameters", []):
            assert "anyOf" not in parameter["schema"], f"{method} {path} {parameter['name']}"


async def test_a_validation_problem_lists_at_most_the_documented_number_of_errors(
    client: httpx.AsyncClient, admin: dict[str, str]
) -> None:
    body: dict[str, Any] = {"name": "Police PPU", "agency": "police", "role": "partner_referrer"}
    body |= {f"unknown_{n}": n for n in range(MAX_FIELD_ERRORS + 50)}
    response = await client.post("/v1/clients", json=body, headers=admin)
    assert_problem(response, 422, "validation_failed")
    problem = Problem.model_validate(response.json())  # the documented bounds hold for the body
    assert problem.errors is not None and len(problem.errors) == MAX_FIELD_ERRORS
    assert problem.detail.startswith(f"{MAX_FIELD_ERRORS + 50} field(s)")


async def test_a_field_past_its_documented_length_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], spec: dict[str, Any]
) -> None:
    longest = spec["components"]["schemas"]["ClientCreate"]["properties"]["name"]["maxLength"]
    for name, status in (("n" * longest, 201), ("n" * (longest + 1), 422)):
        body = {"name": name, "agency": "police", "role": "partner_referrer"}
        response = await client.post("/v1/clients", json=body, headers=admin)
        assert response.status_code == status, response.text


@pytest.mark.parametrize("name", ["Police\x00PPU", "Police\nPPU", "Police\x1bPPU"])
async def test_text_with_control_characters_is_refused(
    client: httpx.AsyncClient, admin: dict[str, str], name: str
) -> None:
    # The documented pattern: a NUL would fail in PostgreSQL, a line break does not belong in a name.
    body = {"name": name, "agency": "police", "role": "partner_referrer"}
    assert_problem(await client.post("/v1/clients", json=body, headers=admin), 422, "validation_failed")

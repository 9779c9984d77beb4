"""Every list refuses a page larger than the contract's 200 (422), found from the application's own
route table (its OpenAPI document), so a list added later is covered without touching this test."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx
import pytest

from app.core.pagination import MAX_LIMIT
from app.core.scopes import COUNCIL_AGENCIES, ROLE_SCOPES, AgencyCode, Role, agencies_for
from app.main import openapi_document
from tests.fixtures.callers import TokenFactory
from tests.fixtures.http import assert_problem

DOCUMENT = openapi_document()
SCHEMAS: dict[str, Any] = DOCUMENT["components"]["schemas"]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _is_list(operation: dict[str, Any]) -> bool:
    """A keyset-paginated list: it answers `next_cursor`, or takes a `limit`."""
    content = operation["responses"].get("200", {}).get("content", {})
    schema = _resolve(content.get("application/json", {}).get("schema", {}))
    takes_limit = any(p["name"] == "limit" for p in operation.get("parameters", []))
    return takes_limit or "next_cursor" in schema.get("properties", {})


LISTS = sorted(
    (path, operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
    if method == "get" and _is_list(operation)
)


def _role_for(operation: dict[str, Any]) -> Role:
    # Any role holding every scope of one of the operation's security alternatives (a bare token among
    # scoped alternatives is not one: any-of operations also list the token scheme without scopes).
    alternatives = [set(requirement.get("oauth2", [])) for requirement in operation.get("security", [])]
    alternatives = [scopes for scopes in alternatives if scopes] or alternatives
    if not alternatives:
        return Role.AUDITOR  # a public list (the problem codes): any caller
    for role in Role:
        if any(scopes <= ROLE_SCOPES[role] for scopes in alternatives):
            return role
    raise AssertionError(f"no role may call {operation['operationId']}")


def _agency_for(role: Role) -> AgencyCode:
    """An agency the role may be in, a lead agency or the council where it may (child-level lists, such
    as the CIN items, are theirs only)."""
    allowed = agencies_for(role)
    return min(allowed & COUNCIL_AGENCIES or allowed)


def _url(path: str, operation: dict[str, Any]) -> str:
    kinds = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "path"}

    def value(match: re.Match[str]) -> str:
        return str(uuid.uuid4()) if kinds[match[1]].get("format") == "uuid" else "x"

    return re.sub(r"\{(\w+)\}", value, path)


def test_the_sweep_finds_the_lists() -> None:
    paths = {path for path, _ in LISTS}
    assert {"/v1/referrals", "/v1/adult-concerns", "/v1/events", "/v1/audit-events", "/v1/clients"} <= paths
    assert len(paths) >= 14


@pytest.mark.parametrize(("path", "operation"), LISTS, ids=[path for path, _ in LISTS])
def test_every_list_documents_its_page_size_cap(path: str, operation: dict[str, Any]) -> None:
    limit = next((p for p in operation.get("parameters", []) if p["name"] == "limit"), None)
    assert limit is not None, f"{path} answers pages but takes no limit"
    assert limit["in"] == "query"
    assert limit["schema"]["maximum"] == MAX_LIMIT == 200
    assert limit["schema"]["minimum"] == 1


@pytest.mark.parametrize(("path", "operation"), LISTS, ids=[path for path, _ in LISTS])
@pytest.mark.parametrize("limit", [MAX_LIMIT + 1, 0])
async def test_every_list_refuses_a_page_size_out_of_range(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    path: str,
    operation: dict[str, Any],
    limit: int,
) -> None:
    role = _role_for(operation)
    response = await client.get(
        _url(path, operation), params={"limit": limit}, headers=auth(role, _agency_for(role))
    )
    body = assert_problem(response, 422, "validation_failed")
    assert ["query", "limit"] in [error["loc"] for error in body["errors"]]


async def test_a_page_of_exactly_the_cap_is_served(client: httpx.AsyncClient, auth: TokenFactory) -> None:
    response = await client.get("/v1/referrals", params={"limit": MAX_LIMIT}, headers=auth(Role.MASH_MANAGER))
    assert response.status_code == 200

"""The OpenAPI document is a product: it must be current and complete for every operation."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from app.admin.clients.schemas import ClientOut
from app.children.referrals.schemas import ReferralSummary
from app.core.events import EventType
from app.core.pagination import Page, page_name
from app.core.problems import PROBLEM_TYPES
from app.main import openapi_document
from tests.conftest import ROOT

SPEC_PATH = ROOT / "openapi" / "openapi.json"
PROBLEM = "application/problem+json"
# The token endpoint answers errors in the OAuth shape (RFC 6749), as the contract requires.
OAUTH_ERRORS = {("post", "/oauth/token"): {"400", "401"}}
PUBLIC = {
    "/healthz",
    "/readyz",
    "/metrics",
    "/problems",
    "/problems/{code}",
    "/oauth/token",
    # The public's front door (api.md): members of the public, no token.
    "/public/v1/adult-concerns",
    "/public/v1/child-concerns",
}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return openapi_document()


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def test_the_committed_spec_is_current(spec: dict[str, Any]) -> None:
    committed = json.loads(SPEC_PATH.read_text())
    assert committed == spec, "openapi/openapi.json is stale: run `make openapi`"


def test_security_schemes_are_declared(spec: dict[str, Any]) -> None:
    oauth = spec["components"]["securitySchemes"]["oauth2"]
    assert oauth["flows"]["clientCredentials"]["tokenUrl"] == "/oauth/token"
    assert "referrals:create" in oauth["flows"]["clientCredentials"]["scopes"]


def test_every_operation_is_described_and_tagged(spec: dict[str, Any]) -> None:
    for method, path, operation in _operations(spec):
        assert operation.get("summary"), f"{method} {path} has no summary"
        assert operation.get("tags"), f"{method} {path} has no tag"


def test_every_protected_operation_declares_its_scopes_and_auth_errors(spec: dict[str, Any]) -> None:
    for method, path, operation in _operations(spec):
        if path in PUBLIC:
            assert "security" not in operation, f"{method} {path} should be public"
            continue
        assert operation.get("security"), f"{method} {path} declares no security"
        assert {"401", "403"} <= operation["responses"].keys(), f"{method} {path}"


def test_every_operation_documents_its_error_responses_as_problems(spec: dict[str, Any]) -> None:
    for method, path, operation in _operations(spec):
        responses = operation["responses"]
        if path not in {"/healthz", "/metrics"}:
            assert "500" in responses or path.startswith("/problems") or path == "/readyz", f"{method} {path}"
        if operation.get("requestBody"):
            assert {"413", "422"} <= responses.keys() or (method, path) in OAUTH_ERRORS, f"{method} {path}"
            assert "415" in responses, f"{method} {path}"
        if any(p["in"] == "path" for p in operation.get("parameters", [])):
            assert "404" in responses, f"{method} {path}"
        if any(p["in"] in {"query", "path", "header"} for p in operation.get("parameters", [])):
            assert "422" in responses, f"{method} {path}"
        for status, response in responses.items():
            if status.startswith(("4", "5")) and status not in OAUTH_ERRORS.get((method, path), set()):
                content = response.get("content", {})
                assert PROBLEM in content, f"{method} {path} {status} is not documented as a problem"
                assert content[PROBLEM].get("examples"), f"{method} {path} {status} has no example"


def test_every_create_accepts_an_idempotency_key_and_returns_location(spec: dict[str, Any]) -> None:
    creates = [(m, p, op) for m, p, op in _operations(spec) if m == "post" and "201" in op["responses"]]
    assert creates
    for method, path, operation in creates:
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "Idempotency-Key" in headers, f"{method} {path}"
        assert "Location" in operation["responses"]["201"].get("headers", {}), f"{method} {path}"
        assert {"409", "422"} <= operation["responses"].keys(), f"{method} {path}"


def test_every_patch_requires_if_match(spec: dict[str, Any]) -> None:
    for method, path, operation in _operations(spec):
        if method != "patch":
            continue
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        assert "If-Match" in headers, f"{method} {path}"
        assert {"412", "428"} <= operation["responses"].keys(), f"{method} {path}"


def test_request_and_response_bodies_have_examples(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    for method, path, operation in _operations(spec):
        body = operation.get("requestBody", {}).get("content", {}).get("application/json")
        if body:
            name = body["schema"]["$ref"].rsplit("/", 1)[1]
            assert schemas[name].get("examples"), f"{method} {path}: request schema {name} has no example"
        ok: dict[str, Any] = next((r for s, r in operation["responses"].items() if s.startswith("2")), {})
        schema = ok.get("content", {}).get("application/json", {}).get("schema", {})
        # One schema, or each branch of a oneOf (the referral views).
        for branch in schema.get("oneOf", [schema]):
            if "$ref" not in branch:
                continue
            name = branch["$ref"].rsplit("/", 1)[1]
            target = schemas[name]
            items = target.get("properties", {}).get("items", {}).get("items", {})
            if "$ref" in items or "oneOf" in items:  # a page or list: the item schemas carry the examples
                for item in items.get("oneOf", [items]):
                    item_name = item["$ref"].rsplit("/", 1)[1]
                    assert schemas[item_name].get("examples"), f"{method} {path}: {item_name} has no example"
                continue
            assert target.get("examples"), f"{method} {path}: response schema {name} has no example"


def test_schema_names_are_readable(spec: dict[str, Any]) -> None:
    # Generated clients take these names: no module path (`app__referrals__schemas__Actor`, when two
    # models share a name), no generic (`Page_ReferralSummary_`), no FastAPI default (`Body_...`,
    # `Response_...`), no pydantic internals. A PascalCase word each, so the names are also unique.
    for name in spec["components"]["schemas"]:
        assert re.fullmatch(r"[A-Z][A-Za-z0-9]{0,59}", name), name
        assert "Annotated" not in name and "FieldInfo" not in name, name
    schemas = spec["components"]["schemas"]
    assert {"ReferralSummaryPage", "TokenRequest", "ProblemCode", "EventType"} <= schemas.keys()


# The operation names the contract gives as examples (api.md "Conventions", "Names in the spec").
CONTRACT_OPERATION_IDS = {"createReferral", "listReferrals", "getReferral", "approveThresholdDecision"}


def test_every_operation_is_named_in_camel_case_once(spec: dict[str, Any]) -> None:
    ids = [operation["operationId"] for _, _, operation in _operations(spec)]
    for operation_id in ids:
        assert re.fullmatch(r"[a-z]+(?:[A-Z0-9][a-z0-9]*)*", operation_id), operation_id
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert set(ids) >= CONTRACT_OPERATION_IDS
    assert spec["paths"]["/v1/referrals"]["post"]["operationId"] == "createReferral"
    approval = spec["paths"]["/v1/threshold-decisions/{decision_id}/approval"]["post"]
    assert approval["operationId"] == "approveThresholdDecision"


def _inline_enums(node: Any, where: str) -> list[str]:
    found = []
    if isinstance(node, dict):
        if "enum" in node:
            found.append(where)
        for key, value in node.items():
            if key not in ("example", "examples"):
                found += _inline_enums(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _inline_enums(value, f"{where}/{index}")
    return found


def test_every_enumeration_is_a_named_schema(spec: dict[str, Any]) -> None:
    # Anywhere else an enum is generated anew (or dropped) for each place it appears.
    inline = _inline_enums(spec["paths"], "paths")
    for name, schema in spec["components"]["schemas"].items():
        inline += [w for w in _inline_enums(schema, name) if w != name]
    assert inline == []
    schemas = spec["components"]["schemas"]
    assert schemas["Problem"]["properties"]["code"]["$ref"] == "#/components/schemas/ProblemCode"
    assert set(schemas["ProblemCode"]["enum"]) == set(PROBLEM_TYPES)
    assert schemas["FeedEvent"]["properties"]["event_type"]["$ref"] == "#/components/schemas/EventType"
    assert set(schemas["EventType"]["enum"]) == {str(t) for t in EventType}
    # Codes that are not names carry their members' names, for the names of generated enum members.
    source = schemas["ReferralSource"]
    assert dict(zip(source["x-enum-varnames"], source["enum"], strict=True))["POLICE"] == "6"


def _header(spec: dict[str, Any], response: dict[str, Any], name: str) -> dict[str, Any] | None:
    header: dict[str, Any] | None = response.get("headers", {}).get(name)
    if header is not None and "$ref" in header:
        header = spec["components"]["headers"][header["$ref"].rsplit("/", 1)[1]]
    return header


def test_retry_after_is_documented_wherever_it_is_sent(spec: dict[str, Any]) -> None:
    in_progress = 0
    for method, path, operation in _operations(spec):
        responses = operation["responses"]
        for status in ("429", "503"):
            if status in responses:
                header = _header(spec, responses[status], "Retry-After")
                assert header is not None and header["required"], f"{method} {path} {status}"
        conflict = responses.get("409")
        if conflict and "idempotency_key_in_progress" in conflict["content"][PROBLEM]["examples"]:
            in_progress += 1
            header = _header(spec, conflict, "Retry-After")
            assert header is not None, f"{method} {path} 409"
        assert "429" in responses, f"{method} {path}"
    assert in_progress > 10


def test_every_list_documents_its_link_header(spec: dict[str, Any]) -> None:
    schemas = spec["components"]["schemas"]
    lists = 0
    for method, path, operation in _operations(spec):
        ok = operation["responses"].get("200", {})
        ref = ok.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
        page = {"items", "next_cursor"} <= schemas.get(ref.rsplit("/", 1)[-1], {}).get(
            "properties", {}
        ).keys()
        pages = any(p["name"] == "cursor" for p in operation.get("parameters", []))
        assert page == pages, f"{method} {path}: a page takes `cursor`, and only a page"
        if pages:
            lists += 1
            header = _header(spec, ok, "Link")
            assert header is not None and "next" in header["description"], f"{method} {path}"
    assert lists >= 15


async def test_problems_lists_every_code_with_its_page(client: httpx.AsyncClient) -> None:
    items, url = [], "/problems?limit=7"
    while url:
        response = await client.get(url)
        assert response.status_code == 200
        body = response.json()
        items += body["items"]
        link = response.headers.get("link")
        assert (link is None) == (body["next_cursor"] is None)
        url = link and urlsplit(link.removeprefix("<").split(">;")[0])._replace(scheme="", netloc="").geturl()
    assert [item["code"] for item in items] == list(PROBLEM_TYPES)
    for item in items:
        assert item["type"].endswith(f"/problems/{item['code']}")
        assert item["title"] == PROBLEM_TYPES[item["code"]].title
    page = await client.get(urlsplit(items[0]["type"]).path)
    assert page.json() == items[0]
    bad = await client.get("/problems", params={"cursor": "bm9uZQ"})
    assert (bad.status_code, bad.json()["code"]) == (422, "invalid_cursor")


def test_a_page_is_named_after_its_items() -> None:
    assert Page[ClientOut].__name__ == "ClientPage"
    assert Page[ClientOut] is Page[ClientOut]  # one model, so one schema
    assert page_name(ReferralSummary) == "ReferralSummaryPage"
    assert page_name(ReferralSummary | ClientOut) == "ReferralSummaryOrClientPage"


def test_no_answer_carries_a_title_fastapi_made_up(spec: dict[str, Any]) -> None:
    titles = [
        content["schema"]["title"]
        for _, _, operation in _operations(spec)
        for response in operation["responses"].values()
        for content in response.get("content", {}).values()
        if "title" in content.get("schema", {})
    ]
    assert not [t for t in titles if t.startswith(("Response", "Body"))]


def test_the_public_door_documents_what_it_answers(spec: dict[str, Any]) -> None:
    for path in ("/public/v1/adult-concerns", "/public/v1/child-concerns"):
        item = spec["paths"][path]
        assert set(item) == {"post"}, "nothing under /public reads anything"
        operation = item["post"]
        assert operation["tags"] == ["Public front door"]
        responses = operation["responses"]
        assert {"201", "400", "409", "413", "415", "422", "429", "500", "503"} <= responses.keys()
        assert "401" not in responses and "403" not in responses
        assert "Retry-After" in responses["429"]["headers"]
        receipt = responses["201"]["content"]["application/json"]["schema"]["$ref"]
        assert spec["components"]["schemas"][receipt.rsplit("/", 1)[1]]["required"] == [
            "reference",
            "received_at",
        ]

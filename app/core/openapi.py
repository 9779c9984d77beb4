"""OpenAPI documentation helpers: the problem responses of each route, and the document itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from app.core.errors import PROBLEM_MEDIA_TYPE
from app.core.openapi_limits import document_limits
from app.core.problems import PROBLEM_TYPES, codes_for_status
from app.core.schemas import Problem

# Errors any route can return: an unexpected failure (the body then carries only a request id).
ALWAYS = (500,)
# Errors of every route that uses the database: unreachable, or every connection busy.
WITH_DATABASE = (503,)
# Errors of every route that takes a bearer token.
AUTHENTICATED = (401, 403)
# Errors of every route with a JSON body (400: a body that is not even text, e.g. invalid UTF-8, or a
# Content-Length the body does not match; 408: a body that trickles in too slowly).
WITH_BODY = (400, 408, 413, 415, 422)
# Errors of every route that takes If-Match: stale (412), or missing (428).
CONDITIONAL = (412, 428)

# The problem codes an idempotent create adds to 409 and 422.
CREATE_CODES: dict[int, list[str]] = {
    409: ["idempotency_key_in_progress"],
    422: ["validation_failed", "idempotency_key_reused"],
}
# Every create answers the new record's URL (added to each 201 by ``route_responses``).
_LOCATION: dict[str, Any] = {
    "Location": {
        "description": "The URL of the new record.",
        "schema": {"type": "string", "format": "uri-reference", "maxLength": 2048},
    }
}
# Every list links its next page (``app.core.pagination.Pager``): added to the 200 of a route that pages.
LINK_HEADERS: dict[str, Any] = {
    "Link": {
        "description": 'When there is a next page: `<url>; rel="next"`, the same request with `cursor` set '
        "to `next_cursor`.",
        "schema": {"type": "string", "maxLength": 4096, "pattern": '^<[^>]+>; rel="next"$'},
    }
}
# The problem codes answered with a Retry-After header (seconds): rate limited, the database unreachable
# or busy, and a create whose Idempotency-Key is still running.
RETRY_AFTER_CODES = frozenset(
    {
        "rate_limited",
        "service_busy",
        "database_unavailable",
        "idempotency_key_in_progress",
        "document_not_scanned",
    }
)
RETRY_AFTER_HEADER = {"$ref": "#/components/headers/Retry-After"}
ETAG_HEADERS: dict[str, Any] = {
    "headers": {
        "ETag": {
            "description": "Send it back in If-Match to update the record.",
            "schema": {"type": "string", "pattern": '^"[0-9]+"$', "maxLength": 22},
        }
    }
}

_DESCRIPTIONS = {
    400: "The request could not be read: a body that is not valid JSON is `malformed_json`.",
    401: "Missing, invalid, expired or revoked access token.",
    403: "The token lacks a scope this operation requires.",
    404: "Not found, or not visible to the caller's agency.",
    405: "Method not allowed on this resource.",
    406: "No representation the Accept header allows.",
    408: "The request body arrived too slowly.",
    409: "Conflict with the record's current state.",
    412: "If-Match does not match the current ETag.",
    413: "Request body too large.",
    415: "Request body is not JSON.",
    422: (
        "Invalid input: a value (dates are YYYY-MM-DD; date-times need a UTC offset), an unknown query "
        "parameter, or a single-valued query parameter sent more than once."
    ),
    428: "If-Match header missing.",
    429: "Rate limit exceeded.",
    500: "Unexpected failure; the body carries only a request id.",
    503: "Database unreachable, or every connection busy; nothing was changed, retry later.",
}


# A 403 is a missing scope, unless the route names its other refusals (`self_approval`,
# `agency_not_permitted`) in ``codes``.
_DEFAULT_CODES = {403: ["insufficient_scope"]}


def _example(code: str) -> dict[str, Any]:
    problem = PROBLEM_TYPES[code]
    body: dict[str, Any] = {
        "type": f"http://127.0.0.1:8000/problems/{code}",
        "title": problem.title,
        "status": problem.status,
        "detail": problem.description,
        "code": code,
        "request_id": "5f0c6d2a9b8e4c1d8f7a6b5c4d3e2f10",
    }
    if code == "validation_failed":
        body["errors"] = [{"loc": ["body", "agency"], "msg": "Input should be 'police', 'health', ..."}]
    return body


def problem_responses(*statuses: int, codes: dict[int, list[str]] | None = None) -> dict[int | str, Any]:
    """``responses=`` for a route: each status documented with the problem schema and examples.

    ``codes`` narrows which problem codes a status can carry on this route (default: all of them).
    """
    responses: dict[int | str, Any] = {}
    for status in sorted(set(statuses)):
        status_codes = (codes or {}).get(status) or _DEFAULT_CODES.get(status) or codes_for_status(status)
        responses[status] = {
            "model": Problem,
            "description": _DESCRIPTIONS[status],
            "content": {
                PROBLEM_MEDIA_TYPE: {
                    "schema": {"$ref": "#/components/schemas/Problem"},
                    "examples": {
                        c: {"summary": PROBLEM_TYPES[c].title, "value": _example(c)} for c in status_codes
                    },
                }
            },
            **_retry_after(status_codes),
        }
    return responses


def _retry_after(codes: list[str]) -> dict[str, Any]:
    """The Retry-After header of a problem response whose codes send it (with some only: not required)."""
    sending = [code for code in codes if code in RETRY_AFTER_CODES]
    if not sending:
        return {}
    if len(sending) == len(codes):
        return {"headers": {"Retry-After": RETRY_AFTER_HEADER}}
    only = ", ".join(f"`{code}`" for code in sending)
    return {
        "headers": {
            "Retry-After": {
                "description": f"With {only}: seconds to wait before retrying.",
                "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
            }
        }
    }


# The 409 of a route that moves a record through its state machine.
INVALID_TRANSITION: dict[int, list[str]] = {409: ["invalid_transition"]}


@dataclass(frozen=True, slots=True)
class RouteFacts:
    """What a route's signature says about the errors it can give (read by ``app.core.routing``)."""

    public: bool  # declared public: no token (``app.core.auth.PUBLIC``)
    authenticates: bool  # depends on ``app.core.auth.authenticate``
    uses_database: bool  # depends on the request's session
    parameters: bool  # takes path, query, header or cookie parameters
    record_path: bool  # names a record in its path (``/v1/referrals/{referral_id}``)
    body: bool  # takes a request body
    json_body: bool  # ... and it is JSON (a form is not)
    idempotent: bool  # takes an Idempotency-Key (``app.core.idempotency.idempotent``)
    conditional: bool  # takes If-Match (``app.core.concurrency.IfMatch``)
    versioned: bool  # answers its record's ETag (``app.core.concurrency.Versioned``)
    creates: bool  # answers 201 Created, with the new record's Location (``app.core.creation.Created``)
    paged: bool  # answers a page and links the next (``app.core.pagination.Paging``)


def inferred_problems(facts: RouteFacts) -> dict[int, list[str]]:
    """The problem responses a route gives because of what it takes, each with its codes (empty: every
    code of that status). A route's ``responses=`` lists only the rest: the 409 of its state machine, a
    403 for a rule of its own."""
    found: dict[int, list[str]] = {status: [] for status in ALWAYS}
    if facts.uses_database:
        found.update({status: [] for status in WITH_DATABASE})
    if facts.public:
        # No token, and answers of their own shape (the token endpoint's OAuth errors, plain pages):
        # a public route lists its other answers itself (FastAPI adds the 422 of its parameters).
        return found
    if facts.authenticates:
        found.update({status: list(_DEFAULT_CODES.get(status, [])) for status in AUTHENTICATED})
    if facts.body:
        found.update({status: [] for status in WITH_BODY if facts.json_body or status != 415})
    if facts.body or facts.parameters:
        found[422] = ["validation_failed"]
    if facts.idempotent:
        for status, codes in CREATE_CODES.items():
            found[status] = list(dict.fromkeys([*found.get(status, []), *codes]))
    if facts.conditional:
        found.update({status: [] for status in CONDITIONAL})
    if facts.record_path:
        # The record named, or the one it belongs to, may not exist or not be the caller's to see.
        found[404] = []
    return found


def route_responses(
    declared: dict[int | str, dict[str, Any]], facts: RouteFacts
) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses``: what it declared, with the inferred problems added in status order, and
    a create's ``Location`` header, a versioned record's ``ETag`` and a list's ``Link``.

    Where both name a problem status, its codes are the inferred ones and then the declared ones
    (``codes={403: ["self_approval"]}`` adds to ``insufficient_scope``); a declared response that is
    not a problem (the token endpoint's OAuth errors) stands as it is."""
    inferred = inferred_problems(facts)
    if facts.versioned:
        # A versioned create answers the new record's ETag on its 201; other routes on their 200.
        ok = 201 if facts.creates else 200
        declared = {**declared, ok: {**declared.get(ok, {}), **ETAG_HEADERS}}
    merged: dict[int | str, dict[str, Any]] = {}
    for status in sorted({*declared, *inferred}, key=str):
        entry = declared.get(status)
        if (
            isinstance(status, int)
            and status in inferred
            and (entry is None or entry.get("model") is Problem)
        ):
            declared_codes = _problem_codes(entry) if entry is not None else []
            codes = list(dict.fromkeys([*inferred[status], *declared_codes]))
            merged[status] = problem_responses(status, codes={status: codes})[status]
        else:
            assert entry is not None
            merged[status] = entry
    if facts.creates:
        created = merged.get(201, {})
        merged[201] = {**created, "headers": {**_LOCATION, **created.get("headers", {})}}
    if facts.paged:
        page = merged.get(200, {})
        merged[200] = {**page, "headers": {**LINK_HEADERS, **page.get("headers", {})}}
    return merged


def _problem_codes(response: dict[str, Any]) -> list[str]:
    return list(response["content"][PROBLEM_MEDIA_TYPE]["examples"])


DESCRIPTION = """
The API of the Multi-Agency Safeguarding Hub: referrals about children, concerns about adults at
risk, the information agencies share about them and the decisions taken, with an audit trail of
every read and write.

**Authentication.** OAuth 2.0 client credentials: POST `/oauth/token` with `client_id` and
`client_secret`, then send `Authorization: Bearer <token>`. Each operation lists the scopes it needs.

**Errors** are RFC 9457 problem details (`application/problem+json`) with a stable `code`;
validation errors list each field in `errors`. GET the `type` URI for an explanation of a code.
A body that is not valid JSON is a 400 `malformed_json`. A query parameter the operation does not
list, or a single-valued one sent twice, is a 422; a list filter takes several values.

**Browsers.** Pages on the origins a deployment lists in `MASH_CORS_ALLOW_ORIGINS` (none by default)
may call the API with a bearer token (CORS, no credentials mode); `/docs` and `/redoc` need no internet.

**Idempotency.** Every POST that creates a record accepts an `Idempotency-Key` header. A retry with
the same key, client and body returns the original response with `Idempotent-Replayed: true`; the
same key with a different body is refused (422); the same key while the first request is still
running gets 409. Keys are kept for {idempotency_hours} hours.

**Concurrency.** Single-record GETs return an `ETag`; PATCH requires it in `If-Match`
(missing or `*`, which is not a version: 428; stale: 412).

**Lists** are keyset-paginated: `limit` (default 50, at most 200) and `cursor`; the body is
`{{"items": [...], "next_cursor": ...}}` and a `Link: <...>; rel="next"` header points to the next page.

**Limits.** Request bodies over 1 MiB are refused (413), as are bodies that arrive too slowly (408) and
JSON nested more than 32 levels deep (422); unknown fields in request bodies are refused (422).
Each client (its token's `sub`, or its address before it has a token) may make a limited number of
requests per window, and POST `/oauth/token` is limited per address and per `client_id`: responses carry `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
(seconds), and a request over the limit gets 429 with `Retry-After` (seconds). Strings, lists and numbers
carry their bounds in the schemas below (`maxLength`, `maxItems`, `minimum`/`maximum`); longer is 422.
"""


# Relative: the server the document was fetched from. Production serves HTTPS only (TLS at the load
# balancer); `make run` serves plain HTTP on 127.0.0.1 for local development.
SERVER = {
    "url": "/",
    "description": "This deployment (production over HTTPS; local development on http://127.0.0.1:8000)",
    # For partner agencies' systems and hub staff, not a public API.
    "x-internal": True,
}


def _problem_content(status: int) -> dict[str, Any]:
    """A problem response as it appears in the document (``problem_responses`` is for routes)."""
    response = problem_responses(status)[status]
    return {"description": response["description"], "content": response["content"]}


# Component schemas no model declares: a request body a route reads itself (a streamed upload) and
# documents by hand, named here so its ``$ref`` resolves (``register_schema``).
EXTRA_SCHEMAS: dict[str, dict[str, Any]] = {}


def register_schema(name: str, schema: dict[str, Any]) -> None:
    EXTRA_SCHEMAS[name] = schema


def build_openapi(app: FastAPI, idempotency_hours: int) -> dict[str, Any]:
    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=DESCRIPTION.format(idempotency_hours=idempotency_hours).strip(),
        routes=app.routes,
        tags=app.openapi_tags,
        servers=[SERVER],
    )
    schema["info"]["contact"] = {"name": "MASH service team"}
    schema["info"]["license"] = {"name": "Proprietary"}
    schema.setdefault("components", {}).setdefault("schemas", {}).update(EXTRA_SCHEMAS)
    _replace_default_validation_errors(schema)
    _drop_generated_titles(schema)
    _name_enum_members(schema)
    add_links(schema)
    document_limits(schema, too_many_requests=_problem_content(429))
    return schema


def _name_enum_members(schema: dict[str, Any]) -> None:
    """An enumeration whose members are not named after their values (CIN codes: `"1A"`, `"6"`; scopes:
    `"referrals:create"`) carries their names in `x-enum-varnames`, so generated clients write
    `ReferralSource.POLICE` and `Scope.REFERRALS_CREATE`, not `VALUE_13` and `REFERRALSCREATE`."""
    enums: dict[str, list[type[Enum]]] = {}
    pending: list[type[Enum]] = [Enum]
    while pending:
        kind = pending.pop()
        enums.setdefault(kind.__name__, []).append(kind)
        pending.extend(kind.__subclasses__())
    for name, component in schema.get("components", {}).get("schemas", {}).items():
        values = component.get("enum")
        for kind in enums.get(name, []) if values else []:
            members = list(kind)
            if [member.value for member in members] != values:
                continue
            if any(member.name != str(member.value).upper() for member in members):
                component["x-enum-varnames"] = [member.name for member in members]


def _drop_generated_titles(schema: dict[str, Any]) -> None:
    """An answer that is not one named schema (a oneOf of views, a list) gets a title FastAPI makes from
    the operation ("Response Getreferral"): no name of ours, and some generators name a type after it."""
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for response in operation.get("responses", {}).values():
                for content in response.get("content", {}).values():
                    body = content.get("schema", {})
                    if str(body.get("title", "")).startswith("Response "):
                        del body["title"]


def _replace_default_validation_errors(schema: dict[str, Any]) -> None:
    """FastAPI documents a 422 of its own shape on every operation with parameters; ours is a problem."""
    problem_422 = problem_responses(422)[422]
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            response = operation.get("responses", {}).get("422")
            if response and "application/json" in response.get("content", {}):
                operation["responses"]["422"] = {
                    "description": problem_422["description"],
                    "content": problem_422["content"],
                }
    for name in ("HTTPValidationError", "ValidationError"):
        schema.get("components", {}).get("schemas", {}).pop(name, None)


# OpenAPI links (https://spec.openapis.org/oas/v3.1.0#link-object): how the id in one response feeds the
# next request. Derived here from the generated paths (the route table) and the response schemas, so a new
# route is linked without touching its router; clients read them as "what can I do next", and the stateful fuzz tests
# (tests/fuzz/) follow them to chain a create with the operations on the record it made.
_PATH_PARAMETER = re.compile(r"\{([^}]+)\}")
_WRITES = ("patch", "put")


def add_links(schema: dict[str, Any]) -> None:
    """Add ``links`` to each 201 (to the new record's operations and its parent's GET) and each ETag."""
    operations = [
        (path, method, operation)
        for path, item in schema.get("paths", {}).items()
        for method, operation in item.items()
        if isinstance(operation, dict) and "responses" in operation
    ]
    records = {
        path: operation for path, method, operation in operations if method == "get" and path.endswith("}")
    }
    for path, method, operation in operations:
        links: dict[str, Any] = {}
        status = "201" if method == "post" and "201" in operation["responses"] else None
        if status:
            links.update(_links_to_new_record(schema, path, operation, records, operations))
            links.update(_link_to_parent(path, operation, records))
        ok = next((s for s in operation["responses"] if s.startswith("2")), None)
        if ok and "ETag" in operation["responses"][ok].get("headers", {}):
            status = status or ok
            links.update(_links_to_conditional_writes(path, method, operations))
        if status and links:
            operation["responses"][status]["links"] = links


def _links_to_new_record(
    schema: dict[str, Any],
    path: str,
    operation: dict[str, Any],
    records: dict[str, dict[str, Any]],
    operations: list[tuple[str, str, dict[str, Any]]],
) -> dict[str, Any]:
    """Links from a 201 to every operation on the new record's path and below it."""
    found = _created_record(schema, path, operation, records)
    if found is None:
        return {}
    record_path, pointer, record = found
    base = pointer.rsplit("/", 1)[0]  # the record itself: "" or "/items/0"
    record_parameter = _path_parameters(record_path)[-1]
    source_parameters = set(_path_parameters(path))
    links: dict[str, Any] = {}
    for target_path, target_method, target in operations:
        if target_path != record_path and not target_path.startswith(record_path + "/"):
            continue
        parameters: dict[str, str] = {}
        for name in _path_parameters(target_path):
            if name == record_parameter:
                parameters[name] = f"$response.body#{pointer}"
            elif name in source_parameters:
                parameters[name] = f"$request.path.{name}"
            else:
                # A record inside the new one, e.g. /children/{child_id}: its first element's id.
                nested = _nested_record(schema, record, target_path, name)
                if nested is None:
                    break  # nothing in the response fills this parameter: no link
                collection, has_etag = nested
                parameters[name] = f"$response.body#{base}/{collection}/0/id"
                if target_method in _WRITES and has_etag:
                    parameters["If-Match"] = f"$response.body#{base}/{collection}/0/etag"
        else:
            links[target["operationId"]] = _link(target, parameters, ": the record just created.")
    return links


def _created_record(
    schema: dict[str, Any], path: str, operation: dict[str, Any], records: dict[str, dict[str, Any]]
) -> tuple[str, str, dict[str, Any]] | None:
    """The single-record GET path of what a create made, the JSON pointer to its id, and its schema."""
    body = _json_body(operation["responses"]["201"])
    prefix, refs = "", _refs(body)
    items = _component(schema, body).get("properties", {}).get("items", {}).get("items")
    if items is not None:  # a list of new records (one per agency asked): link to the first
        prefix, refs = "/items/0", _refs(items)
    for record_path, record_op in records.items():
        parameter = _path_parameters(record_path)[-1]
        same_path = record_path == f"{path}/{{{parameter}}}"
        if same_path or (refs and refs & _refs(_json_body(record_op["responses"].get("200", {})))):
            record = _component(schema, items if items is not None else body)
            field = parameter if parameter in record.get("properties", {}) else "id"
            return record_path, f"{prefix}/{field}", record
    return None


def _link_to_parent(
    path: str, operation: dict[str, Any], records: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """A create under a record (a decision on a referral) changes that record: link to its GET."""
    parents = [p for p in records if path.startswith(p + "/")]
    if not parents:
        return {}
    parent = max(parents, key=len)
    target = records[parent]
    parameters = {name: f"$request.path.{name}" for name in _path_parameters(parent)}
    return {target["operationId"]: _link(target, parameters, ": the record this one was added to.")}


def _links_to_conditional_writes(
    path: str, method: str, operations: list[tuple[str, str, dict[str, Any]]]
) -> dict[str, Any]:
    """The ETag a response carries is the If-Match of the writes on the same record."""
    links: dict[str, Any] = {}
    for target_path, target_method, target in operations:
        if target_path != path or target_method not in _WRITES:
            continue
        parameters = {name: f"$request.path.{name}" for name in _path_parameters(path)}
        parameters["If-Match"] = "$response.header.ETag"
        links[target["operationId"]] = _link(target, parameters, ", with this response's ETag.")
    return links


def _nested_record(
    schema: dict[str, Any], record: dict[str, Any], target_path: str, parameter: str
) -> tuple[str, bool] | None:
    """For ``.../{collection}/{parameter}``: the record's array property of that name, and if it has etags."""
    segments = target_path.split("/")
    collection = segments[segments.index(f"{{{parameter}}}") - 1]
    prop = record.get("properties", {}).get(collection, {})
    item = _component(schema, prop.get("items", {})) if prop.get("type") == "array" else {}
    properties = item.get("properties", {})
    return (collection, "etag" in properties) if "id" in properties else None


def _path_parameters(path: str) -> list[str]:
    return _PATH_PARAMETER.findall(path)


def _link(target: dict[str, Any], parameters: dict[str, str], why: str) -> dict[str, Any]:
    """An OpenAPI link to ``target``, described by its summary followed by ``why``."""
    summary = target.get("summary", target["operationId"])
    return {"operationId": target["operationId"], "parameters": parameters, "description": f"{summary}{why}"}


def _json_body(response: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = response.get("content", {}).get("application/json", {}).get("schema", {})
    return body


def _refs(schema: dict[str, Any]) -> set[str]:
    return {branch["$ref"] for branch in schema.get("oneOf", [schema]) if "$ref" in branch}


def _component(schema: dict[str, Any], reference: dict[str, Any]) -> dict[str, Any]:
    """The component a schema names (the first branch of a oneOf), or the schema itself."""
    ref = reference.get("oneOf", [reference])[0].get("$ref")
    if ref is None:
        return reference
    found: dict[str, Any] = schema.get("components", {}).get("schemas", {}).get(ref.rsplit("/", 1)[1], {})
    return found

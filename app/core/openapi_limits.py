"""What the OpenAPI document says about limits, applied to the whole generated document at once.

Rate limiting (a 429 on every operation; the ``RateLimit-*`` headers on its 2xx and 4xx answers), the
lengths that formats imply (a UUID is 36 characters), the integer width that bounds imply, and optional
query parameters documented as what they are on the wire. The bounds themselves live on the pydantic
models and parameters, where they are enforced; this module only writes down their consequences, so the
linted spec (``make spec-check``: Spectral with the OWASP rules) tells the truth about every operation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

INT32_MIN, INT32_MAX = -(2**31), 2**31 - 1
# The largest integer a JavaScript number holds exactly: the bound of counts and sequence numbers.
MAX_SAFE_INTEGER = 2**53 - 1

# The longest spelling of each format the API writes or documents (RFC 3339 with nanoseconds and an
# offset for instants); values are parsed, so anything longer is not one of these anyway.
FORMAT_MAX_LENGTH = {
    "uuid": 36,
    "date": 10,
    "date-time": 35,
    "time": 21,
    "email": 254,  # RFC 5321; pydantic's email validator refuses longer addresses
    "uri": 2048,
    "uri-reference": 2048,
}

FORM_MEDIA_TYPE = "application/x-www-form-urlencoded"

RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "RateLimit-Limit": {
        "description": "Requests this client may make in the current window.",
        "schema": {"type": "integer", "minimum": 0, "maximum": INT32_MAX},
    },
    "RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "schema": {"type": "integer", "minimum": 0, "maximum": INT32_MAX},
    },
    "RateLimit-Reset": {
        "description": "Seconds until the current window ends and the count starts again.",
        "schema": {"type": "integer", "minimum": 0, "maximum": INT32_MAX},
    },
}
RETRY_AFTER = {
    "description": "Seconds to wait before retrying.",
    "required": True,
    "schema": {"type": "integer", "minimum": 0, "maximum": INT32_MAX},
}


def document_limits(schema: dict[str, Any], too_many_requests: dict[str, Any]) -> None:
    """Apply everything below to a document built by FastAPI; ``too_many_requests`` is the 429 response."""
    _document_rate_limits(schema, too_many_requests)
    _query_parameters_without_null(schema)
    _walk(schema, _bounds_of_formats)


def _document_rate_limits(schema: dict[str, Any], too_many_requests: dict[str, Any]) -> None:
    headers = schema.setdefault("components", {}).setdefault("headers", {})
    headers.update(RATE_LIMIT_HEADERS)
    headers["Retry-After"] = RETRY_AFTER
    rate_limit_refs = {name: {"$ref": f"#/components/headers/{name}"} for name in RATE_LIMIT_HEADERS}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.get("responses", {})
            responses.setdefault(
                "429",
                {
                    **too_many_requests,
                    "headers": {"Retry-After": {"$ref": "#/components/headers/Retry-After"}},
                },
            )
            for status, response in responses.items():
                if status.startswith(("2", "4")):
                    response.setdefault("headers", {}).update(rate_limit_refs)


def _query_parameters_without_null(schema: dict[str, Any]) -> None:
    """``x: T | None = None`` documents ``anyOf: [T, null]``, but a query string, a header or a form
    field cannot carry null: an optional one is either absent or a ``T``."""
    components = schema.get("components", {}).get("schemas", {})
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            for parameter in operation.get("parameters", []):
                if not parameter.get("required") and parameter.get("in") in ("query", "header"):
                    _without_null(parameter.get("schema", {}))
            form = operation.get("requestBody", {}).get("content", {}).get(FORM_MEDIA_TYPE, {})
            ref = form.get("schema", {}).get("$ref", "")
            for field in components.get(ref.rsplit("/", 1)[-1], {}).get("properties", {}).values():
                _without_null(field)


def _without_null(node: dict[str, Any]) -> None:
    options = node.get("anyOf", [])
    not_null = [option for option in options if option.get("type") != "null"]
    if len(options) == 2 and len(not_null) == 1:
        del node["anyOf"]
        node.update(not_null[0])


def _bounds_of_formats(node: dict[str, Any]) -> None:
    kind = node.get("type")
    if kind == "string" and node.get("format") in FORMAT_MAX_LENGTH and "maxLength" not in node:
        node["maxLength"] = FORMAT_MAX_LENGTH[node["format"]]
    if (
        kind == "string"
        and "formatMinimum" in node
        and node["formatMinimum"] not in node.get("description", "")
    ):
        # A field's own description replaces its type's: say the bound there too, for readers of the docs.
        lead = node.get("description", "").rstrip(".")
        bound = f"{node['formatMinimum']} or later, as YYYY-MM-DD."
        node["description"] = f"{lead}; {bound}" if lead else bound.capitalize()
    elif kind == "integer" and "format" not in node and "minimum" in node and "maximum" in node:
        node["format"] = "int32" if node["minimum"] >= INT32_MIN and node["maximum"] <= INT32_MAX else "int64"


def _walk(node: Any, visit: Callable[[dict[str, Any]], None]) -> None:
    if isinstance(node, dict):
        visit(node)
        for key, value in node.items():
            if key not in ("example", "examples"):  # values, not schemas
                _walk(value, visit)
    elif isinstance(node, list):
        for value in node:
            _walk(value, visit)

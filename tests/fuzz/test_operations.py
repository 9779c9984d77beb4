"""Every operation, fuzzed one by one: schema examples, coverage cases and generated ones.

Each case goes to the app in process with a token of a role that may call the operation; the response
must not be a 5xx, and its status code, content type, headers and body must be the documented ones.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import strategies as st

from tests.fuzz.conftest import KNOWN_IDS, SPEC, FuzzApi
from tests.fuzz.schema import CONFIG

pytestmark = pytest.mark.fuzz

schema = schemathesis.openapi.from_dict(SPEC, config=CONFIG)


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    # Path parameters come from the seeded records as well as at random, so handlers run on real
    # records and not only to a 404.
    if not path_parameters:
        return st.just(path_parameters)
    return st.fixed_dictionaries(
        {name: st.sampled_from([value, *KNOWN_IDS.get(name, [])]) for name, value in path_parameters.items()}
    )


@schema.hook
def flatmap_body(context: Any, body: Any) -> st.SearchStrategy[Any]:
    # Likewise the ids a body refers to (person_id, concern_id, advocate_id): a capacity assessment or
    # a plan for a person who exists gets past the lookup to the rules that follow it.
    if not isinstance(body, dict) or not any(name in KNOWN_IDS for name in body):
        return st.just(body)
    return st.fixed_dictionaries(
        {
            name: st.sampled_from([value, *KNOWN_IDS[name]]) if name in KNOWN_IDS else st.just(value)
            for name, value in body.items()
        }
    )


# Stands for the record's current ETag in If-Match; replaced by it just before the call.
CURRENT_ETAG = "current-etag"


@schema.hook
def flatmap_headers(context: Any, headers: dict[str, Any] | None) -> st.SearchStrategy[Any]:
    # A random If-Match only ever gets 412: send the current ETag too, so writes reach their rules.
    if not isinstance(headers, dict) or "If-Match" not in headers:
        return st.just(headers)
    return st.sampled_from([headers, {**headers, "If-Match": CURRENT_ETAG}])


@schema.parametrize()
def test_operation(case: schemathesis.Case[Any], fuzz_api: FuzzApi) -> None:
    method, path = case.operation.method, case.operation.path
    if case.headers and case.headers.get("If-Match") == CURRENT_ETAG:
        case.headers["If-Match"] = fuzz_api.current_etag(case.formatted_path, path) or CURRENT_ETAG
    case.call_and_validate(**fuzz_api.call_kwargs(method, path))

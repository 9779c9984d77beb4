"""Cursors are the API's own, but clients send them back: any cursor the API did not issue, whatever it
holds, is a 422 ``invalid_cursor`` problem on every list that takes one, never a 500."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

from tests.fixtures.callers import TokenFactory
from tests.fixtures.http import assert_problem

UUID = "0b6f8a2e-51a3-4d6b-9a55-2f1d8c9e7a10"
INSTANT = "2026-04-01T00:00:00+00:00"


def cursor_of(value: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def raw_cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


# (list, who may read it, extra query parameters) for each kind of key a cursor holds.
Target = tuple[str, tuple[str, str], dict[str, str]]
SEQUENCE_LISTS: list[Target] = [
    ("/v1/audit-events", ("auditor", "childrens_social_care"), {}),
    ("/v1/audit-events", ("auditor", "childrens_social_care"), {"order": "newest_first"}),
    ("/v1/events", ("partner_referrer", "police"), {}),
]
CIN: Target = (
    "/v1/reports/cin-referrals",
    ("auditor", "childrens_social_care"),
    {"from": "2026-04-01", "to": "2026-04-30"},
)
CLIENTS: Target = ("/v1/clients", ("admin", "childrens_social_care"), {})
AGENCIES: Target = ("/v1/agencies", ("admin", "childrens_social_care"), {})

CASES = [
    # integers past what a 64-bit column, a JavaScript number or a sequence number can hold
    *[(lst, cursor_of([n])) for lst in SEQUENCE_LISTS for n in (2**63, -(2**63) - 1, 2**64, 2**53, 10**30)],
    *[(lst, cursor_of([v])) for lst in SEQUENCE_LISTS for v in (True, 1.5, "7", None, [1], {"seq": 1})],
    *[(lst, raw_cursor("[1e400]")) for lst in SEQUENCE_LISTS],
    *[(lst, raw_cursor("[NaN]")) for lst in SEQUENCE_LISTS],
    # a child's position past a 16-bit column; a uuid or an instant of the wrong type
    (CIN, cursor_of([INSTANT, UUID, 2**15])),
    (CIN, cursor_of([INSTANT, UUID, 2**40])),
    (CIN, cursor_of([INSTANT, 12345, 0])),
    (CIN, cursor_of([INSTANT, [UUID], 0])),
    (CIN, cursor_of([1700000000, UUID, 0])),
    # instants that cannot be moved to UTC, or are naive
    (CLIENTS, cursor_of(["0001-01-01T00:00:00+14:00", UUID])),
    (CLIENTS, cursor_of(["9999-12-31T23:59:59-14:00", UUID])),
    (CLIENTS, cursor_of(["2026-04-01T00:00:00", UUID])),
    (CLIENTS, cursor_of([INSTANT, {"hex": UUID}])),
    # text PostgreSQL cannot hold (NUL, a lone surrogate)
    (AGENCIES, cursor_of(["police\u0000"])),
    (AGENCIES, raw_cursor('["\\ud800"]')),
    (AGENCIES, cursor_of([7])),
    # not base64 of JSON at all
    *[
        (lst, c)
        for lst in (SEQUENCE_LISTS[0], CLIENTS)
        for c in ("a", "____", "-_-_", raw_cursor("[1,"), "AA")
    ],
]


def _case_id(case: Any) -> str:
    if isinstance(case, tuple):
        path, _, params = case
        return f"{path}{'?' + '&'.join(map('='.join, params.items())) if params else ''}"
    try:
        return base64.urlsafe_b64decode(case + "=" * (-len(case) % 4)).decode()[:60]
    except ValueError:
        return f"raw:{case}"


@pytest.mark.parametrize(("target", "cursor"), CASES, ids=_case_id)
async def test_a_cursor_the_api_did_not_issue_is_refused_never_a_500(
    client: httpx.AsyncClient,
    auth: TokenFactory,
    target: Target,
    cursor: str,
) -> None:
    path, (role, agency), params = target
    response = await client.get(path, params={**params, "cursor": cursor}, headers=auth(role, agency))
    assert_problem(response, 422, "invalid_cursor")
